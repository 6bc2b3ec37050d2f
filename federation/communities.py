"""The global node's signed word on a learning community across countries (report §30c): what a
member node needs to invite its cities and keep them up to date.

§30(c): "Diagnostic processes linked to certification stages can enable cities with common
challenges and priorities to be grouped as 'learning communities' where they can learn from
each other and benefit from joint training support programmes."

A city's people have accounts on their own node only, so the global node cannot invite them
itself: it sends each member node whose cities it invites a `CommunityInvitation` (`typ:
community-invitation+jwt`, signed like a spot-check outcome: a key the trust list gives the
global node, one audience, short-lived, a `jti` the receiver refuses to see twice). The message
is pushed, not pulled, for the same reasons the outcomes are: the global node knows when the
community changed, and a member node needs no credentials to answer it.

Each message is the community's whole state as that member may see it, with a `revision` the
global node raises at each change (a city's answer, an event), so a member keeps the highest
revision it received and an older one, arriving late, changes nothing:

    {"nodeId": "KE", "community": 7, "revision": 3,
     "title": "...", "description": "...", "gaps": ["1.2", "3.4"],
     "invited": ["KE-MBA"],                      # this member's cities only
     "invitedCount": 4,                          # how many cities, of every country
     "joined": [{"locode": "TZ-DAR", "name": "Dar es Salaam"}],   # every country's, joined only
     "events": [{"id": 2, "kind": "webinar", "title": "...",
                 "startsAt": "2027-01-05T09:00:00Z", "minutes": 60, "cancelled": false}],
     "posts": [{"id": 5, "author": "Amina Odhiambo", "city": "KE-MBA",   # null: the secretariat
                "text": "...", "postedAt": "2027-01-02T10:00:00Z"}]}  # newest last, at most 50

`invited` names the audience's own cities, never another country's: a city invited elsewhere,
or one that declined, is not shown before it joins (its gaps are its own until it consents).

The discussion travels the other way too: a member node sends a city's post as a
`CommunityPostMessage` (`typ: community-post+jwt`), signed with its own key, for the global
node's audience, short-lived, a `jti` seen once; the global node checks the signature first (a
key on its trust list, any member's), then which node signed it, and only then what it says:

    {"community": 7, "city": "KE-MBA", "author": "Amina Odhiambo", "text": "..."}

Posts are personal text, so they never enter the federation event log (kept for good): they
travel in these messages only. The newest reach every member node in the community document,
which may therefore be up to `MAX_COMMUNITY_BYTES` (256 KB, not the 64 KB of the other
messages): 50 posts of 2,000 characters do not fit in 64 KB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Self

from sdgcities.credentials import SigningKey, TrustList, canonical_json, is_locode, isoformat

from .errors import MessageRefused
from .spotcheck import (
    MAX_MESSAGE_BYTES,
    MAX_TEXT,
    OUTCOME_LIFETIME,
    REQUEST_LIFETIME,
    _claim_positive,
    _claim_text,
    _message_node_id,
    _sign,
    _verify_global,
    _verify_signed,
)

__all__ = [
    "COMMUNITY_INVITATION_TYP",
    "COMMUNITY_POST_TYP",
    "MAX_COMMUNITY_BYTES",
    "MAX_POSTS",
    "MAX_POST_TEXT",
    "CommunityEventInfo",
    "CommunityInvitation",
    "CommunityPostInfo",
    "CommunityPostMessage",
    "JoinedCity",
    "newest_posts",
]

COMMUNITY_INVITATION_TYP: Final = "community-invitation+jwt"
MAX_GAPS: Final = 20
MAX_CITIES: Final = 50
MAX_EVENTS: Final = 100
MAX_TITLE: Final = 200
COMMUNITY_POST_TYP: Final = "community-post+jwt"
MAX_POSTS: Final = 50
MAX_POST_TEXT: Final = 2000
MAX_AUTHOR: Final = 200
MAX_COMMUNITY_BYTES: Final = 256 * 1024
# The posts' share of a community document, in bytes of the JSON signed: the newest that fit.
POSTS_BUDGET: Final = 128 * 1024
EVENT_KINDS: Final = frozenset({"webinar", "peer_exchange"})

_CODE: Final = re.compile(r"[A-Za-z0-9._-]{1,32}")
_MOMENT: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True, slots=True)
class JoinedCity:
    locode: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"locode": self.locode, "name": self.name}


@dataclass(frozen=True, slots=True)
class CommunityEventInfo:
    """A webinar or peer exchange the global secretariat scheduled (`id` on the global node)."""

    id: int
    kind: str
    title: str
    starts_at: datetime
    minutes: int
    cancelled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "startsAt": isoformat(self.starts_at),
            "minutes": self.minutes,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True, slots=True)
class CommunityPostInfo:
    """A post of the discussion across countries (`id` on the global node); `city` None for
    the global secretariat's."""

    id: int
    author: str
    city: str | None
    text: str
    posted_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author": self.author,
            "city": self.city,
            "text": self.text,
            "postedAt": isoformat(self.posted_at),
        }


