"""Request and response bodies of the spot-check API (both sides)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from sdgcities.federation.spotcheck import MAX_MESSAGE_BYTES, MAX_REASONS, MAX_TEXT, Outcome
from sdgcities.node.schemas import Moment, Page, RequestModel, ResponseModel

from .models import CheckState


class RoundCreate(RequestModel):
    rate: float | None = Field(
        default=None, gt=0, le=1, description="Default: SDGCITIES_SPOTCHECK_RATE"
    )
    window_from: Moment | None = Field(
        default=None, description="Awards decided from then; default: the window days before"
    )
    window_until: Moment | None = Field(default=None, description="...until then; default now")


class RoundSummary(ResponseModel):
    id: int
    rate: float
    window_from: datetime
    window_until: datetime
    log_sequence: int
    log_hash: str
    candidates: int
    digest: str = Field(description="sha256 of the document's RFC 8785 canonical JSON")
    drawn_at: datetime


class RoundPublic(RoundSummary):
    document: dict[str, Any] = Field(
        description="The published round: inputs, every candidate's score, the selection"
    )


class RoundsPublic(Page):
    data: list[RoundSummary]


class CheckPublic(ResponseModel):
    id: int
    round_id: int
    node_id: str
    application_id: int
    locode: str
    credential_id: str
    state: CheckState
    dossier_digest: str | None
    fetched_at: datetime | None
    summary: str | None
    reasons: list[dict[str, str]]
    reviewed_at: datetime | None
    delivered_at: datetime | None
    delivery_error: str | None


class CheckDetail(CheckPublic):
    dossier: dict[str, Any] | None


class ChecksPublic(Page):
    data: list[CheckPublic]


class CriterionReasonIn(RequestModel):
    criterion: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class OutcomeCreate(RequestModel):
    outcome: Outcome
    summary: str = Field(min_length=1, max_length=MAX_TEXT)
    reasons: list[CriterionReasonIn] = Field(default_factory=list, max_length=MAX_REASONS)


class SignedMessage(RequestModel):
    """A compact JWS by the global node that proves itself."""

    token: str = Field(min_length=1, max_length=MAX_MESSAGE_BYTES)


class OutcomeReceived(ResponseModel):
    round_id: int
    application_id: int
    certificate_id: str
    outcome: Outcome
    proposal_id: int | None = Field(description="The suspension proposal put on the agenda")
    note: str | None
    received_at: datetime
