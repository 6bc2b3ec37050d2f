from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, func, select

from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.db import page_of
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
    if _holds_administration(user) and (
        changes.get("active") is False or changes.get("role", Role.ADMINISTRATOR) != user.role
    ):
        _keep_an_administrator(session=session, losing_user_id=user.id)
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
    return page_of(
        session,
        User,
        conditions=[] if role is None else [User.role == role],
        order_by=[col(User.id)],
        offset=offset,
        limit=limit,
    )


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
    holder = session.get(User, token.user_id)
    if holder is not None and _holds_administration(holder):
        _keep_an_administrator(session=session, losing_token_id=token.id)
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


def _holds_administration(user: User) -> bool:
    return user.role is Role.ADMINISTRATOR and user.active


def _keep_an_administrator(
    *, session: Session, losing_user_id: int | None = None, losing_token_id: int | None = None
) -> None:
    """Refuse a change after which no active administrator holds a valid token.

    Only an administrator issues tokens and reactivates accounts through the API, so such a
    change would lock the node for good. The active administrators' rows are locked first:
    two administrators revoking each other's last token at once cannot both pass.
    """
    session.exec(
        select(User.id)
        .where(User.role == Role.ADMINISTRATOR, col(User.active).is_(True))
        .with_for_update()
    ).all()
    holders = (
        select(func.count())
        .select_from(ApiToken)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(
            User.role == Role.ADMINISTRATOR,
            col(User.active).is_(True),
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > utcnow(),
        )
    )
    if losing_user_id is not None:
        holders = holders.where(col(User.id) != losing_user_id)
    if losing_token_id is not None:
        holders = holders.where(col(ApiToken.id) != losing_token_id)
    if session.exec(holders).one() == 0:
        raise Conflict(
            "this would leave no active administrator with a valid token and lock the node: "
            "issue another administrator a token first"
        )


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id))
        ).all()
    )
