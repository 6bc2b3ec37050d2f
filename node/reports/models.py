"""Stage reports as stored: each version of an application's report, as the JSON it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class StageReport(SQLModel, table=True):
    """One version of a stage report (§25). Generated at consolidation and regenerated only as
    a new version (the catalogue's tools change), so what a city or committee was shown stays
    as it was; `digest` is the SHA-256 of the document's RFC 8785 canonical JSON, the value the
    `report.generated` event carries."""

    __tablename__ = "stage_report"
    __table_args__ = (
        UniqueConstraint("application_id", "version", name="uq_stage_report_application_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique constraint's index, which leads with it.
    application_id: int = Field(foreign_key="application.id")
    version: int = Field(ge=1)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    digest: str = Field(max_length=71)
    generated_by: int | None = Field(default=None, foreign_key="user.id")
    generated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
