"""FastAPI dependencies: the per-request session, the caller, and who may call each endpoint.

Every route declares its callers with `access(...)`; the declaration is kept on the dependency
(`RoleGuard.roles`) so the OpenAPI description and the role-matrix test read the same list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session, select

from .accounts.models import ApiToken, Role, User
from .accounts.tokens import hash_token, looks_like_token
from .actor import PUBLIC, Actor
from .db import SessionOpener, session_opener, session_scope
from .errors import Forbidden, Unauthenticated
from .state import NodeState
from .timeutil import as_utc, utcnow


# Async because it only reads the app: a sync dependency would cost each request a trip
# through the thread pool.
async def get_state(request: Request) -> NodeState:
    state: NodeState = request.app.state.node
    return state


StateDep = Annotated[NodeState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    yield from session_scope(state.engine)


def get_read_session(state: StateDep) -> Iterator[Session]:
    yield from session_scope(state.engine, write=False)


# scope="function": the transaction commits when the endpoint returns, before the response is
# sent, so a client never sees success for something that was not stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# For endpoints that only read (the public registry, lookups).
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


async def get_read_session_opener(state: StateDep) -> SessionOpener:
    return session_opener(state.engine, write=False)


# For endpoints that seldom read (verification): a read session only when one is needed.
ReadSessionOpenerDep = Annotated[SessionOpener, Depends(get_read_session_opener)]


def current_actor(request: Request, session: ReadSessionDep) -> Actor:
    header = request.headers.get("authorization")
    if header is None:
        return PUBLIC
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not looks_like_token(token.strip()):
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    found = session.exec(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token.strip()))
    ).first()
    if found is None:
        raise Unauthenticated("unknown token")
    api_token, user = found
    if api_token.revoked_at is not None:
        raise Unauthenticated("this token has been revoked")
    if as_utc(api_token.expires_at) <= utcnow():
        raise Unauthenticated("this token has expired")
    if not user.active:
        raise Unauthenticated("this account is deactivated")
    assert user.id is not None
    return Actor(role=user.role, user_id=user.id, city_locode=user.city_locode, name=user.name)


class RoleGuard:
    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    def __call__(self, actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if Role.PUBLIC in self.roles or actor.role in self.roles:
            return actor
        if actor.is_public:
            raise Unauthenticated("this endpoint needs a bearer token")
        raise Forbidden(f"a {actor.role.value} may not do this")


class PublicGuard:
    """For routes open to everyone that never look at the caller: no token lookup, no session."""

    roles = frozenset({Role.PUBLIC})

    async def __call__(self) -> Actor:
        return PUBLIC


def access(*roles: Role) -> Any:
    """`Depends` that lets only `roles` through (`Role.PUBLIC` lets everyone through)."""
    if set(roles) == {Role.PUBLIC}:
        return Depends(PublicGuard())
    return Depends(RoleGuard(frozenset(roles)))


Admin = Annotated[Actor, access(Role.ADMINISTRATOR)]
Anyone = Annotated[Actor, access(Role.PUBLIC)]
