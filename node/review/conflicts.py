"""Conflicts of interest (§26): a reviewer declares their own conflict with a city, an
administrator declares one for a reviewer. A reviewer with a conflict is not assigned to the
city's applications, and one who declares it after being assigned can do nothing more on them
until an administrator replaces them (`assignment`).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.db import page_of, saved_id
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest

from .models import ReviewerConflict
from .schemas import ConflictCreate


def declare_conflict(*, session: Session, data: ConflictCreate, actor: Actor) -> ReviewerConflict:
    """A reviewer declares their own conflict; an administrator declares one for a reviewer."""
    if actor.role is Role.REVIEWER:
        if data.reviewer_id is not None and data.reviewer_id != actor.user_id:
            raise Forbidden("a reviewer declares their own conflicts of interest only")
        reviewer_id = saved_id(actor.user_id)
    else:
        if data.reviewer_id is None:
            raise InvalidRequest("reviewer_id is required: name the reviewer the conflict is for")
        reviewer = session.get(User, data.reviewer_id)
        if reviewer is None or reviewer.role is not Role.REVIEWER:
            raise InvalidRequest(f"user {data.reviewer_id} is not a reviewer")
        reviewer_id = data.reviewer_id
    get_city_or_raise(session=session, locode=data.city_locode, actor=actor)
    existing = declared_conflict(session=session, reviewer_id=reviewer_id, locode=data.city_locode)
    if existing is not None:
        raise Conflict(
            f"reviewer {reviewer_id} already declared a conflict of interest with city "
            f"{data.city_locode} on {existing.declared_at.date().isoformat()}"
        )
    conflict = ReviewerConflict(
        reviewer_id=reviewer_id,
        city_locode=data.city_locode,
        reason=data.reason,
        declared_by=actor.user_id,
    )
    session.add(conflict)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.conflict.declare",
        target_type="user",
        target_id=reviewer_id,
        detail={"city": data.city_locode, "conflict": conflict.id},
    )
    return conflict


def declared_conflict(
    *, session: Session, reviewer_id: int, locode: str
) -> ReviewerConflict | None:
    return session.exec(
        select(ReviewerConflict).where(
            ReviewerConflict.reviewer_id == reviewer_id, ReviewerConflict.city_locode == locode
        )
    ).first()


def list_conflicts(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    reviewer_id: int | None = None,
    city_locode: str | None = None,
) -> tuple[list[ReviewerConflict], int]:
    """A reviewer's own conflicts; administrators and the secretariat see everyone's."""
    conditions = []
    if actor.role is Role.REVIEWER:
        conditions.append(col(ReviewerConflict.reviewer_id) == actor.user_id)
    if reviewer_id is not None:
        conditions.append(col(ReviewerConflict.reviewer_id) == reviewer_id)
    if city_locode is not None:
        conditions.append(col(ReviewerConflict.city_locode) == city_locode)
    return page_of(
        session,
        ReviewerConflict,
        conditions=conditions,
        order_by=[col(ReviewerConflict.id).desc()],
        offset=offset,
        limit=limit,
    )
