from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class TrustListCopy(SQLModel, table=True):
    """A signed trust list this node accepted; the highest sequence is the current one.

    Kept, not overwritten: the highest sequence ever accepted is what refuses a rollback.
    """

    __tablename__ = "trust_list_copy"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    token: str
    issued_at: datetime = Field(sa_type=UTCDateTime)
    next_update: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
