from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from sdgcities.credentials import KeyStatus, NodeStatus
from sdgcities.federation.onboarding import MAX_ENDORSEMENT_REQUEST_BYTES, MAX_ONBOARDING_BYTES
from sdgcities.node.schemas import Page, RequestModel, ResponseModel

from .models import EndorsementState, JoinRequestState


class SignedRequest(RequestModel):
    """A compact JWS that proves itself (a join request or a key rotation)."""

    token: str = Field(min_length=1, max_length=MAX_ONBOARDING_BYTES)


class Reason(RequestModel):
    reason: str = Field(min_length=1, max_length=2000)


class JoinRequestPublic(ResponseModel):
    id: int
    node_id: str
    payload: dict[str, Any]
    state: JoinRequestState
    received_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class JoinRequestsPublic(Page):
    data: list[JoinRequestPublic]


class MemberKeyPublic(ResponseModel):
    kid: str
    node_id: str
    jwk: dict[str, Any]
    status: KeyStatus
    valid_from: datetime
    valid_until: datetime | None
    status_since: datetime | None


class MemberHistoryPublic(ResponseModel):
    status: NodeStatus
    at: datetime
    reason: str
    actor: str


class MemberNodePublic(ResponseModel):
    node_id: str
    did: str
    name: str
    base_url: str
    status: NodeStatus
    status_since: datetime
    joined_at: datetime
    keys: list[MemberKeyPublic] = Field(default_factory=list)
    history: list[MemberHistoryPublic] = Field(default_factory=list)


class MembersPublic(Page):
    data: list[MemberNodePublic]


class EndorsementRequestUpload(RequestModel):
    token: str = Field(min_length=1, max_length=MAX_ENDORSEMENT_REQUEST_BYTES)


class EndorsementRequestPublic(ResponseModel):
    id: int
    node_id: str
    framework_id: str
    version: str
    digest: str
    state: EndorsementState
    received_at: datetime
    endorsement_jws: str | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class EndorsementRequestsPublic(Page):
    data: list[EndorsementRequestPublic]


class TrustListPublished(ResponseModel):
    sequence: int
    issued_at: datetime
    next_update: datetime