def newest_posts(posts: list[CommunityPostInfo]) -> list[CommunityPostInfo]:
    """Of `posts` (oldest first), the newest `MAX_POSTS` whose JSON, as signed (UTF-8), stays
    within the posts' budget, oldest first, so a document of long posts in scripts of several
    bytes a character stays under its bound."""
    kept: list[CommunityPostInfo] = []
    used = 0
    for post in reversed(posts):
        size = len(canonical_json(post.to_json()))
        if len(kept) == MAX_POSTS or used + size > POSTS_BUDGET:
            break
        kept.append(post)
        used += size
    return kept[::-1]


@dataclass(frozen=True, slots=True)
class CommunityInvitation:
    """Community `community_id` of the global node, at `revision`, as member `node_id` sees it."""

    issuer: str
    audience: str
    node_id: str
    community_id: int
    revision: int
    title: str
    description: str
    gaps: tuple[str, ...]
    invited: tuple[str, ...]
    invited_count: int
    joined: tuple[JoinedCity, ...]
    events: tuple[CommunityEventInfo, ...]
    posts: tuple[CommunityPostInfo, ...]
    issued_at: datetime
    expires_at: datetime
    jti: str

    @classmethod
    def sign(
        cls,
        *,
        key: SigningKey,
        issuer: str,
        audience: str,
        node_id: str,
        community_id: int,
        revision: int,
        title: str,
        description: str,
        gaps: tuple[str, ...] | list[str],
        invited: tuple[str, ...] | list[str],
        invited_count: int,
        joined: tuple[JoinedCity, ...] | list[JoinedCity] = (),
        events: tuple[CommunityEventInfo, ...] | list[CommunityEventInfo] = (),
        posts: tuple[CommunityPostInfo, ...] | list[CommunityPostInfo] = (),
        now: datetime | None = None,
        lifetime: timedelta = OUTCOME_LIFETIME,
    ) -> str:
        claims = {
            "nodeId": node_id,
            "community": community_id,
            "revision": revision,
            "title": title,
            "description": description,
            "gaps": list(gaps),
            "invited": list(invited),
            "invitedCount": invited_count,
            "joined": [city.to_json() for city in joined],
            "events": [event.to_json() for event in events],
            "posts": [post.to_json() for post in posts],
        }
        return _sign(
            claims,
            typ=COMMUNITY_INVITATION_TYP,
            key=key,
            issuer=issuer,
            audience=audience,
            now=now,
            lifetime=lifetime,
        )

    @classmethod
    def from_jws(
        cls, token: str, *, trust_list: TrustList, audience: str, now: datetime | None = None
    ) -> Self:
        """The message, once its signature (the global node's key, first), `typ`, size,
        audience and time are checked; then every member's shape."""
        payload, envelope = _verify_global(
            token,
            typ=COMMUNITY_INVITATION_TYP,
            trust_list=trust_list,
            audience=audience,
            now=now,
            max_bytes=MAX_COMMUNITY_BYTES,
        )
        node_id = _message_node_id(payload)
        invited = _list(payload, "invited", MAX_CITIES)
        if not all(is_locode(locode) for locode in invited):
            raise MessageRefused("invited must list UN/LOCODEs (KE-MBA)")
        gaps = _list(payload, "gaps", MAX_GAPS)
        if not gaps or not all(isinstance(code, str) and _CODE.fullmatch(code) for code in gaps):
            raise MessageRefused("gaps must list 1 to 20 criterion codes")
        return cls(
            issuer=envelope.issuer,
            audience=envelope.audience,
            node_id=node_id,
            community_id=_claim_positive(payload, "community"),
            revision=_claim_positive(payload, "revision"),
            title=_string(payload.get("title"), "title", MAX_TITLE, empty=False),
            description=_string(payload.get("description"), "description", MAX_TEXT),
            gaps=tuple(gaps),
            invited=tuple(invited),
            invited_count=_claim_positive(payload, "invitedCount"),
            joined=tuple(_joined(city) for city in _list(payload, "joined", MAX_CITIES)),
            events=tuple(_event(event) for event in _list(payload, "events", MAX_EVENTS)),
            posts=tuple(_post(post) for post in _list(payload, "posts", MAX_POSTS)),
            issued_at=envelope.issued_at,
            expires_at=envelope.expires_at,
            jti=envelope.jti,
        )


