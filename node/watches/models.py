from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow

MAX_WEBHOOK_URL_CHARS = 2000


class WatchTarget(StrEnum):
    CITY = "city"  # a UN/LOCODE, "KE-NBO"
    COUNTRY = "country"  # an ISO 3166-1 alpha-2 code, "KE"
    CERTIFICATE = "certificate"  # a credential id, "urn:uuid:..."


class WatchChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Watch(SQLModel, table=True):
    """One owner's watch. Nothing is sent until `confirmed_at`, nor after `cancelled_at`.

    The confirmation link's secret is stored as its SHA-256 only: it is mailed once. The cancel
    secret is stored as it is, because every notice repeats the cancel link; it can do nothing
    but cancel this one watch.
    """

    __tablename__ = "watch"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    language: str = Field(max_length=8)
    target_kind: WatchTarget = Field(sa_type=enum_column(WatchTarget))
    target: str = Field(max_length=64)
    channel: WatchChannel = Field(sa_type=enum_column(WatchChannel))
    webhook_url: str | None = Field(default=None, max_length=MAX_WEBHOOK_URL_CHARS)
    client: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmation_hash: str | None = Field(default=None, max_length=64, unique=True)
    confirmation_expires_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The log's head when the watch was confirmed: only later events are notified.
    from_sequence: int | None = None
    cancel_secret: str = Field(max_length=64, unique=True)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WatchDelivery(SQLModel, table=True):
    """One notice of one event to one watch: created once (the unique pair), whoever fans out.

    An email notice is handed to the mail outbox when the row is created (`delivered_at`); a
    webhook notice waits here, its signed `token` fixed at creation so every retry sends the
    same bytes (the same `jti`).
    """

    __tablename__ = "watch_delivery"
    __table_args__ = (UniqueConstraint("watch_id", "event_sequence", name="uq_watch_delivery"),)

    id: str = Field(primary_key=True, max_length=36)  # a UUID: the notice's `jti`
    watch_id: int = Field(foreign_key="watch.id", index=True)
    event_sequence: int
    channel: WatchChannel = Field(sa_type=enum_column(WatchChannel))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    given_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=1000)


class WatchCursor(SQLModel, table=True):
    """The last event the fan-out has read, in one row (id 1) that each round locks."""

    __tablename__ = "watch_cursor"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    sequence: int
