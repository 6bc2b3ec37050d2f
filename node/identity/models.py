from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.credentials import KeyStatus
from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class NodeKey(SQLModel, table=True):
    """A signing key of this node. The private half is a passphrase-encrypted file, never a row."""

    __tablename__ = "node_key"

    kid: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=16)
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: KeyStatus = Field(default=KeyStatus.ACTIVE, sa_type=enum_column(KeyStatus))
    valid_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
