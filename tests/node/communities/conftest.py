from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.cities.models import City

from ..conftest import Account, MakeAccount, MakeCity, MakeFramework
from ..review.factories import ReviewWorld, make_world
from ..web.conftest import sign_in

__all__ = ["sign_in"]


@dataclass
class CommunityWorld:
    """The review world (Nairobi, Mombasa), and Kisumu, which applies for nothing."""

    review: ReviewWorld
    kisumu: Account


@pytest.fixture
def world(
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
    session: Session,
) -> CommunityWorld:
    review = make_world(make_city, make_account, make_framework)
    make_city("KE-KIS", "Kisumu")
    for locode, priorities in (
        ("KE-NBO", ["Urban water", "housing"]),
        ("KE-MBA", ["urban water", "ports"]),
    ):
        city = session.get(City, locode)
        assert city is not None
        city.priorities = priorities
        session.add(city)
    session.commit()
    return CommunityWorld(review, make_account(Role.CITY_APPLICANT, city_locode="KE-KIS"))