@dataclass(frozen=True, slots=True)
class CommunityPostMessage:
    """A post by `author` of city `city` to community `community_id` of the global node, sent by
    node `node_id` (the node whose key signed it)."""

    node_id: str
    issuer: str
    audience: str
    community_id: int
    city: str
    author: str
    text: str
    issued_at: datetime
    expires_at: datetime
    jti: str

    @classmethod
    def sign(
        cls,
        *,
        key: SigningKey,
        issuer: str,
        audience: str,
        community_id: int,
        city: str,
        author: str,
        text: str,
        now: datetime | None = None,
        lifetime: timedelta = REQUEST_LIFETIME,
    ) -> str:
        claims = {"community": community_id, "city": city, "author": author, "text": text}
        return _sign(
            claims,
            typ=COMMUNITY_POST_TYP,
            key=key,
            issuer=issuer,
            audience=audience,
            now=now,
            lifetime=lifetime,
        )

    @classmethod
    def from_jws(
        cls, token: str, *, trust_list: TrustList, audience: str, now: datetime | None = None
    ) -> Self:
        """The post, once its signature (a key of a node on the trust list, first), `typ`,
        size, audience and time are checked; then its members. Which node may post for the
        city is the receiver's to check (`node_id`)."""
        payload, envelope, node = _verify_signed(
            token,
            typ=COMMUNITY_POST_TYP,
            trust_list=trust_list,
            audience=audience,
            now=now,
            signer=None,
            max_bytes=MAX_MESSAGE_BYTES,
        )
        members = {"community", "city", "author", "text", "iss", "aud", "iat", "exp", "jti"}
        if set(payload) != members:
            raise MessageRefused(f"a post has exactly {', '.join(sorted(members))}")
        city = payload["city"]
        if not is_locode(city):
            raise MessageRefused("city must be a UN/LOCODE (KE-MBA)")
        text = _string(payload["text"], "text", MAX_POST_TEXT, empty=False)
        if not text.strip():
            raise MessageRefused("text must not be blank")
        return cls(
            node_id=node.id,
            issuer=envelope.issuer,
            audience=envelope.audience,
            community_id=_claim_positive(payload, "community"),
            city=city,
            author=_string(_claim_text(payload, "author"), "author", MAX_AUTHOR, empty=False),
            text=text,
            issued_at=envelope.issued_at,
            expires_at=envelope.expires_at,
            jti=envelope.jti,
        )


def _list(payload: dict[str, Any], name: str, limit: int) -> list[Any]:
    value = payload.get(name)
    if not isinstance(value, list) or len(value) > limit:
        raise MessageRefused(f"{name} must be a list of at most {limit}")
    return value


def _string(value: Any, name: str, limit: int, *, empty: bool = True) -> str:
    if not isinstance(value, str) or len(value) > limit or (not empty and not value):
        raise MessageRefused(f"{name} must be a string of at most {limit} characters")
    return value


def _joined(value: Any) -> JoinedCity:
    if not isinstance(value, dict) or set(value) != {"locode", "name"}:
        raise MessageRefused("each joined city is an object with locode and name")
    locode = value["locode"]
    if not is_locode(locode):
        raise MessageRefused("a joined city's locode must be a UN/LOCODE")
    return JoinedCity(locode=locode, name=_string(value["name"], "a joined city's name", 200))


def _event(value: Any) -> CommunityEventInfo:
    members = {"id", "kind", "title", "startsAt", "minutes", "cancelled"}
    if not isinstance(value, dict) or set(value) != members:
        raise MessageRefused(f"each event is an object with {', '.join(sorted(members))}")
    if value["kind"] not in EVENT_KINDS:
        raise MessageRefused("an event's kind must be 'webinar' or 'peer_exchange'")
    minutes = value["minutes"]
    if type(minutes) is not int or not 15 <= minutes <= 480:
        raise MessageRefused("an event's minutes must be from 15 to 480")
    starts = value["startsAt"]
    if not isinstance(starts, str) or not _MOMENT.fullmatch(starts):
        raise MessageRefused("an event's startsAt is written YYYY-MM-DDThh:mm:ssZ")
    try:
        starts_at = datetime.fromisoformat(starts[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise MessageRefused(f"{starts} is not a date-time") from exc
    if not isinstance(value["cancelled"], bool):
        raise MessageRefused("an event's cancelled must be true or false")
    return CommunityEventInfo(
        id=_claim_positive(value, "id"),
        kind=value["kind"],
        title=_string(value["title"], "an event's title", MAX_TITLE, empty=False),
        starts_at=starts_at,
        minutes=minutes,
        cancelled=value["cancelled"],
    )


def _post(value: Any) -> CommunityPostInfo:
    members = {"id", "author", "city", "text", "postedAt"}
    if not isinstance(value, dict) or set(value) != members:
        raise MessageRefused(f"each post is an object with {', '.join(sorted(members))}")
    city = value["city"]
    if city is not None and not is_locode(city):
        raise MessageRefused("a post's city must be a UN/LOCODE or null")
    posted = value["postedAt"]
    if not isinstance(posted, str) or not _MOMENT.fullmatch(posted):
        raise MessageRefused("a post's postedAt is written YYYY-MM-DDThh:mm:ssZ")
    try:
        posted_at = datetime.fromisoformat(posted[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise MessageRefused(f"{posted} is not a date-time") from exc
    return CommunityPostInfo(
        id=_claim_positive(value, "id"),
        author=_string(value["author"], "a post's author", MAX_AUTHOR, empty=False),
        city=city,
        text=_string(value["text"], "a post's text", MAX_POST_TEXT, empty=False),
        posted_at=posted_at,
    )
