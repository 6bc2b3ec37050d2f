"""The bodies of the learning communities' API."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import Field

from sdgcities.federation.communities import MAX_COMMUNITY_BYTES
from sdgcities.node.cities.schemas import Locode
from sdgcities.node.schemas import FutureMoment, Page, RequestModel, ResponseModel

from .models import Consent, EventKind

MAX_TITLE_CHARS: Final = 200
MAX_DESCRIPTION_CHARS: Final = 2000
MAX_POST_CHARS: Final = 2000
MAX_GAPS: Final = 20
MAX_CITIES: Final = 50
CriterionCode = Field(min_length=1, max_length=32)


class GapRef(ResponseModel):
    code: str
    text: str


class CityName(ResponseModel):
    locode: str
    name: str
    country: str


class CommunityProposal(ResponseModel):
    """Cities whose latest stage reports share these gaps: a community the secretariat may form."""

    gaps: list[GapRef]
    cities: list[CityName]
    shared_priorities: list[str] = Field(description="The strategic priorities they all name")
    formed: int | None = Field(description="The community already formed from it, if any")


class CommunityProposals(ResponseModel):
    data: list[CommunityProposal]


class CommunityCreate(RequestModel):
    """Forms a community of `cities` around `gaps`, each a gap of every city's latest report."""

    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    gaps: list[str] = Field(min_length=1, max_length=MAX_GAPS)
    cities: list[Locode] = Field(min_length=2, max_length=MAX_CITIES)


class ConsentCreate(RequestModel):
    answer: Literal["join", "decline"]


class EventCreate(RequestModel):
    kind: EventKind
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    starts_at: FutureMoment
    minutes: int = Field(default=60, ge=15, le=480)


class PostCreate(RequestModel):
    text: str = Field(min_length=1, max_length=MAX_POST_CHARS)


class ToolLink(ResponseModel):
    """A catalogue entry (a tool or a case study) for one of the community's gaps."""

    id: int
    kind: str
    title: str
    summary: str
    link: str
    provider: str


class GapTools(ResponseModel):
    code: str
    text: str
    tools: list[ToolLink]


class MemberPublic(ResponseModel):
    locode: str
    name: str
    country: str
    consent: Consent


class EventPublic(ResponseModel):
    id: int
    kind: EventKind
    title: str
    starts_at: datetime
    minutes: int
    cancelled_at: datetime | None = None


class PostPublic(ResponseModel):
    id: int
    author: str
    city_locode: str | None
    text: str
    created_at: datetime


class CommunitySummary(ResponseModel):
    id: int
    title: str
    gaps: list[str]
    formed_at: datetime
    consent: Consent | None = Field(description="For a city: its answer; for staff: none")
    joined: int = Field(description="How many cities joined")


class CommunitiesPublic(Page):
    data: list[CommunitySummary]


class CommunityPublic(ResponseModel):
    """What the caller may see: a city that has not joined sees the community's gaps (its own)
    and tools, never the other cities; a member sees the cities that joined; the secretariat
    sees every invitation and its answer."""

    id: int
    title: str
    description: str
    formed_at: datetime
    across_countries: bool = Field(
        description="Formed by the global node, of cities of several countries; its "
        "discussion is the global node's (a member node shows it as the global node last sent it)"
    )
    consent: Consent | None
    gaps: list[GapTools]
    members: list[MemberPublic]
    events: list[EventPublic]
    posts: list[PostPublic]


class SharingUpdate(RequestModel):
    """The city's consent to have its stage reports' gaps used across countries."""

    share: bool


class SharingPublic(ResponseModel):
    city_locode: str
    share: bool
    updated_at: datetime | None


class CommunityDocument(RequestModel):
    """The global node's signed community (`community-invitation+jwt`): larger than the other
    signed messages, for it carries the newest posts of the discussion."""

    token: str = Field(min_length=1, max_length=MAX_COMMUNITY_BYTES)


class PostTaken(ResponseModel):
    """The global node's answer to a member node's post: the sender's new community document,
    which carries the post."""

    token: str


class InvitationReceived(ResponseModel):
    """A member node's answer to the global node's signed community."""

    community_id: int = Field(description="The community's id on this node")
    global_id: int
    revision: int = Field(description="The revision this node holds now")
