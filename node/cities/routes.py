from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import Admin, SessionDep, StateDep, access
from sdgcities.node.schemas import Limit, Offset

from . import service
from .schemas import CitiesPublic, CityCreate, CityPublic, CityUpdate

router = APIRouter(prefix="/cities", tags=["cities"])

Staff = Annotated[
    Actor,
    access(
        Role.ADMINISTRATOR,
        Role.SECRETARIAT,
        Role.REVIEWER,
        Role.COMMITTEE_MEMBER,
        Role.CITY_APPLICANT,
    ),
]


@router.post("", status_code=status.HTTP_201_CREATED)
def register_city(
    session: SessionDep, state: StateDep, actor: Admin, body: CityCreate
) -> CityPublic:
    """Register a city: on a national node, of its own country; on the global node, of a
    country without a national node (409 with a `referral` to that node otherwise)."""
    city = service.create_city(
        session=session, data=body, node_id=state.settings.node_id, actor=actor
    )
    return CityPublic.model_validate(city)


@router.get("")
def list_cities(
    session: SessionDep,
    actor: Staff,
    q: Annotated[str | None, Query(max_length=100)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> CitiesPublic:
    cities, count = service.list_cities(
        session=session, actor=actor, offset=offset, limit=limit, q=q
    )
    return CitiesPublic(data=[CityPublic.model_validate(c) for c in cities], count=count)


@router.get("/{locode}")
def get_city(session: SessionDep, actor: Staff, locode: str) -> CityPublic:
    return CityPublic.model_validate(
        service.get_city_or_raise(session=session, locode=locode, actor=actor)
    )


@router.patch("/{locode}")
def update_city(session: SessionDep, actor: Admin, locode: str, body: CityUpdate) -> CityPublic:
    city = service.get_city_or_raise(session=session, locode=locode, actor=actor)
    return CityPublic.model_validate(
        service.update_city(session=session, city=city, data=body, actor=actor)
    )
