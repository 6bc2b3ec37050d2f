"""Request and response bodies of the framework API.

Edits mirror the pure functions of `adapt` one for one; whatever a request passes here is checked
again in full when the edited document is rebuilt, so these limits only give clearer messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from sdgcities.node.schemas import Page, RequestModel, ResponseModel

from .document import StageKey
from .models import FrameworkStatus

FrameworkIdText = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=1, max_length=64)
]
VersionText = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9A-Za-z]+([.-][0-9A-Za-z]+)*$", min_length=1, max_length=32),
]
CriterionText = Annotated[str, StringConstraints(min_length=1, max_length=5000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
EvidenceItems = Annotated[list[ShortText], Field(min_length=1, max_length=50)]


class FrameworkDerive(RequestModel):
    """A national framework of this node's country, starting as a copy of a baseline version."""

    framework_id: FrameworkIdText = Field(examples=["sdgcities-ke"])
    version: VersionText = Field(examples=["1"])
    title: ShortText = Field(examples=["SDG Cities certification: Kenya"])


class FrameworkRevise(RequestModel):
    """A new draft version copied from a published version of this node's framework."""

    version: VersionText = Field(examples=["2"])


class CriterionContextualise(RequestModel):
    text: CriterionText
    evidence_expected: EvidenceItems | None = Field(
        default=None, description="Replaces the evidence expected; left as it is when omitted"
    )


class IndicatorCreate(RequestModel):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    name: ShortText
    source: ShortText = Field(examples=["Kenya National Bureau of Statistics"])


class CriterionCreate(RequestModel):
    stage: StageKey
    code: Annotated[str, StringConstraints(min_length=3, max_length=18)] = Field(examples=["B.KE1"])
    text: CriterionText
    evidence_expected: EvidenceItems
    indicators: list[IndicatorCreate] = Field(default_factory=list, max_length=50)
    source: ShortText | None = Field(
        default=None, description="The national policy or law the criterion comes from"
    )


class TranslationPut(RequestModel):
    text: CriterionText
    evidence_expected: EvidenceItems = Field(
        description="The criterion's evidence items translated one for one, in order"
    )


class EndorsementSubmit(RequestModel):
    jws: Annotated[str, StringConstraints(min_length=1, max_length=64 * 1024)] = Field(
        description="The compact JWS (typ framework-endorsement+jwt) from the global node"
    )


class FrameworkVersionPublic(ResponseModel):
    id: int
    framework_id: str
    version: str
    title: str
    country: str | None = Field(description="null for a framework of the global node")
    status: FrameworkStatus
    digest: str | None = Field(description="sha256 of the canonical document; null for a draft")
    based_on_id: int | None
    created_at: datetime
    published_at: datetime | None
    endorsed_at: datetime | None
    usable_for_certification: bool = Field(
        description="Published and endorsed by the global root key for this node"
    )


class FrameworkVersionDetail(FrameworkVersionPublic):
    document: dict[str, Any]
    endorsement_jws: str | None


class FrameworkVersionsPublic(Page):
    data: list[FrameworkVersionPublic]
