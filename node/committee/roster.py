"""Who is on the committee (§26a, §28): its members past, present and future, and whether one
sits on a given day (`quorum.is_sitting`: an active account within its term).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.timeutil import utcnow

from .quorum import is_sitting


def today() -> date:
    return utcnow().date()


def list_members(*, session: Session) -> list[User]:
    """Every committee member past, present and future, newest term first."""
    return list(
        session.exec(
            select(User)
            .where(User.role == Role.COMMITTEE_MEMBER)
            .order_by(col(User.term_start).desc().nulls_last(), col(User.name), col(User.id))
        ).all()
    )


def standing(member: User, on: date) -> str:
    """`sitting`, `past` (term ended), `future` (term not begun) or `inactive` (deactivated)."""
    if not member.active:
        return "inactive"
    if member.term_end is not None and on > member.term_end:
        return "past"
    if member.term_start is not None and on < member.term_start:
        return "future"
    return "sitting"


def sitting_members(*, session: Session, on: date) -> list[User]:
    return [member for member in list_members(session=session) if is_sitting(member, on)]


def not_sitting_reason(member: User, on: date) -> str:
    if not member.active:
        return f"the account of {member.name} is deactivated"
    if member.term_end is not None and on > member.term_end:
        return (
            f"the committee term of {member.name} ended on {member.term_end.isoformat()}: "
            "members whose term has ended cannot vote"
        )
    assert member.term_start is not None
    return f"the committee term of {member.name} begins on {member.term_start.isoformat()}"
