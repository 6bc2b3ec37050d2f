"""The bodies of the assistance API."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from pydantic import Field

from sdgcities.node.schemas import Id, Page, RequestModel, ResponseModel

from .models import Closure, HelpKind, RequestState

MAX_MESSAGE_CHARS: Final = 2000
MAX_NOTE_CHARS: Final = 2000
MAX_REASON_CHARS: Final = 1000


class AssistanceRequestCreate(RequestModel):
    """A city's request for help with one gap of its application's latest stage report."""

    application_id: Id
    criterion_code: str = Field(min_length=1, max_length=32, description="A gap of the report")
    kind: HelpKind
    tool_id: Id | None = Field(default=None, description="The catalogue entry, for `tool`")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class AssignmentCreate(RequestModel):
    """Exactly one of a secretariat person or a provider's catalogue entry."""

    user_id: Id | None = None
    tool_id: Id | None = None


class NoteCreate(RequestModel):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class ClosureCreate(RequestModel):
    closure: Closure
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class AssistanceNotePublic(ResponseModel):
    id: int
    text: str
    created_at: datetime


class AssistanceRequestPublic(ResponseModel):
    id: int
    city_locode: str
    application_id: int
    report_version: int
    criterion_code: str
    kind: HelpKind
    tool_id: int | None
    message: str
    state: RequestState
    assignee_user_id: int | None
    assignee_tool_id: int | None
    closure: Closure | None
    closure_reason: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    notes: list[AssistanceNotePublic]


class AssistanceRequestsPublic(Page):
    data: list[AssistanceRequestPublic]


class GapCount(ResponseModel):
    """How many requests one criterion has, by state: no city, no person."""

    criterion_code: str
    open: int
    assigned: int
    closed: int
    total: int


class AssistanceSummary(ResponseModel):
    node: str
    data: list[GapCount]
