"""A learning community, the cities invited to it and their consent, its events and its posts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class Consent(StrEnum):
    """A city's answer to its invitation: only a city that joined is shown to the others."""

    INVITED = "invited"
    JOINED = "joined"
    DECLINED = "declined"


class EventKind(StrEnum):
    WEBINAR = "webinar"
    PEER_EXCHANGE = "peer_exchange"


class Community(SQLModel, table=True):
    """Cities that share `gaps` (criterion codes not met or partly met in their latest stage
    reports). `gap_texts` keeps each criterion's text as the reports gave it, so that the
    catalogue is searched on the same words the reports were."""

    __tablename__ = "community"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    gaps: list[str] = Field(sa_column=Column(JSON, nullable=False))
    gap_texts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    formed_by: int = Field(foreign_key="user.id")
    formed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommunityMember(SQLModel, table=True):
    __tablename__ = "community_member"
    __table_args__ = (
        UniqueConstraint("community_id", "city_locode", name="uq_community_member_city"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    consent: Consent = Field(sa_type=enum_column(Consent))
    invited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: int | None = Field(default=None, foreign_key="user.id")


class CommunityEvent(SQLModel, table=True):
    """A webinar or a peer exchange; its members' people get a calendar invitation."""

    __tablename__ = "community_event"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    kind: EventKind = Field(sa_type=enum_column(EventKind))
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    minutes: int = Field(ge=15, le=480)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommunityPost(SQLModel, table=True):
    """A message in the community's discussion, by a member city's person or the secretariat
    (`city_locode` None)."""

    __tablename__ = "community_post"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    author_user_id: int = Field(foreign_key="user.id")
    city_locode: str | None = Field(default=None, max_length=6, foreign_key="city.locode")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommunitySharing(SQLModel, table=True):
    """A city's consent to have the gaps of its stage reports (which `report.generated` events
    carry to the global node anyway) used for learning communities across countries. Absent:
    not given. Each change is a `community.sharing` event of the node's log."""

    __tablename__ = "community_sharing"

    city_locode: str = Field(primary_key=True, max_length=6, foreign_key="city.locode")
    share: bool
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: int = Field(foreign_key="user.id")
