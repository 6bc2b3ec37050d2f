"""Applications, the answers to each criterion, and the evidence files attached to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.evidence import MediaType
from sdgcities.node.timeutil import utcnow


class ApplicationState(StrEnum):
    """Where an application is. The review and committee states come with the workflow."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    # The technical review (node/review): reviewers assigned; back with the city to answer
    # the reviewers' questions; then the lead's consolidation ends it in one of the next two.
    UNDER_REVIEW = "under_review"
    CLARIFICATION_REQUESTED = "clarification_requested"
    # Where the review ends and the committee's agenda begins (node/committee reads it).
    RECOMMENDED = "recommended"
    # Closed: the city sees the gaps and the tools that help (§25), and may apply again.
    NOT_RECOMMENDED = "not_recommended"
    # The committee's decision (node/committee): closed states, so not in OPEN_STATES.
    AWARDED = "awarded"
    DECLINED = "declined"


# A city has at most one open application. States added later are open too unless they end
# the application, and must be added here.
OPEN_STATES = frozenset(
    {
        ApplicationState.DRAFT,
        ApplicationState.SUBMITTED,
        ApplicationState.UNDER_REVIEW,
        ApplicationState.CLARIFICATION_REQUESTED,
        ApplicationState.RECOMMENDED,
    }
)


class Application(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    stage: str = Field(max_length=32)
    framework_version_id: int = Field(foreign_key="framework_version.id", index=True)
    state: ApplicationState = Field(
        default=ApplicationState.DRAFT, sa_type=enum_column(ApplicationState), index=True
    )
    # A UN language (accounts.teams): on the global node the technical team the application is
    # routed to (§26b); on a national node advice only. Null for applications made before it.
    language: str | None = Field(default=None, max_length=3, index=True)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A renewal (node/renewal): the certificate it renews, whose award's answers it carries over.
    # No foreign key: certificate.application_id already points here, and the two would make a
    # cycle; only `renewal.start_renewal` sets it, from a certificate it has just read.
    renews: str | None = Field(default=None, max_length=64, index=True)


class CriterionAnswer(SQLModel, table=True):
    """The city's answer to one criterion: a narrative and the indicator values it reports."""

    __tablename__ = "criterion_answer"
    __table_args__ = (
        UniqueConstraint(
            "application_id", "criterion_code", name="uq_criterion_answer_application_criterion"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique constraint's index, which leads with it.
    application_id: int = Field(foreign_key="application.id")
    criterion_code: str = Field(max_length=18)
    narrative: str = Field(default="", sa_column=Column(Text, nullable=False))
    # A list of `schemas.IndicatorValue` in JSON form, validated before it is stored.
    indicator_values: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Carried over into a renewal and not yet confirmed or updated by the city (node/renewal).
    to_confirm: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Evidence(SQLModel, table=True):
    """An evidence file attached to a criterion. The file itself is in the evidence store,
    under its digest; `filename` is the client's name for it, sanitised, shown but never used
    as a path."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    # Repeated from the application so that a city's quota is one indexed sum.
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    criterion_code: str = Field(max_length=18)
    digest: str = Field(max_length=71, index=True)
    size: int = Field(ge=0)
    media_type: MediaType = Field(sa_type=enum_column(MediaType, length=100))
    filename: str = Field(max_length=120)
    uploaded_by: int | None = Field(default=None, foreign_key="user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
