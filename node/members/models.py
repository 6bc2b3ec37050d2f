"""Tables of the trust registry (global node only). Rows are never deleted: a withdrawn node or
a retired key stays, with the time of the change, so the trust list keeps its history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from sdgcities.credentials import KeyStatus, NodeStatus
from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class JoinRequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class MemberNode(SQLModel, table=True):
    __tablename__ = "member_node"

    node_id: str = Field(primary_key=True, max_length=16)
    did: str = Field(max_length=512, unique=True)
    name: str = Field(max_length=200)
    base_url: str = Field(max_length=512)
    status: NodeStatus = Field(default=NodeStatus.ACTIVE, sa_type=enum_column(NodeStatus))
    status_since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemberNodeHistory(SQLModel, table=True):
    """Append-only (database triggers): every status a member node has had, and why."""

    __tablename__ = "member_node_history"

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(foreign_key="member_node.node_id", index=True, max_length=16)
    status: NodeStatus = Field(sa_type=enum_column(NodeStatus))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reason: str = Field(max_length=2000)
    actor: str = Field(max_length=200)


class MemberKey(SQLModel, table=True):
    __tablename__ = "member_key"

    kid: str = Field(primary_key=True, max_length=64)
    node_id: str = Field(foreign_key="member_node.node_id", index=True, max_length=16)
    jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: KeyStatus = Field(default=KeyStatus.ACTIVE, sa_type=enum_column(KeyStatus))
    valid_from: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JoinRequestRecord(SQLModel, table=True):
    __tablename__ = "join_request"
    __table_args__ = (
        # One pending request per node id: the secretariat decides it before another may wait,
        # so that anyone's signed requests cannot pile up under one country.
        Index(
            "uq_join_request_pending",
            "node_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(index=True, max_length=16)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    token: str
    state: JoinRequestState = Field(
        default=JoinRequestState.PENDING, sa_type=enum_column(JoinRequestState)
    )
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=2000)


class PublishedTrustList(SQLModel, table=True):
    __tablename__ = "published_trust_list"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    token: str
    issued_at: datetime = Field(sa_type=UTCDateTime)
    next_update: datetime = Field(sa_type=UTCDateTime)


class EndorsementState(StrEnum):
    PENDING = "pending"
    ENDORSED = "endorsed"
    REFUSED = "refused"


class EndorsementRequestRecord(SQLModel, table=True):
    """A member's request to endorse an adapted framework version, and the decision on it."""

    __tablename__ = "endorsement_request"

    id: int | None = Field(default=None, primary_key=True)
    node_id: str = Field(foreign_key="member_node.node_id", index=True, max_length=16)
    framework_id: str = Field(max_length=64)
    version: str = Field(max_length=32)
    digest: str = Field(max_length=71)
    document: str
    token: str
    state: EndorsementState = Field(
        default=EndorsementState.PENDING, sa_type=enum_column(EndorsementState)
    )
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    endorsement_jws: str | None = None
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=2000)
