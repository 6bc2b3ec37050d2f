"""The federation event log (DESIGN §5): what each node records, hash-chained.

Each node keeps one append-only log. An event carries its `sequence` (1, 2, 3 ... without gaps)
and `prevHash`, the hash of the event before it (`GENESIS_HASH` for the first); its own `hash` is
`content_digest` (RFC 8785 canonical JSON, SHA-256) of every other member. Altering, dropping,
reordering or inserting an event therefore shows at the first event after the change, and two
different events with one sequence number (a fork) show as soon as both are seen.

The JSON form (`Event.to_json`) is what reports carry and what the hash covers:

    {"sequence": 7, "nodeId": "KE", "type": "credential.issued",
     "occurredAt": "2026-03-01T09:30:00Z", "subject": {"locode": "KE-NBO", ...},
     "data": {...}, "prevHash": "sha256:...", "hash": "sha256:..."}

Member names are camelCase like the trust list's, and `occurredAt` has one spelling (UTC, to the
second, `Z`), so that every implementation hashes the same bytes. `data` never holds personal
data: the log travels to the global node and is kept for good.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NamedTuple, Self

from sdgcities.credentials import MalformedError, canonical_json, content_digest, isoformat

from .errors import ChainBroken, EventInvalid, ForkDetected, Rollback, SequenceGap

__all__ = [
    "GENESIS",
    "GENESIS_HASH",
    "MAX_EVENT_BYTES",
    "MAX_SEQUENCE",
    "ChainHead",
    "Event",
    "EventType",
    "event_hash",
    "verify_chain",
]

GENESIS_HASH: Final = "sha256:" + "0" * 64
"""The `prevHash` of a log's first event."""

MAX_EVENT_BYTES: Final = 16 * 1024
"""The largest event, as canonical JSON: events hold ids and small facts, never documents."""

MAX_SEQUENCE: Final = 2**53 - 1
"""The largest integer that every JSON reader keeps exact (RFC 7493, I-JSON)."""

MAX_SUBJECT_MEMBERS: Final = 16
MAX_SUBJECT_VALUE_LENGTH: Final = 200

_HASH = re.compile(r"sha256:[0-9a-f]{64}")
# What the `hash` member adds to an event's canonical JSON: `,"hash":"sha256:<64 hex>"`.
_HASH_MEMBER_BYTES: Final = len(',"hash":""') + len("sha256:") + 64
_NODE_ID = re.compile(r"[A-Z]{2}|global")
_SUBJECT_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_MEMBERS: Final = frozenset(
    {"sequence", "nodeId", "type", "occurredAt", "subject", "data", "prevHash", "hash"}
)


class EventType(StrEnum):
    """What happened. The values are part of the federation format; add members, never rename.

    A node that meets a type it does not know refuses the event (and so the report), rather
    than chain past something it cannot interpret.
    """

    APPLICATION_SUBMITTED = "application.submitted"
    APPLICATION_WITHDRAWN = "application.withdrawn"
    REVIEW_COMPLETED = "review.completed"
    REPORT_GENERATED = "report.generated"
    MEETING_HELD = "meeting.held"
    DECISION_RECORDED = "decision.recorded"
    CREDENTIAL_ISSUED = "credential.issued"
    CREDENTIAL_SUSPENDED = "credential.suspended"
    CREDENTIAL_REINSTATED = "credential.reinstated"
    CREDENTIAL_REVOKED = "credential.revoked"
    FRAMEWORK_ADAPTED = "framework.adapted"
    FRAMEWORK_ENDORSED = "framework.endorsed"
    KEY_ROTATED = "key.rotated"
    SPOTCHECK_SELECTED = "spotcheck.selected"
    SPOTCHECK_RESULT = "spotcheck.result"
    NODE_JOINED = "node.joined"
    # A city's request for technical assistance with one gap, and its closure (report §25, §37):
    # the criterion and how it relates to the global framework, never the message or a person.
    ASSISTANCE_REQUESTED = "assistance.requested"
    ASSISTANCE_CLOSED = "assistance.closed"
    # A city's consent (data.share) to have its stage reports' gaps used for learning
    # communities across countries on the global node (report §30c).
    COMMUNITY_SHARING = "community.sharing"
    # A city's answer (data.answer: joined | declined; data.community: the global node's id) to
    # its invitation to a learning community across countries, for the global node.
    COMMUNITY_CONSENT = "community.consent"


class ChainHead(NamedTuple):
    """The last event of a log (or of the part of it already accepted): its sequence and hash."""

    sequence: int
    hash: str


