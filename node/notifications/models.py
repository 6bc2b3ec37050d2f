from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class NoticeKind(StrEnum):
    """What a notice is about; each person may turn any of them off."""

    CLARIFICATION_ASKED = "clarification_asked"
    CLARIFICATION_ANSWERED = "clarification_answered"
    REVIEW_ASSIGNED = "review_assigned"
    MEETING_SCHEDULED = "meeting_scheduled"
    DECISION_TAKEN = "decision_taken"
    CERTIFICATE_CHANGED = "certificate_changed"
    CERTIFICATE_EXPIRING = "certificate_expiring"
    NODE_SILENT = "node_silent"
    NODE_ALARM = "node_alarm"
    COMMUNITY_FORMED = "community_formed"
    COMMUNITY_EVENT = "community_event"


class NoticePreference(SQLModel, table=True):
    """A person's choices: the notices' language and the kinds they do not want. A person
    without a row gets every notice, in the first of their languages the site speaks."""

    __tablename__ = "notice_preference"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    language: str | None = Field(default=None, max_length=8)
    muted: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NoticeSent(SQLModel, table=True):
    """A notice a periodic duty sent (a certificate's expiry threshold, a node's silence, an
    alarm): the unique pair keeps it to one, whatever the workers or restarts."""

    __tablename__ = "notice_sent"
    __table_args__ = (UniqueConstraint("kind", "subject", name="uq_notice_sent_kind_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: NoticeKind = Field(sa_type=enum_column(NoticeKind))
    subject: str = Field(max_length=200)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
