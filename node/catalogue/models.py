"""The catalogue's one table. Its full-text index lives beside it, made by the migration alone:
a generated `search_vector` column on PostgreSQL, the `catalogue_tool_fts` table on SQLite."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class ToolKind(StrEnum):
    TOOL = "tool"
    CASE_STUDY = "case_study"
    SERVICE = "service"
    TRAINING = "training"


class Tool(SQLModel, table=True):
    """One catalogue entry. Never deleted: `active = False` takes it out of search, so stage
    reports that cited it can still be explained."""

    __tablename__ = "catalogue_tool"

    id: int | None = Field(default=None, primary_key=True)
    kind: ToolKind = Field(sa_type=enum_column(ToolKind), index=True)
    title: str = Field(max_length=300)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(max_length=2048)
    criteria: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    provider: str = Field(default="", max_length=200)
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
