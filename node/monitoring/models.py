"""The data-quality reports (append-only: a report, once given, is history)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime


class QualityReport(SQLModel, table=True):
    """One node's data-quality score over a period: what arrived in it, checked."""

    __tablename__ = "node_quality_report"

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(index=True, max_length=16)
    # The period covered: from the previous report's end (null: from the start), to `until`.
    period_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    period_until: datetime = Field(sa_type=UTCDateTime)
    score: float = Field(description="0 to 100: the mean of the checks' scores, in percent")
    # [{"name", "passed", "score", "detail"}], in a fixed order (`quality.CHECKS`).
    checks: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
