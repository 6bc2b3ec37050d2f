"""Request and response bodies of the review API."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from sdgcities.node.applications.models import ApplicationState
from sdgcities.node.cities.schemas import Locode
from sdgcities.node.frameworks.document import CriterionCode
from sdgcities.node.schemas import Id, Page, RequestModel, ResponseModel

from .models import Recommendation, Verdict

MAX_TEXT = 10_000


def _paragraphs(value: str) -> str:
    # PostgreSQL refuses NUL in text, and other control characters would garble the reports.
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise ValueError("control characters other than new lines and tabs are not allowed")
    return value


Paragraphs = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TEXT), AfterValidator(_paragraphs)
]


def _distinct(values: list[object], what: str) -> None:
    seen: set[object] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value} is given twice")
        seen.add(value)


# Conflicts of interest --------------------------------------------------------------------------


class ConflictCreate(RequestModel):
    city_locode: Locode
    reason: Paragraphs = Field(description="Why the reviewer cannot review this city impartially")
    reviewer_id: Id | None = Field(
        default=None,
        description="The reviewer the conflict is declared for: administrators name one, a "
        "reviewer declares their own and leaves it out",
    )


class ConflictPublic(ResponseModel):
    id: int
    reviewer_id: int
    city_locode: str
    reason: str
    declared_by: int | None
    declared_at: datetime


class ConflictsPublic(Page):
    data: list[ConflictPublic]


# Assignments ------------------------------------------------------------------------------------


class AssignmentCreate(RequestModel):
    reviewer_ids: list[Id] = Field(
        min_length=1,
        max_length=20,
        description="Distinct reviewers, at least as many as the node's "
        "SDGCITIES_REVIEWERS_PER_APPLICATION (2 by default)",
    )
    lead_id: Id = Field(description="The one reviewer among them who consolidates the review")

    @model_validator(mode="after")
    def _check(self) -> Self:
        _distinct(list(self.reviewer_ids), "reviewer")
        if self.lead_id not in self.reviewer_ids:
            raise ValueError(f"the lead, user {self.lead_id}, is not among reviewer_ids")
        return self


class ReviewerReplace(RequestModel):
    replacement_id: Id = Field(description="The reviewer who takes over, lead role included")


class CandidatePublic(ResponseModel):
    id: int
    name: str
    languages: list[str]
    teams: list[str] = Field(description="The UN language technical teams they are in (§26b)")
    shares_language: bool = Field(description="Speaks one of the city's languages")
    open_reviews: int = Field(description="Reviews assigned and not yet submitted")


class CandidatesPublic(Page):
    team: str | None = Field(
        description="On the global node, the technical team the application is routed to "
        "(every candidate is in it); null on a national node"
    )
    data: list[CandidatePublic]


class AssignmentPublic(ResponseModel):
    id: int
    application_id: int
    reviewer_id: int
    reviewer_name: str
    lead: bool
    assigned_at: datetime
    submitted_at: datetime | None


class AssignmentsPublic(Page):
    data: list[AssignmentPublic]


# Assessments ------------------------------------------------------------------------------------


class AssessmentUpdate(RequestModel):
    verdict: Verdict
    reasons: Paragraphs = Field(description="Why: what the evidence shows, or fails to show")
    evidence_ids: list[Id] = Field(
        default_factory=list,
        max_length=100,
        description="Evidence files of this application and criterion the verdict rests on",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _distinct(list(self.evidence_ids), "evidence")
        return self


class AssessmentPublic(ResponseModel):
    assignment_id: int
    reviewer_id: int
    criterion_code: str
    verdict: Verdict
    reasons: str
    evidence_ids: list[int]
    updated_at: datetime


# Clarifications ---------------------------------------------------------------------------------


class ClarificationCreate(RequestModel):
    criteria: list[CriterionCode] = Field(
        min_length=1,
        max_length=50,
        description="The criteria asked about: the city may change their answers and add "
        "evidence to them until it responds",
    )
    question: Paragraphs

    @model_validator(mode="after")
    def _check(self) -> Self:
        _distinct(list(self.criteria), "criterion")
        return self


class ClarificationPublic(ResponseModel):
    """A question and the city's answer. Who asked is not shown: reviewers stay anonymous to
    the city (the audit log keeps it)."""

    id: int
    application_id: int
    criteria: list[str]
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None


class ClarificationsPublic(Page):
    data: list[ClarificationPublic]


class ClarificationAnswer(RequestModel):
    request_id: Id
    answer: Paragraphs


class ClarificationResponse(RequestModel):
    answers: list[ClarificationAnswer] = Field(
        min_length=1, max_length=100, description="An answer to every open request"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _distinct([answer.request_id for answer in self.answers], "request")
        return self


# Consolidation ----------------------------------------------------------------------------------


class ConsolidatedVerdictCreate(RequestModel):
    code: CriterionCode
    verdict: Verdict
    reasons: Paragraphs


class ConsolidationCreate(RequestModel):
    recommendation: Recommendation
    summary: Paragraphs = Field(description="The grounds of the recommendation, for the committee")
    verdicts: list[ConsolidatedVerdictCreate] = Field(
        default_factory=list,
        max_length=200,
        description="The lead's verdict on some or all criteria. A criterion left out takes "
        "the most cautious of the reviewers' verdicts (not_met before partly_met before met).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _distinct([verdict.code for verdict in self.verdicts], "criterion")
        return self


class ConsolidatedVerdictPublic(ResponseModel):
    code: str
    verdict: Verdict
    reasons: str = Field(description="The lead's reasons; empty when the verdict was defaulted")
    defaulted: bool = Field(description="Taken from the reviewers' verdicts, not given by the lead")


class ConsolidationPublic(ResponseModel):
    application_id: int
    recommendation: Recommendation
    summary: str
    verdicts: list[ConsolidatedVerdictPublic]
    consolidated_at: datetime


class ReviewDetail(ResponseModel):
    application_id: int
    state: ApplicationState
    reviewers_required: int
    assignments: list[AssignmentPublic]
    assessments: list[AssessmentPublic] = Field(
        description="A reviewer sees the others' assessments only once they have submitted "
        "their own, so that each review stays independent"
    )
    clarifications: list[ClarificationPublic]
    consolidation: ConsolidationPublic | None
