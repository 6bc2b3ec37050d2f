"""The stage report document and the bodies of the report API.

The document names reviewers by role and number only ("reviewer 2", "lead reviewer"): it goes
to the city and may be forwarded by a ministry, and reviewers' names are not the city's business.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from sdgcities.node.applications.models import ApplicationState
from sdgcities.node.catalogue.models import ToolKind
from sdgcities.node.review.models import Recommendation, Verdict
from sdgcities.node.schemas import ResponseModel

REPORT_FORMAT: Final = "sdgcities-stage-report/1"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CityRef(_Document):
    locode: str
    name: str
    country: str


class StageRef(_Document):
    key: str
    letter: str
    name: str
    level: str


class FrameworkRef(_Document):
    id: str
    version: str
    digest: str | None


class EvidenceRef(_Document):
    id: int
    filename: str


class Reason(_Document):
    """One judgement behind a criterion's verdict: the lead's consolidation or a reviewer's."""

    source: Literal["consolidation", "reviewer"]
    reviewer: str = Field(description="'lead reviewer' or 'reviewer N': a role, never a name")
    verdict: Verdict
    text: str
    evidence: list[EvidenceRef] = Field(default_factory=list)


class ToolRef(_Document):
    """A catalogue entry that addresses a gap (§25, §37)."""

    id: int
    title: str
    link: str
    kind: ToolKind
    summary: str
    provider: str


class CriterionResult(_Document):
    code: str
    text: str
    verdict: Verdict
    gap: bool = Field(description="Not met or partly met: something to address")
    reasons: list[Reason]
    tools: list[ToolRef] = Field(description="For a gap: the tools and case studies that help")


class ClarificationRecord(_Document):
    criteria: list[str]
    question: str
    answer: str | None
    asked_at: datetime
    answered_at: datetime | None


class StageReportDocument(_Document):
    """A stage report as data: what the HTML page and the PDF render, and what is stored."""

    format: Literal["sdgcities-stage-report/1"] = REPORT_FORMAT
    version: int
    application_id: int
    node: str
    city: CityRef
    stage: StageRef
    framework: FrameworkRef
    language: str = Field(description="The language of the criteria texts")
    recommendation: Recommendation
    summary: str
    reviewers: int = Field(description="How many reviewers assessed the application")
    criteria: list[CriterionResult]
    gaps: list[str] = Field(description="The codes of the criteria not (fully) met")
    clarifications: list[ClarificationRecord]
    consolidated_at: datetime
    generated_at: datetime


class StageReportPublic(ResponseModel):
    application_id: int
    version: int
    digest: str = Field(description="sha256 of the document's RFC 8785 canonical JSON")
    generated_at: datetime
    versions: int = Field(description="How many versions of this report there are")
    document: StageReportDocument


class DecisionSummary(ResponseModel):
    outcome: Literal["awarded", "declined"]
    decided_at: datetime
    meeting_id: int
    certificate_id: str | None


class OutcomeGap(ResponseModel):
    code: str
    text: str
    verdict: Verdict
    reasons: list[str]
    tools: list[ToolRef]


class ApplicationOutcome(ResponseModel):
    """Where a city stands: the decision if there is one, or why not and what helps (§25)."""

    application_id: int
    city_locode: str
    stage: str
    level: str
    state: ApplicationState
    certified: bool
    explanation: str
    decision: DecisionSummary | None
    recommendation: Recommendation | None
    summary: str | None = Field(description="The lead reviewer's grounds for the recommendation")
    gaps: list[OutcomeGap]
    report: str | None = Field(description="Where the full stage report is, once there is one")
