from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class RelayReceipt(SQLModel, table=True):
    """The global node's signed receipt for a report this node sent: its proof of delivery.

    The relay's cursor is the highest `last` here: a report counts as delivered only once its
    receipt is stored, so a relay stopped between the global node storing a report and this row
    being written sends the report again (and the global node adds nothing).
    """

    __tablename__ = "relay_receipt"

    id: int | None = Field(default=None, primary_key=True)
    first: int
    last: int = Field(index=True)
    added: int
    head_sequence: int
    head_hash: str = Field(max_length=71)
    report_sha256: str = Field(max_length=71)
    receipt: str
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
