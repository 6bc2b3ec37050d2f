from __future__ import annotations

import pytest

from sdgcities.node.frameworks import FrameworkDocument, load_baseline

from .factories import make_national


@pytest.fixture
def baseline() -> FrameworkDocument:
    return load_baseline()


@pytest.fixture
def kenya() -> FrameworkDocument:
    return make_national("KE")
