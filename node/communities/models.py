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
    catalogue is searched on the same words the reports were.

    Across countries: on the global node, its members are `FederationMember`s (the cities'
    accounts are on their nodes) and `revision` rises at each change the member nodes are sent.
    On a member node, a community the global node formed has its `global_id` (formed by no one
    here), the highest `revision` received, and the cities of other countries that joined
    (`joined_elsewhere`, as the global node last said) and the newest posts (`posts_across`)."""

    __tablename__ = "community"
    __table_args__ = (UniqueConstraint("global_id", name="uq_community_global_id"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    gaps: list[str] = Field(sa_column=Column(JSON, nullable=False))
    gap_texts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    formed_by: int | None = Field(default=None, foreign_key="user.id")
    formed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    global_id: int | None = Field(default=None)
    revision: int = Field(default=0)
    joined_elsewhere: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # On a member node: the newest posts of the discussion across countries, as the global
    # node last said (`CommunityPostInfo.to_json`, oldest first).
    posts_across: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )

    @property
    def origin(self) -> str:
        """ "global" for a community the global node formed, "national" for the node's own."""
        return "global" if self.global_id is not None else "national"


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
    # None for an event the global node scheduled (`global_id`, its id there).
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    global_id: int | None = Field(default=None)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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


class FederationMember(SQLModel, table=True):
    """On the global node: a city of a member node invited to a community across countries,
    with its answer as its node reported it (a `community.consent` event)."""

    __tablename__ = "community_federation_member"
    __table_args__ = (
        UniqueConstraint("community_id", "city_locode", name="uq_community_federation_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    city_locode: str = Field(max_length=6)
    node_id: str = Field(max_length=16)
    name: str = Field(max_length=200)
    consent: Consent = Field(sa_type=enum_column(Consent))
    invited_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CommunityDelivery(SQLModel, table=True):
    """On the global node: the latest revision of a community each member node took, and why
    the last sending failed (the node was down, or refused it), for the next try."""

    __tablename__ = "community_delivery"
    __table_args__ = (
        UniqueConstraint("community_id", "node_id", name="uq_community_delivery_node"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    node_id: str = Field(max_length=16)
    delivered_revision: int = Field(default=0)
    attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class FederationPost(SQLModel, table=True):
    """On the global node: a post of the discussion across countries, by a city's person as
    the city's node sent it (`node_id`, `city_locode`), or by the global secretariat (both
    None). The author's name is kept as written then: the person's account is on their node."""

    __tablename__ = "community_federation_post"

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    node_id: str | None = Field(default=None, max_length=16)
    city_locode: str | None = Field(default=None, max_length=6)
    author: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
