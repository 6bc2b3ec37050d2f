"""One-time links that let a person set a password: an invitation, or a password reset.

The link carries 256 random bits; the table keeps their SHA-256. A link works once, until it
expires; a new link of the same purpose replaces the person's earlier ones, and setting a
password spends every link the person holds.

LinkError
└── LinkUnusable    unknown, expired or already used (one answer for all three)
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import PasswordHashCost
from sdgcities.node.timeutil import as_utc

from .models import LinkPurpose, OneTimeLink, User
from .passwords import PasswordProblem, hash_password, password_problem
from .tokens import hash_token

_LINK_BYTES = 32
MAX_LINK_CHARS = 64


class LinkError(Exception):
    pass


class LinkUnusable(LinkError):
    pass


class WeakPassword(Exception):
    def __init__(self, problem: PasswordProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def issue_link(
    *, session: Session, user: User, purpose: LinkPurpose, lifetime: timedelta, now: datetime
) -> str:
    """A new link's secret (put it in a mail; it is not stored)."""
    assert user.id is not None
    _spend_links(session, user.id, now, purpose=purpose)
    secret = secrets.token_urlsafe(_LINK_BYTES)
    session.add(
        OneTimeLink(
            token_hash=hash_token(secret),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return secret


def usable_link(*, session: Session, secret: str, now: datetime) -> tuple[OneTimeLink, User]:
    if not 0 < len(secret) <= MAX_LINK_CHARS:
        raise LinkUnusable()
    found = session.exec(
        select(OneTimeLink, User)
        .join(User, col(User.id) == col(OneTimeLink.user_id))
        .where(OneTimeLink.token_hash == hash_token(secret))
    ).first()
    if found is None:
        raise LinkUnusable()
    link, user = found
    if link.used_at is not None or as_utc(link.expires_at) <= now or not user.active:
        raise LinkUnusable()
    return link, user


def set_password(
    *, session: Session, user: User, password: str, now: datetime, cost: PasswordHashCost
) -> None:
    """Sets a new password (raises `WeakPassword`); every link the person holds is spent."""
    problem = password_problem(password, email=user.email)
    if problem is not None:
        raise WeakPassword(problem)
    assert user.id is not None
    user.password_hash = hash_password(password, cost)
    user.password_changed_at = now
    session.add(user)
    _spend_links(session, user.id, now)
    record(
        session=session,
        actor=Actor(role=user.role, user_id=user.id, city_locode=user.city_locode, name=user.name),
        action="user.password",
        target_type="user",
        target_id=user.id,
    )


def set_password_with_link(
    *, session: Session, secret: str, password: str, now: datetime, cost: PasswordHashCost
) -> User:
    link, user = usable_link(session=session, secret=secret, now=now)
    # Checked before the link is spent: a weak password leaves the link usable for a better one.
    problem = password_problem(password, email=user.email)
    if problem is not None:
        raise WeakPassword(problem)
    # Spend it first, conditionally: of two posts of one link at once, only one sets a password.
    spent = session.exec(
        update(OneTimeLink)
        .where(col(OneTimeLink.id) == link.id, col(OneTimeLink.used_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise LinkUnusable()
    set_password(session=session, user=user, password=password, now=now, cost=cost)
    session.flush()
    return user


def newest_link_at(*, session: Session, user: User, purpose: LinkPurpose) -> datetime | None:
    """When the person's newest link of `purpose` was made, used or not (None: never)."""
    newest = session.exec(
        select(OneTimeLink.created_at)
        .where(col(OneTimeLink.user_id) == user.id, col(OneTimeLink.purpose) == purpose)
        .order_by(col(OneTimeLink.created_at).desc())
        .limit(1)
    ).first()
    return as_utc(newest) if newest is not None else None


def _spend_links(
    session: Session, user_id: int, now: datetime, *, purpose: LinkPurpose | None = None
) -> None:
    statement = update(OneTimeLink).where(
        col(OneTimeLink.user_id) == user_id, col(OneTimeLink.used_at).is_(None)
    )
    if purpose is not None:
        statement = statement.where(col(OneTimeLink.purpose) == purpose)
    session.exec(statement.values(used_at=now))
    session.flush()
