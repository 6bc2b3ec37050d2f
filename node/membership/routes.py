"""A national node's administration of its membership: join, sync now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import SessionDep, StateDep, access
from sdgcities.node.schemas import Id, RequestModel, ResponseModel

from .service import (
    rotate_signing_key,
    send_endorsement_request,
    send_join_request,
    sync_trust_list,
)

router = APIRouter(tags=["federation"])


class JoinFederation(RequestModel):
    global_url: str | None = Field(default=None, max_length=512)


class JoinSent(ResponseModel):
    request_id: int | None
    state: str | None
    answer: dict[str, Any]


class TrustListSynced(ResponseModel):
    sequence: int
    stored: bool


@router.post("/admin/federation/join", status_code=202)
def post_join(
    session: SessionDep,
    state: StateDep,
    actor: Annotated[Actor, access(Role.ADMINISTRATOR)],
    body: JoinFederation,
) -> JoinSent:
    """Send a join request, signed with this node's key, to the global node."""
    answer = send_join_request(
        session=session, state=state, global_url=body.global_url, actor=actor
    )
    request_id = answer.get("id")
    return JoinSent(
        request_id=request_id if isinstance(request_id, int) else None,
        state=str(answer.get("state")) if answer.get("state") is not None else None,
        answer=answer,
    )


@router.post("/admin/federation/sync")
def post_sync(
    session: SessionDep,
    state: StateDep,
    _actor: Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT)],
) -> TrustListSynced:
    """Fetch the trust list from the global node now, rather than at the next round."""
    copy, stored = sync_trust_list(session=session, state=state)
    return TrustListSynced(sequence=copy.sequence, stored=stored)


class KeyRotated(ResponseModel):
    kid: str = Field(description="The new signing key: what this node signs with from now on")
    previous_kid: str = Field(description="Still active: retire it on the global node")


@router.post("/admin/federation/keys/rotate", status_code=201)
def post_rotate_key(
    session: SessionDep,
    state: StateDep,
    actor: Annotated[Actor, access(Role.ADMINISTRATOR)],
) -> KeyRotated:
    """Generate a new signing key, announce it to the global node, and sign with it from now on.

    The previous key stays valid for what it signed; retire it on the global node
    (`POST /federation/members/{node_id}/keys/{kid}/retire`) once this node has switched.
    """
    previous = state.signing_key.kid
    new_key = rotate_signing_key(session=session, state=state, actor=actor)
    # Switched once the row is flushed: a commit that still failed would leave the node signing
    # with a key the global node lists (and the file holds) until a restart reloads the old one.
    state.signing_key = new_key
    return KeyRotated(kid=new_key.kid, previous_kid=previous)


class EndorsementRequested(ResponseModel):
    request_id: int | None
    answer: dict[str, Any]


@router.post("/admin/frameworks/{version_id}/request-endorsement", status_code=202)
def post_request_endorsement(
    session: SessionDep,
    state: StateDep,
    actor: Annotated[Actor, access(Role.ADMINISTRATOR)],
    version_id: Id,
) -> EndorsementRequested:
    """Send a published version (document and digest, signed) to the global node for endorsement.

    The endorsement comes back on the trust list and is attached at the next sync.
    """
    answer = send_endorsement_request(
        session=session, state=state, version_id=version_id, actor=actor
    )
    request_id = answer.get("id")
    return EndorsementRequested(
        request_id=request_id if isinstance(request_id, int) else None, answer=answer
    )
