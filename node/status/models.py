from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from sdgcities.credentials import MIN_ENTRIES
from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class StatusListRecord(SQLModel, table=True):
    """A published `message` status list (two bits per certificate), its index allocator, and
    the exact signed credential served for it.

    `allocator_key` keys the permutation that makes indices look random (herd privacy);
    `next_position` is how many of the `size` indices were handed out, advanced under a row lock
    in the transaction that issues the certificate. `bits` holds `size` two-bit entries, at
    least the spec's 131,072.
    """

    __tablename__ = "status_list"

    list_id: str = Field(primary_key=True, max_length=64)
    allocator_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int = MIN_ENTRIES
    next_position: int = 0
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    token: str = Field(sa_column=Column(Text, nullable=False))
    etag: str = Field(max_length=80)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
