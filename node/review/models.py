"""The technical review's tables: conflicts of interest, assignments, per-criterion assessments,
clarification requests and the lead reviewer's consolidation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class Verdict(StrEnum):
    """A reviewer's judgement of one criterion, from most to least favourable."""

    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"


class Recommendation(StrEnum):
    RECOMMENDED = "recommended"
    NOT_RECOMMENDED = "not_recommended"


class ReviewerConflict(SQLModel, table=True):
    """A reviewer's declared conflict of interest with a city: never assigned to review it."""

    __tablename__ = "reviewer_conflict"
    __table_args__ = (
        UniqueConstraint("reviewer_id", "city_locode", name="uq_reviewer_conflict_city"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique constraint's index, which leads with it.
    reviewer_id: int = Field(foreign_key="user.id")
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    declared_by: int | None = Field(default=None, foreign_key="user.id")
    declared_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewAssignment(SQLModel, table=True):
    """A reviewer assigned to an application; `submitted_at` freezes their assessments."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id", name="uq_review_assignment_reviewer"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    reviewer_id: int = Field(foreign_key="user.id", index=True)
    lead: bool = False
    assigned_by: int | None = Field(default=None, foreign_key="user.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CriterionAssessment(SQLModel, table=True):
    """One reviewer's verdict on one criterion, with reasons and the evidence it rests on."""

    __tablename__ = "criterion_assessment"
    __table_args__ = (
        UniqueConstraint(
            "assignment_id", "criterion_code", name="uq_criterion_assessment_assignment_criterion"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="review_assignment.id")
    criterion_code: str = Field(max_length=18)
    verdict: Verdict = Field(sa_type=enum_column(Verdict))
    reasons: str = Field(sa_column=Column(Text, nullable=False))
    # Ids of evidence rows of the same application and criterion, checked when written.
    evidence_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClarificationRequest(SQLModel, table=True):
    """A reviewer's question to the city about some criteria; answered when it comes back."""

    __tablename__ = "clarification_request"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    criteria: list[str] = Field(sa_column=Column(JSON, nullable=False))
    question: str = Field(sa_column=Column(Text, nullable=False))
    asked_by: int | None = Field(default=None, foreign_key="user.id")
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: int | None = Field(default=None, foreign_key="user.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReviewConsolidation(SQLModel, table=True):
    """The lead reviewer's consolidated verdicts and recommendation: one per application, and
    never changed (the migration makes the table append-only)."""

    __tablename__ = "review_consolidation"
    __table_args__ = (
        UniqueConstraint("application_id", name="uq_review_consolidation_application"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    lead_assignment_id: int = Field(foreign_key="review_assignment.id")
    # [{"code", "verdict", "reasons", "defaulted"}] in the stage's criterion order.
    verdicts: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    recommendation: Recommendation = Field(sa_type=enum_column(Recommendation))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    consolidated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
