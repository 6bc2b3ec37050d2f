from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, status

from sdgcities.node.actor import Actor
from sdgcities.node.deps import Admin, SessionDep, StateDep, access
from sdgcities.node.schemas import Id, Limit, Offset

from . import service
from .models import Role
from .schemas import (
    TokenCreate,
    TokenCreated,
    TokenPublic,
    TokensPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)

router = APIRouter(prefix="/admin", tags=["accounts"])


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(session: SessionDep, actor: Admin, body: UserCreate) -> UserPublic:
    return UserPublic.model_validate(service.create_user(session=session, data=body, actor=actor))


@router.get("/users")
def list_users(
    session: SessionDep,
    _actor: Admin,
    role: Role | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> UsersPublic:
    users, count = service.list_users(session=session, offset=offset, limit=limit, role=role)
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=count)


@router.get("/users/{user_id}")
def get_user(session: SessionDep, _actor: Admin, user_id: Id) -> UserPublic:
    return UserPublic.model_validate(service.get_user_or_raise(session=session, user_id=user_id))


@router.patch("/users/{user_id}")
def update_user(session: SessionDep, actor: Admin, user_id: Id, body: UserUpdate) -> UserPublic:
    user = service.get_user_or_raise(session=session, user_id=user_id)
    return UserPublic.model_validate(
        service.update_user(session=session, user=user, data=body, actor=actor)
    )


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED)
def issue_token(
    session: SessionDep, state: StateDep, actor: Admin, user_id: Id, body: TokenCreate
) -> TokenCreated:
    user = service.get_user_or_raise(session=session, user_id=user_id)
    days = body.lifetime_days or state.settings.token_lifetime_days
    token, secret = service.issue_token(
        session=session, user=user, label=body.label, lifetime=timedelta(days=days), actor=actor
    )
    return TokenCreated.model_validate({**token.model_dump(), "token": secret})


@router.get("/users/{user_id}/tokens")
def list_tokens(session: SessionDep, _actor: Admin, user_id: Id) -> TokensPublic:
    service.get_user_or_raise(session=session, user_id=user_id)
    tokens = service.list_tokens(session=session, user_id=user_id)
    return TokensPublic(data=[TokenPublic.model_validate(t) for t in tokens], count=len(tokens))


@router.delete("/tokens/{token_id}")
def revoke_token(session: SessionDep, actor: Admin, token_id: Id) -> TokenPublic:
    return TokenPublic.model_validate(
        service.revoke_token(session=session, token_id=token_id, actor=actor)
    )


me_router = APIRouter(tags=["accounts"])


SignedIn = Annotated[
    Actor,
    access(
        Role.ADMINISTRATOR,
        Role.REVIEWER,
        Role.COMMITTEE_MEMBER,
        Role.SECRETARIAT,
        Role.CITY_APPLICANT,
    ),
]
"""Any person with an account (not the anonymous public)."""


@me_router.get("/me")
def who_am_i(session: SessionDep, actor: SignedIn) -> UserPublic:
    assert actor.user_id is not None
    return UserPublic.model_validate(
        service.get_user_or_raise(session=session, user_id=actor.user_id)
    )
