from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import Anyone, ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.errors import NotFound
from sdgcities.node.schemas import RequestModel, ResponseModel

from .service import accept_trust_list, current_copy

router = APIRouter(tags=["federation"])

TRUST_LIST_MEDIA_TYPE = "application/trust-list+jwt"
# Within the request-size limit (node settings: max_request_bytes, 1 MiB by default).
MAX_REQUEST_TRUST_LIST = 1024 * 1024


class TrustListUpload(RequestModel):
    token: str = Field(min_length=1, max_length=MAX_REQUEST_TRUST_LIST)


class TrustListAccepted(ResponseModel):
    sequence: int
    stored: bool


@router.get(
    "/federation/trust-list",
    response_class=Response,
    responses={
        200: {"content": {TRUST_LIST_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        404: {"description": "A national node that has not received a trust list yet"},
    },
)
def get_trust_list(session: ReadSessionDep, _actor: Anyone) -> Response:
    """The signed trust list this node holds (on a national node, its cached copy)."""
    copy = current_copy(session=session)
    if copy is None:
        raise NotFound("this node holds no trust list yet")
    return Response(
        copy.token,
        media_type=TRUST_LIST_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=300", "ETag": f'"{copy.sequence}"'},
    )


@router.put("/admin/trust-list")
def put_trust_list(
    session: SessionDep,
    state: StateDep,
    actor: Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT)],
    body: TrustListUpload,
) -> TrustListAccepted:
    """Hand the node a signed trust list (an air-gapped node, or before its first sync)."""
    copy, stored = accept_trust_list(
        session=session, settings=state.settings, token=body.token, actor=actor
    )
    return TrustListAccepted(sequence=copy.sequence, stored=stored)
