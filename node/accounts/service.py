from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, func, select

from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.timeutil import utcnow

from .models import ApiToken, Role, User
from .schemas import UserCreate, UserUpdate
from .tokens import hash_token, new_token


def get_user_or_raise(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def create_user(*, session: Session, data: UserCreate, actor: Actor) -> User:
    if session.exec(select(User).where(User.email == data.email)).first() is not None:
        raise Conflict(f"a user with email {data.email} already exists")
    if data.city_locode is not None:
        from sdgcities.node.cities.service import get_city_or_raise

        get_city_or_raise(session=session, locode=data.city_locode, actor=actor)
    user = User.model_validate(data.model_dump())
    session.add(user)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        detail={"role": user.role.value},
    )
    return user


def update_user(*, session: Session, user: User, data: UserUpdate, actor: Actor) -> User:
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(user, name, value)
    if user.term_start and user.term_end and user.term_end < user.term_start:
        raise InvalidRequest("term_end is before term_start")
    session.add(user)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="user.update",
        target_type="user",
        target_id=user.id,
        detail={"fields": sorted(changes)},
    )
    return user


def list_users(
    *, session: Session, offset: int, limit: int, role: Role | None = None
) -> tuple[list[User], int]:
    query, count = select(User), select(func.count()).select_from(User)
    if role is not None:
        query, count = query.where(User.role == role), count.where(User.role == role)
    users = session.exec(query.order_by(col(User.id)).offset(offset).limit(limit)).all()
    return list(users), session.exec(count).one()


def issue_token(
    *, session: Session, user: User, label: str, lifetime: timedelta, actor: Actor
) -> tuple[ApiToken, str]:
    """A new token for `user`; the secret is returned once and never stored."""
    if not user.active:
        raise Conflict("cannot issue a token to a deactivated account")
    assert user.id is not None
    secret = new_token()
    token = ApiToken(
        user_id=user.id,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        label=label,
        expires_at=utcnow() + lifetime,
    )
    session.add(token)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="token.issue",
        target_type="user",
        target_id=user.id,
        detail={"token_id": token.id, "label": label},
    )
    return token, secret


def revoke_token(*, session: Session, token_id: int, actor: Actor) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is not None:
        raise Conflict("this token is already revoked")
    token.revoked_at = utcnow()
    session.add(token)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="token.revoke",
        target_type="token",
        target_id=token.id,
    )
    return token


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id))
        ).all()
    )
