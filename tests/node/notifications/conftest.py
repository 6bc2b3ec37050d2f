"""The `desk` (a committee, its secretariat, two cities) and the review `world` fixtures."""

import pytest

from ..certification import Desk, desk
from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..review.factories import ReviewWorld, make_world

__all__ = ["Desk", "desk"]


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)
