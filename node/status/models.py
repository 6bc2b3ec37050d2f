from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.credentials import MIN_ENTRIES
from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class StatusPurpose(StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusPair(SQLModel, table=True):
    """A revocation list and a suspension list that share indices, and their index allocator.

    A certificate gets one index, the same in both lists. `allocator_key` keys the permutation
    that makes indices look random (herd privacy); `next_position` is how many indices were
    handed out, advanced under a row lock in the transaction that issues the certificate.
    """

    __tablename__ = "status_pair"

    id: int | None = Field(default=None, primary_key=True)
    allocator_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int = MIN_ENTRIES
    next_position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatusListRecord(SQLModel, table=True):
    """A published status list: its bits and the exact signed credential served for it."""

    __tablename__ = "status_list"
    __table_args__ = (UniqueConstraint("pair_id", "purpose", name="uq_status_list_pair_purpose"),)

    list_id: str = Field(primary_key=True, max_length=64)
    pair_id: int = Field(foreign_key="status_pair.id", index=True)
    purpose: StatusPurpose = Field(sa_type=enum_column(StatusPurpose, length=16))
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    token: str = Field(sa_column=Column(Text, nullable=False))
    etag: str = Field(max_length=80)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
