"""Tables of the federation store (global node only): every node's event log as reported.

`ingested_event` holds each node's events, one row per (node, sequence), exactly as the node
signed them; `ingested_log` its head; `received_report` the signed reports they came in (the
evidence, and the receipt given for each); `ingest_alarm` what looked wrong (a fork, a rollback,
a node signing for another, a certificate it may not issue). Nothing here is ever deleted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class ReportSource(StrEnum):
    """How a report reached the global node."""

    PUSHED = "pushed"  # POST /federation/reports by the node's relay
    PULLED = "pulled"  # GET {base_url}/federation/events by the global node
    LOCAL = "local"  # the global node's own log, read in-process


class AlarmKind(StrEnum):
    FORK = "fork"  # one sequence, two different events
    ROLLBACK = "rollback"  # the node says its log ends before what it reported earlier
    CHAIN = "chain"  # a signed report whose events do not link to what is held
    IMPERSONATION = "impersonation"  # a member's key signed a report naming another node
    GAP = "gap"  # events are missing and a pull could not fetch them
    # The node's key signed a certificate the verifier's rules refuse (outside its jurisdiction,
    # signed after its receipt or its cut-off); raised by the projection.
    REFUSED_CERTIFICATE = "refused_certificate"


class ReceivedReport(SQLModel, table=True):
    """A signed report that was accepted (it added events) or kept as evidence for an alarm."""

    __tablename__ = "received_report"

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(index=True, max_length=16)
    token_sha256: str = Field(max_length=64, unique=True)
    token: str
    first: int
    last: int
    issued_at: datetime = Field(sa_type=UTCDateTime)
    source: ReportSource = Field(sa_type=enum_column(ReportSource))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    added: int = 0
    # The head after it and the signed receipt given for it (null for a report kept only as
    # evidence): a replay of the same token gets this receipt again.
    head_sequence: int | None = None
    head_hash: str | None = Field(default=None, max_length=71)
    receipt: str | None = None


class IngestedEvent(SQLModel, table=True):
    """One event of a member node's log (or the global node's own), as the node signed it.

    The columns are the event's members (`federation.Event`), so the event and its hash can be
    rebuilt from the row alone.
    """

    __tablename__ = "ingested_event"

    node_id: str = Field(primary_key=True, max_length=16)
    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    type: str = Field(index=True, max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    subject: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=71)
    hash: str = Field(max_length=71)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    report_id: int = Field(foreign_key="received_report.id", index=True)


class IngestedLog(SQLModel, table=True):
    """Per node: the head of its log as held here, and when it last reported.

    Ingesting locks this row, so reports of one node are taken one at a time.
    """

    __tablename__ = "ingested_log"

    node_id: str = Field(primary_key=True, max_length=16)
    head_sequence: int = 0
    head_hash: str = Field(max_length=71)
    # The signing time of the newest report accepted: an older signed "nothing after N" is a
    # replay, not a rollback.
    last_issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_report_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Events the node has but this store lacks (a report skipped ahead): pulled, then cleared.
    missing_from: int | None = None
    missing_to: int | None = None


class IngestAlarm(SQLModel, table=True):
    """Something a node reported that cannot be true of one honest, append-only log."""

    __tablename__ = "ingest_alarm"

    id: int | None = Field(default=None, primary_key=True)
    kind: AlarmKind = Field(sa_type=enum_column(AlarmKind), index=True)
    node_id: str = Field(index=True, max_length=16)
    sequence: int | None = None
    detail: str = Field(max_length=2000)
    # The signed reports that show it (compact JWS), kept whole: they are the proof.
    evidence: list[str] = Field(sa_column=Column(JSON, nullable=False))
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
