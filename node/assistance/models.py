"""A city's request for help with a gap of its stage report, and the notes that track it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class HelpKind(StrEnum):
    ADVICE = "advice"
    CONSULTATION = "consultation"
    TOOL = "tool"  # a named entry of the catalogue


class RequestState(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Closure(StrEnum):
    RESOLVED = "resolved"
    DECLINED = "declined"


class AssistanceRequest(SQLModel, table=True):
    """One request, about one gap (a criterion not met or partly met) of one stage report.

    Assigned to one of the secretariat's people (`assignee_user_id`) or to a provider of the
    catalogue (`assignee_tool_id`, an entry that names its provider), never both."""

    __tablename__ = "assistance_request"

    id: int | None = Field(default=None, primary_key=True)
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    report_version: int = Field(ge=1)
    criterion_code: str = Field(max_length=32, index=True)
    kind: HelpKind = Field(sa_type=enum_column(HelpKind))
    tool_id: int | None = Field(default=None, foreign_key="catalogue_tool.id")
    message: str = Field(sa_column=Column(Text, nullable=False))
    state: RequestState = Field(sa_type=enum_column(RequestState), index=True)
    assignee_user_id: int | None = Field(default=None, foreign_key="user.id")
    assignee_tool_id: int | None = Field(default=None, foreign_key="catalogue_tool.id")
    closure: Closure | None = Field(default=None, sa_type=enum_column(Closure))
    closure_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    asked_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AssistanceNote(SQLModel, table=True):
    """A note of progress by the secretariat; the city reads it with its request."""

    __tablename__ = "assistance_note"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="assistance_request.id", index=True)
    author_user_id: int = Field(foreign_key="user.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
