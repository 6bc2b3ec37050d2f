from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class OutboxMessage(SQLModel, table=True):
    """A mail waiting to be sent, or sent (`sent_at`): kept as a record of what was sent."""

    __tablename__ = "mail_outbox"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str
    # An iCalendar invitation (RFC 5545, METHOD:REQUEST) sent with the text, if any.
    calendar: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=1000)
