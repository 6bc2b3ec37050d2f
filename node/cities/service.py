from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import GLOBAL_NODE_ID
from sdgcities.node.db import page_of
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound

from .models import City
from .referral import check_certified_here
from .schemas import CityCreate, CityUpdate


def visible_to(actor: Actor, locode: str) -> bool:
    """A city applicant sees only its own city; staff roles see every city of the node."""
    return actor.role is not Role.CITY_APPLICANT or actor.city_locode == locode


def get_city_or_raise(*, session: Session, locode: str, actor: Actor) -> City:
    # Another city's data answers 404, exactly as a city that does not exist.
    city = session.get(City, locode) if visible_to(actor, locode) else None
    if city is None:
        raise NotFound(f"no city {locode}")
    return city


def create_city(*, session: Session, data: CityCreate, node_id: str, actor: Actor) -> City:
    country = data.locode[:2]
    if node_id != GLOBAL_NODE_ID and country != node_id:
        raise InvalidRequest(
            f"this is the {node_id} national node: it registers {node_id} cities only, "
            f"not {country}"
        )
    if session.get(City, data.locode) is not None:
        raise Conflict(f"city {data.locode} is already registered")
    check_certified_here(session=session, node_id=node_id, locode=data.locode)
    city = City.model_validate({**data.model_dump(), "country": country})
    session.add(city)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="city.create",
        target_type="city",
        target_id=city.locode,
    )
    return city


def update_city(*, session: Session, city: City, data: CityUpdate, actor: Actor) -> City:
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(city, name, value)
    session.add(city)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="city.update",
        target_type="city",
        target_id=city.locode,
        detail={"fields": sorted(changes)},
    )
    return city


def list_cities(
    *, session: Session, actor: Actor, offset: int, limit: int, q: str | None = None
) -> tuple[list[City], int]:
    conditions: list[Any] = []
    if actor.role is Role.CITY_APPLICANT:
        conditions.append(City.locode == actor.city_locode)
    if q:
        conditions.append(func.lower(City.name).like(f"%{q.lower()}%"))
    return page_of(
        session,
        City,
        conditions=conditions,
        order_by=[col(City.locode)],
        offset=offset,
        limit=limit,
    )
