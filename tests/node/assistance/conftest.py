from __future__ import annotations

import pytest

from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..review.factories import ReviewWorld, make_world


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)
