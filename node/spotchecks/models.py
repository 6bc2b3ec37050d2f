"""Spot-check tables. The global node keeps rounds and the checks they select; a national node
keeps the outcomes it received and the message ids (`jti`) it has already accepted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.federation.spotcheck import Outcome
from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class SpotCheckRound(SQLModel, table=True):
    """A drawn round (global node): the published document exactly as served, and its digest.

    `id` is the round number that goes into every score; rounds are numbered 1, 2, 3 ... under
    the event-log head lock, so the number cannot be chosen to steer a selection.
    """

    __tablename__ = "spotcheck_round"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    rate: float
    window_from: datetime = Field(sa_type=UTCDateTime)
    window_until: datetime = Field(sa_type=UTCDateTime)
    log_sequence: int
    log_hash: str = Field(max_length=71)
    candidates: int
    # RFC 8785 canonical JSON: the digest is the SHA-256 of exactly these bytes.
    document: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(max_length=71)
    drawn_by: int | None = Field(default=None, foreign_key="user.id")
    drawn_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckState(StrEnum):
    SELECTED = "selected"  # drawn; the dossier not fetched yet
    DOSSIER_FETCHED = "dossier_fetched"
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"


class SpotCheck(SQLModel, table=True):
    """One application a round selected (global node), its dossier and the re-review's result."""

    __tablename__ = "spotcheck"
    __table_args__ = (
        UniqueConstraint("round_id", "node_id", "application_id", name="uq_spotcheck_selection"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="spotcheck_round.id", index=True)
    node_id: str = Field(max_length=16)
    application_id: int
    locode: str = Field(max_length=16)
    credential_id: str = Field(max_length=200)
    state: CheckState = Field(default=CheckState.SELECTED, sa_type=enum_column(CheckState))
    # The dossier as the national node answered it (JSON), with its digest.
    dossier: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    dossier_digest: str | None = Field(default=None, max_length=71)
    fetched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reasons: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    reviewed_by: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The signed outcome last sent, and whether the national node took it.
    outcome_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivery_error: str | None = Field(default=None, max_length=2000)


class SeenMessage(SQLModel, table=True):
    """A spot-check message (`jti`) a national node accepted: a second use is a replay.

    Rows are kept: a message expires within minutes, and the table grows by a few rows a check.
    """

    __tablename__ = "spotcheck_seen_message"

    jti: str = Field(primary_key=True, max_length=128)
    typ: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReceivedOutcome(SQLModel, table=True):
    """A spot-check outcome from the global node (national node), as signed, and its effect."""

    __tablename__ = "spotcheck_outcome"
    __table_args__ = (
        UniqueConstraint("round_id", "application_id", name="uq_spotcheck_outcome_round"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int
    application_id: int = Field(foreign_key="application.id", index=True)
    certificate_id: str = Field(max_length=64, foreign_key="certificate.id")
    outcome: Outcome = Field(sa_type=enum_column(Outcome))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    reasons: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    token: str = Field(sa_column=Column(Text, nullable=False))
    # The suspension proposal a negative outcome put on the committee's agenda, or why none.
    proposal_id: int | None = Field(default=None, foreign_key="certificate_proposal.id")
    note: str | None = Field(default=None, max_length=500)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
