"""Request and response bodies of the certificate API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from sdgcities.node.schemas import Page, RequestModel, ResponseModel

from .models import CertificateStatus, ProposalKind, ProposalState


class CertificatePublic(ResponseModel):
    id: str
    city_locode: str
    stage: str
    level: str
    application_id: int
    agenda_item_id: int
    framework_version_id: int
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    status: CertificateStatus
    status_changed_at: datetime | None
    expired: bool = Field(description="Past its validUntil (whatever its status)")
    renews: str | None = Field(default=None, description="The certificate this one renews")


class CertificateDetail(CertificatePublic):
    token: str = Field(description="The signed certificate, as issued (application/vc+jwt)")
    status_list_id: str = Field(description="Its status list: `GET /status/{status_list_id}`")
    status_index: int


class CertificatesPublic(Page):
    data: list[CertificatePublic]


class ProposalCreate(RequestModel):
    kind: ProposalKind
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Why: the committee reads it, and it travels with the decision"
    )


class ProposalPublic(ResponseModel):
    id: int
    certificate_id: str
    kind: ProposalKind
    reason: str
    state: ProposalState
    proposed_by: int | None
    proposed_at: datetime
    decided_at: datetime | None


class ProposalsPublic(Page):
    data: list[ProposalPublic]