GENESIS: Final = ChainHead(0, GENESIS_HASH)
"""The head of an empty log: `verify_chain(events, after=GENESIS)` checks a log from its start."""


def event_hash(body: Mapping[str, Any]) -> str:
    """`content_digest` of an event's JSON body, which must not contain its own `hash`."""
    if "hash" in body:
        raise EventInvalid("an event's hash covers the event without its hash member")
    try:
        return content_digest(_thaw(body))
    except MalformedError as exc:
        raise EventInvalid(f"event cannot be canonicalised: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a node's log. Shape is checked on construction; the chain by `verify_chain`.

    `subject` and `data` are read-only views (nested lists become tuples), so an event cannot be
    changed after its hash was computed. Build new events with `Event.create` or
    `Event.following`, which set `sequence`, `prev_hash` and `hash`.
    """

    sequence: int
    node_id: str
    type: EventType
    occurred_at: datetime
    subject: Mapping[str, str | int]
    data: Mapping[str, Any]
    prev_hash: str
    hash: str
    # What `hash` must be, computed once from the content on construction (`computed_hash`).
    _content_hash: str = field(default="", init=False, repr=False, compare=False)
    # The canonical JSON of `subject` and `data`, written on construction as parts of what the
    # hash covers (`canonical_subject`, `canonical_data`).
    _canonical_subject: bytes = field(default=b"", init=False, repr=False, compare=False)
    _canonical_data: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        # The hash string identifies the content: equal events have equal hashes.
        return hash(self.hash)

    def __post_init__(self) -> None:
        _check_sequence(self.sequence)
        if not isinstance(self.node_id, str) or not _NODE_ID.fullmatch(self.node_id):
            raise EventInvalid("nodeId must be an ISO 3166-1 alpha-2 code or 'global'")
        if not isinstance(self.type, EventType):
            raise EventInvalid(f"type must be an EventType, not {type(self.type).__name__}")
        object.__setattr__(self, "occurred_at", _check_moment(self.occurred_at))
        subject = _check_subject(self.subject)
        object.__setattr__(self, "subject", MappingProxyType(subject))
        if not isinstance(self.data, Mapping) or not all(isinstance(k, str) for k in self.data):
            raise EventInvalid("data must be a JSON object")
        for name, value in (("prevHash", self.prev_hash), ("hash", self.hash)):
            if not isinstance(value, str) or not _HASH.fullmatch(value):
                raise EventInvalid(f"{name} must be 'sha256:' and 64 lowercase hex digits")
        # Sequence 1 and the genesis hash go together: a later event that claims genesis as its
        # predecessor would start a second log inside the first.
        if (self.sequence == 1) != (self.prev_hash == GENESIS_HASH):
            raise EventInvalid("event 1, and only event 1, follows the genesis hash")
        # `subject` and `data` are canonicalised on their own and the event's canonical JSON put
        # together around them, so the ingest stores the same texts instead of writing them
        # again. The other members need no escaping (checked above: node id, hashes, a type's
        # name, a UTC time to the second, an integer), and JCS orders the members as here.
        data = self.data
        try:
            canonical_subject = canonical_json(subject)
            canonical_data = _canonical_data(data)
        except MalformedError as exc:
            raise EventInvalid(f"event cannot be canonicalised: {exc}") from exc
        canonical = b"".join(
            (
                b'{"data":',
                canonical_data,
                f',"nodeId":"{self.node_id}","occurredAt":"{isoformat(self.occurred_at)}",'
                f'"prevHash":"{self.prev_hash}","sequence":{self.sequence},"subject":'.encode(),
                canonical_subject,
                f',"type":"{self.type.value}"}}'.encode(),
            )
        )
        size = len(canonical) + _HASH_MEMBER_BYTES
        if size > MAX_EVENT_BYTES:
            raise EventInvalid(f"event {self.sequence} is {size} bytes, over {MAX_EVENT_BYTES}")
        object.__setattr__(self, "data", _freeze(data))
        object.__setattr__(self, "_canonical_subject", canonical_subject)
        object.__setattr__(self, "_canonical_data", canonical_data)
        object.__setattr__(self, "_content_hash", "sha256:" + hashlib.sha256(canonical).hexdigest())

    @classmethod
    def create(
        cls,
        previous: Event | None,
        *,
        node_id: str,
        type: EventType,
        occurred_at: datetime,
        subject: Mapping[str, str | int],
        data: Mapping[str, Any],
    ) -> Self:
        """The event after `previous` (the first of the log when `previous` is None)."""
        if previous is not None and previous.node_id != node_id:
            raise EventInvalid(f"event after one of node {previous.node_id} must be from it too")
        head = GENESIS if previous is None else previous.head
        return cls.following(
            head, node_id=node_id, type=type, occurred_at=occurred_at, subject=subject, data=data
        )

    @classmethod
    def following(
        cls,
        head: ChainHead,
        *,
        node_id: str,
        type: EventType,
        occurred_at: datetime,
        subject: Mapping[str, str | int],
        data: Mapping[str, Any],
    ) -> Self:
        """The event after `head`, for a writer that keeps only the head (sequence and hash).

        `occurred_at` is brought to UTC and truncated to the second, the precision of the format.
        """
        if not isinstance(occurred_at, datetime) or occurred_at.tzinfo is None:
            raise EventInvalid("occurred_at must be an aware datetime")
        body: dict[str, Any] = {
            "sequence": head.sequence + 1,
            "nodeId": node_id,
            "type": type,
            "occurredAt": occurred_at.astimezone(UTC).replace(microsecond=0),
            "subject": subject,
            "data": data,
            "prevHash": head.hash,
        }
        unhashed = cls._from_members(body, hash_value=GENESIS_HASH)
        return cls._from_members(body, hash_value=unhashed.computed_hash())

    @classmethod
    def from_json(cls, value: Any) -> Self:
        """Read an event from its JSON form (a parsed object), refusing anything else.

        Unknown or missing members, wrong types (a boolean for a number, a number for a string)
        and other spellings of the time are refused; the hash is not checked here.
        """
        if not isinstance(value, dict):
            raise EventInvalid("an event must be a JSON object")
        if value.keys() != _MEMBERS:
            unknown = sorted(set(value) - _MEMBERS)
            if unknown:
                raise EventInvalid(f"event member(s) not allowed: {', '.join(unknown)}")
            raise EventInvalid(f"event lacks {', '.join(sorted(_MEMBERS - set(value)))}")
        occurred = value["occurredAt"]
        if not isinstance(occurred, str) or not _TIMESTAMP.fullmatch(occurred):
            raise EventInvalid("occurredAt must be written YYYY-MM-DDThh:mm:ssZ")
        try:
            moment = datetime.fromisoformat(occurred[:-1]).replace(tzinfo=UTC)
        except ValueError as exc:
            raise EventInvalid(f"occurredAt is not a date-time: {exc}") from exc
        event_type = value["type"]
        known = _TYPES.get(event_type) if isinstance(event_type, str) else None
        if known is None:
            raise EventInvalid(f"unknown event type {str(event_type)[:40]!r}")
        subject, data = value["subject"], value["data"]
        if not isinstance(subject, dict) or not isinstance(data, dict):
            raise EventInvalid("subject and data must be JSON objects")
        return cls(
            sequence=value["sequence"],
            node_id=value["nodeId"],
            type=known,
            occurred_at=moment,
            subject=subject,
            data=data,
            prev_hash=value["prevHash"],
            hash=value["hash"],
        )

    @classmethod
    def _from_members(cls, members: Mapping[str, Any], *, hash_value: Any) -> Self:
        return cls(
            sequence=members["sequence"],
            node_id=members["nodeId"],
            type=members["type"],
            occurred_at=members["occurredAt"],
            subject=members["subject"],
            data=members["data"],
            prev_hash=members["prevHash"],
            hash=hash_value,
        )

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.sequence, self.hash)

    def body(self) -> dict[str, Any]:
        """The JSON members that `hash` covers: every member but `hash`."""
        return {
            "sequence": self.sequence,
            "nodeId": self.node_id,
            "type": self.type.value,
            "occurredAt": isoformat(self.occurred_at),
            "subject": dict(self.subject),
            "data": _thaw(self.data),
            "prevHash": self.prev_hash,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    def computed_hash(self) -> str:
        """The hash this event's content calls for; `hash` differs from it if it was altered."""
        return self._content_hash

    @property
    def canonical_subject(self) -> str:
        """`subject` as canonical JSON (RFC 8785), as the hash covers it."""
        return self._canonical_subject.decode("utf-8")

    @property
    def canonical_data(self) -> str:
        """`data` as canonical JSON (RFC 8785), as the hash covers it."""
        return self._canonical_data.decode("utf-8")


_TYPES: Final = {t.value: t for t in EventType}


def verify_chain(
    events: Iterable[Event], *, after: tuple[int, str] | None = None
) -> ChainHead | None:
    """Check that `events` continue one node's log without a break; return the new head.

    `after` is the (sequence, hash) of the last event already accepted: the first event must be
    the one right after it and link to it (`GENESIS` checks a log from its start). Without
    `after`, the events are checked among themselves only, and the first one's `prevHash` is
    taken as given. Returns the head after the last event (`after` itself, or None, when there
    are no events).

    Raises `ChainBroken` for an altered event or link, `SequenceGap` for missing events,
    `ForkDetected` for two different events with one sequence number (including a first event
    whose `prevHash` disagrees with `after`: the node's history differs from the one accepted),
    and `Rollback` for an event repeated, unchanged, at or before a sequence already passed.
    A caller that receives overlapping batches (retries) drops what it already holds, after
    comparing hashes, before calling this.
    """
    anchor = ChainHead(*after) if after is not None else None
    head = anchor
    seen: dict[int, Event] = {}
    node_id: str | None = None
    for event in events:
        if node_id is None:
            node_id = event.node_id
        elif event.node_id != node_id:
            raise ChainBroken(
                f"event {event.sequence} is from node {event.node_id}, the log is {node_id}'s",
                sequence=event.sequence,
            )
        if event.computed_hash() != event.hash:
            raise ChainBroken(
                f"event {event.sequence} does not match its hash: it was altered",
                sequence=event.sequence,
            )
        if head is not None:
            _check_follows(event, head=head, anchor=anchor, seen=seen)
        seen[event.sequence] = event
        head = event.head
    return head


def _check_follows(
    event: Event, *, head: ChainHead, anchor: ChainHead | None, seen: Mapping[int, Event]
) -> None:
    expected = head.sequence + 1
    if event.sequence > expected:
        raise SequenceGap(first_missing=expected, last_missing=event.sequence - 1)
    if event.sequence < expected:
        earlier = seen.get(event.sequence)
        if earlier is not None and earlier.hash != event.hash:
            raise ForkDetected(
                sequence=event.sequence,
                known_hash=earlier.hash,
                reported_hash=event.hash,
                known=earlier,
                reported=event,
            )
        if anchor is not None and event.sequence == anchor.sequence and event.hash != anchor.hash:
            raise ForkDetected(
                sequence=event.sequence, known_hash=anchor.hash, reported_hash=event.hash
            )
        raise Rollback(sequence=event.sequence, head=head.sequence)
    if event.prev_hash == head.hash:
        return
    if head == anchor:
        # The node's event `head.sequence` is not the one accepted earlier.
        raise ForkDetected(
            sequence=head.sequence,
            known_hash=head.hash,
            reported_hash=event.prev_hash,
            reported=event,
        )
    raise ChainBroken(
        f"event {event.sequence} does not link to event {head.sequence}",
        sequence=event.sequence,
    )


def _check_sequence(sequence: Any) -> None:
    if type(sequence) is not int or not 1 <= sequence <= MAX_SEQUENCE:
        raise EventInvalid(f"sequence must be an integer from 1 to {MAX_SEQUENCE}")


def _check_moment(moment: Any) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() != timedelta(0):
        raise EventInvalid("occurred_at must be a datetime in UTC")
    if moment.microsecond:
        raise EventInvalid("occurred_at is kept to the second: drop the microseconds")
    return moment.astimezone(UTC)


def _canonical_data(data: Mapping[str, Any]) -> bytes:
    # Data read from JSON is canonicalised as it is; read-only views (an event's data passed
    # on) are made plain first, which a plain object holding a view needs too.
    if type(data) is dict:
        try:
            return canonical_json(data)
        except MalformedError:
            pass
    return canonical_json(_thaw(data))


def _check_subject(subject: Any) -> dict[str, str | int]:
    if not isinstance(subject, Mapping):
        raise EventInvalid("subject must be a JSON object of ids")
    if len(subject) > MAX_SUBJECT_MEMBERS:
        raise EventInvalid(f"subject holds at most {MAX_SUBJECT_MEMBERS} ids")
    for key, value in subject.items():
        if not isinstance(key, str) or not _SUBJECT_KEY.fullmatch(key):
            raise EventInvalid("subject keys are lowercase names such as 'locode'")
        if isinstance(value, str):
            if not 0 < len(value) <= MAX_SUBJECT_VALUE_LENGTH:
                raise EventInvalid(f"subject {key} must be 1 to 200 characters")
        elif type(value) is not int or abs(value) > MAX_SEQUENCE:
            raise EventInvalid(f"subject {key} must be a string or a JSON-safe integer")
    return dict(subject)


def _freeze(value: Any) -> Any:
    # Exact types first: an ABC check per value costs more than the copy.
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool or kind is float:
        return value
    if kind is dict or isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool or kind is float:
        return value
    if kind is dict or kind is MappingProxyType or isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if kind is tuple or kind is list or isinstance(value, list | tuple):
        return [_thaw(item) for item in value]
    return value
