from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class AuditEntry(SQLModel, table=True):
    """One action. Rows are only ever inserted: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_user_id: int | None = Field(default=None, index=True)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(max_length=64)
    target_id: str = Field(max_length=128)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
