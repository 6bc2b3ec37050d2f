from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.federation import Event, EventType
from sdgcities.node.dbtypes import UTCDateTime, enum_column


class EventRecord(SQLModel, table=True):
    """One event of the node's log. Only ever inserted: database triggers refuse UPDATE and DELETE.

    The columns are the event's members, so the row is the event (`to_event`) and its hash can
    be recomputed from the row alone.
    """

    __tablename__ = "event_record"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    node_id: str = Field(max_length=16)
    type: EventType = Field(sa_type=enum_column(EventType, length=64))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    subject: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=71)
    hash: str = Field(max_length=71, unique=True)

    @classmethod
    def from_event(cls, event: Event) -> EventRecord:
        body = event.body()
        return cls(
            sequence=event.sequence,
            node_id=event.node_id,
            type=event.type,
            occurred_at=event.occurred_at,
            subject=body["subject"],
            data=body["data"],
            prev_hash=event.prev_hash,
            hash=event.hash,
        )

    def to_event(self) -> Event:
        return Event(
            sequence=self.sequence,
            node_id=self.node_id,
            type=EventType(self.type),
            occurred_at=self.occurred_at,
            subject=self.subject,
            data=self.data,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


class EventLogHead(SQLModel, table=True):
    """The log's last event, in one row (id 1) that every append locks: appends queue on it.

    The migration inserts the row at (0, genesis hash), so the first append finds it too.
    """

    __tablename__ = "event_log_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    sequence: int
    hash: str = Field(max_length=71)
