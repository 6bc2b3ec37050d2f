"""Committee meetings, who attended them, their agenda items and the members' votes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ItemKind(StrEnum):
    """What an agenda item asks the committee to decide."""

    AWARD = "award"
    SUSPENSION = "suspension"
    REINSTATEMENT = "reinstatement"
    REVOCATION = "revocation"
    # Global node: a member's adapted framework, endorsed by the global committee (report §26a:
    # a ministry "adapts the certification criteria to the national context, with the
    # endorsement of UN-Habitat").
    ENDORSEMENT = "endorsement"


class ItemOutcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"


class VoteChoice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Meeting(SQLModel, table=True):
    """A committee meeting. The quorum rule in force when it was scheduled is kept with it, so
    a later change of the node's settings does not change how its decisions were taken."""

    __tablename__ = "committee_meeting"
    __table_args__ = (
        # A year is planned once: two plans running at once cannot both add its meetings.
        Index("uq_committee_meeting_plan", "plan_year", "plan_slot", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    scheduled_for: datetime = Field(sa_type=UTCDateTime, index=True)
    # Set on the meetings of a year's plan (`planning.plan_year`): the year, and which of its
    # meetings (1 to `committee_meetings_per_year`). Null on a meeting scheduled one by one.
    plan_year: int | None = None
    plan_slot: int | None = None
    status: MeetingStatus = Field(
        default=MeetingStatus.SCHEDULED, sa_type=enum_column(MeetingStatus), index=True
    )
    quorum_min_fraction: float
    quorum_min_non_government: int
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attendance(SQLModel, table=True):
    """A member recorded as present at a meeting (by the secretariat)."""

    __tablename__ = "committee_attendance"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", name="uq_committee_attendance_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique constraint's index, which leads with it.
    meeting_id: int = Field(foreign_key="committee_meeting.id")
    member_id: int = Field(foreign_key="user.id", index=True)
    recorded_by: int | None = Field(default=None, foreign_key="user.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgendaItem(SQLModel, table=True):
    """One question put to the committee at one meeting, and, once decided, its outcome.

    An award names its application; a suspension, reinstatement or revocation names the
    certificate and the proposal it comes from; an endorsement (global node) names the member's
    request. The certificate, proposal and request are plain columns, not foreign keys: a
    certificate names the award item it was issued by, and a foreign key back would make the
    tables a cycle. The service sets them only from rows it has just read.
    """

    __tablename__ = "agenda_item"
    __table_args__ = (
        # An application is on at most one undecided item, whatever the meeting: two agenda
        # generations running at once cannot both put it on.
        Index(
            "uq_agenda_item_pending_application",
            "application_id",
            unique=True,
            sqlite_where=text("outcome = 'pending' AND application_id IS NOT NULL"),
            postgresql_where=text("outcome = 'pending' AND application_id IS NOT NULL"),
        ),
        Index(
            "uq_agenda_item_pending_proposal",
            "proposal_id",
            unique=True,
            sqlite_where=text("outcome = 'pending' AND proposal_id IS NOT NULL"),
            postgresql_where=text("outcome = 'pending' AND proposal_id IS NOT NULL"),
        ),
        Index(
            "uq_agenda_item_pending_endorsement",
            "endorsement_request_id",
            unique=True,
            sqlite_where=text("outcome = 'pending' AND endorsement_request_id IS NOT NULL"),
            postgresql_where=text("outcome = 'pending' AND endorsement_request_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="committee_meeting.id", index=True)
    kind: ItemKind = Field(sa_type=enum_column(ItemKind))
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    certificate_id: str | None = Field(default=None, max_length=64, index=True)
    proposal_id: int | None = Field(default=None)
    endorsement_request_id: int | None = Field(default=None, index=True)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    outcome: ItemOutcome = Field(
        default=ItemOutcome.PENDING, sa_type=enum_column(ItemOutcome), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    # What the decision was taken with, as counted then: the members' terms and attendance
    # may change later, the record of the decision must not.
    quorum: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    tally: dict[str, int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    deferral_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Vote(SQLModel, table=True):
    """A member's vote on an item. One per member and item: the database refuses a second."""

    __tablename__ = "committee_vote"
    __table_args__ = (UniqueConstraint("item_id", "member_id", name="uq_committee_vote_member"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="agenda_item.id")
    member_id: int = Field(foreign_key="user.id", index=True)
    choice: VoteChoice = Field(sa_type=enum_column(VoteChoice))
    cast_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Recusal(SQLModel, table=True):
    """A member standing aside from one item for a conflict of interest: for that item they
    neither vote nor count towards the quorum, as if they did not sit on the committee."""

    __tablename__ = "committee_recusal"
    __table_args__ = (UniqueConstraint("item_id", "member_id", name="uq_committee_recusal_member"),)

    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the unique constraint's index, which leads with it.
    item_id: int = Field(foreign_key="agenda_item.id")
    member_id: int = Field(foreign_key="user.id", index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
