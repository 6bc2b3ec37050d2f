"""Shared fixtures: the fixed test federation of `tests/vectors/builders.py`."""

from __future__ import annotations

import pytest

from sdgcities.credentials import TrustList
from tests.vectors.builders import Federation, federation, trust_list


@pytest.fixture(scope="session")
def fed() -> Federation:
    return federation()


@pytest.fixture(scope="session")
def accepted_trust_list() -> TrustList:
    """The federation's current trust list, signed by the pinned root and accepted at NOW."""
    return trust_list()
