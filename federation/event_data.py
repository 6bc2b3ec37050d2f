"""The typed `data` of each federation event type: one model that writer and reader share.

A node's workflow builds the model and `append_event` writes `to_data()`, the JSON object the
event's hash covers; the global node's projection, the bench and the tests read events back with
`read_data(event)`. Member names are camelCase on the wire (`validFrom`), snake_case here
(`valid_from`); a member whose value is None is left out of `to_data()`, as the writers always
did, so an event built from a model hashes exactly as the hand-built one did.

Two ways of reading, by model:

- strict (`LENIENT = False`): the members must be exactly the model's, each of its type;
  `from_data` raises `EventDataInvalid` naming every problem. For data a rule depends on
  whole, such as an assistance request (no member beyond the gap: the log is kept for good).
- lenient (`LENIENT = True`): unknown members are ignored, and a member that is missing or not
  of its type reads as None. For events whose members the projection checks one by one (a
  certificate is listed without an unreadable renewal link, a decision without readable counts
  is an anomaly), and which older nodes wrote with fewer members.

Plain slotted dataclasses with one reader per member, built once per model: the ingest reads
every projected event, and this costs about a microsecond a member, under what a validation
library adds (docs/architecture.md, "Typed event data").
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, NoneType, UnionType
from typing import Any, ClassVar, Final, NamedTuple, Self

from .errors import EventInvalid
from .events import MAX_SEQUENCE, Event, EventType

__all__ = [
    "EVENT_DATA",
    "ApplicationChanged",
    "AssistanceClosed",
    "AssistanceRequested",
    "CityFacts",
    "CommunityConsent",
    "CredentialIssued",
    "CredentialStatusChanged",
    "DecisionRecorded",
    "DecisionRef",
    "EventData",
    "EventDataInvalid",
    "FrameworkKey",
    "LogHead",
    "MeetingHeld",
    "QuorumCounts",
    "ReportGenerated",
    "ReviewCompleted",
    "SharingConsent",
    "SpotcheckResult",
    "SpotcheckSelected",
    "Votes",
    "read_data",
]

MAX_REGION_LENGTH: Final = 200
MAX_PRIORITY_LENGTH: Final = 100
MAX_PRIORITIES: Final = 30


class EventDataInvalid(EventInvalid):
    """An event's `data` does not fit its type's model; `problems` says each way it fails."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


class Part:
    """A typed JSON object: an event's data, or an object inside it (`framework`, `quorum`).

    Subclasses are frozen slotted dataclasses; their fields' types say how each member is read.
    """

    __slots__ = ()
    LENIENT: ClassVar[bool] = False

    def to_data(self) -> dict[str, Any]:
        """The JSON object, camelCase, without the members that are None."""
        data: dict[str, Any] = {}
        for member in _members(type(self)):
            value = getattr(self, member.attribute)
            if value is not None:
                data[member.wire] = _to_json(value)
        return data

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """Read `data` (a JSON object, or an event's read-only view of one)."""
        if not isinstance(data, Mapping):
            raise EventDataInvalid(["data is not a JSON object"])
        lenient = cls.LENIENT
        values: dict[str, Any] = {}
        problems: list[str] = []
        if not lenient:
            allowed, required = _wire_names(cls)
            present = frozenset(data)
            if not required <= present <= allowed:
                problems.append(_members_problem(allowed, required, present))
        # One loop with the checks inline: ingest reads every projected event, and a call per
        # member doubled the cost.
        for attribute, wire, kind, optional, part in _members(cls):
            value = data.get(wire, _ABSENT)
            if value is _ABSENT:
                continue
            if value is None:
                readable = optional
            elif kind is _PART:
                assert part is not None
                try:
                    value = part.from_data(value)
                    readable = True
                except EventDataInvalid:
                    readable = False
            elif kind is int:
                readable = type(value) is int and 0 <= value <= MAX_SEQUENCE
            elif kind is float:
                readable = type(value) in (int, float) and 0 <= value <= MAX_SEQUENCE
            elif kind is tuple:
                readable = (
                    isinstance(value, Sequence)
                    and not isinstance(value, str)
                    and all(type(item) is str for item in value)
                )
                value = tuple(value) if readable else None
            elif kind is dict:
                readable = isinstance(value, Mapping) and all(
                    _is_count(count) for count in value.values()
                )
                value = dict(value) if readable else None
            else:
                readable = type(value) is kind
            if readable:
                values[attribute] = value
            elif lenient:
                values[attribute] = None
            else:
                problems.append(f"data.{wire} is not {_expected(kind, part)}")
        if problems:
            raise EventDataInvalid(problems)
        return cls(**values)


class EventData(Part):
    """The data of one or more event types (`TYPES`)."""

    __slots__ = ()
    TYPES: ClassVar[frozenset[EventType]]


# Objects inside the data --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrameworkKey(Part):
    """The framework version an application is assessed under (digest: of its document)."""

    id: str
    version: str
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionRef(Part):
    """The committee decision an event carries out: its meeting (as the certificate names it)
    and agenda item."""

    LENIENT: ClassVar[bool] = True
    meeting: str | None = None
    item: int | None = None


@dataclass(frozen=True, slots=True)
class QuorumCounts(Part):
    """Who sat and attended when a decision was taken (node/committee/quorum.py's count); the
    global node checks the first three against the federation's rule."""

    LENIENT: ClassVar[bool] = True
    # None only while reading: `from_data` refuses counts without the three.
    sitting: int | None = None
    attending: int | None = None
    non_government_attending: int | None = None
    required: int | None = None
    required_non_government: int | None = None
    recused: int | None = None
    met: bool | None = None

    @classmethod
    def from_data(cls, data: Any) -> Self:
        counts = super(QuorumCounts, cls).from_data(data)
        if None in (counts.sitting, counts.attending, counts.non_government_attending):
            raise EventDataInvalid(["the quorum counts are missing or not whole numbers"])
        return counts


@dataclass(frozen=True, slots=True)
class Votes(Part):
    yes: int
    no: int
    abstain: int


@dataclass(frozen=True, slots=True)
class LogHead(Part):
    sequence: int
    hash: str


@dataclass(frozen=True, slots=True)
class CityFacts(Part):
    """A city's public fields the certificate's token does not carry. Read leniently, member by
    member: what is unreadable is left empty (the registry shows less, the certificate stands)."""

    region: str = ""
    population: int | None = None
    priorities: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        # Every member is written, a missing population as null: as the certificates service did.
        return {
            "region": self.region,
            "population": self.population,
            "priorities": list(self.priorities),
        }

    @classmethod
    def from_data(cls, data: Any) -> Self:
        facts = data if isinstance(data, Mapping) else {}
        region = facts.get("region")
        population = facts.get("population")
        priorities = facts.get("priorities")
        return cls(
            region=region if isinstance(region, str) and len(region) <= MAX_REGION_LENGTH else "",
            population=population if _is_count(population) else None,
            priorities=tuple(
                p
                for p in (
                    priorities
                    if isinstance(priorities, Sequence) and not isinstance(priorities, str)
                    else ()
                )
                if isinstance(p, str) and 0 < len(p) <= MAX_PRIORITY_LENGTH
            )[:MAX_PRIORITIES],
        )


# The event types' data ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplicationChanged(EventData):
    """`application.submitted` / `application.withdrawn`: the stage applied for."""

    TYPES: ClassVar = frozenset({EventType.APPLICATION_SUBMITTED, EventType.APPLICATION_WITHDRAWN})
    stage: str


@dataclass(frozen=True, slots=True)
class ReviewCompleted(EventData):
    """The reviewers' consolidated recommendation and how many criteria had each verdict."""

    TYPES: ClassVar = frozenset({EventType.REVIEW_COMPLETED})
    stage: str
    level: str
    framework: FrameworkKey
    recommendation: str
    verdicts: dict[str, int]
    reviewers: int


@dataclass(frozen=True, slots=True)
class ReportGenerated(EventData):
    """A stage report: its version, the digest of its document and the gaps it names."""

    TYPES: ClassVar = frozenset({EventType.REPORT_GENERATED})
    stage: str
    version: int
    digest: str
    recommendation: str
    gaps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeetingHeld(EventData):
    TYPES: ClassVar = frozenset({EventType.MEETING_HELD})
    title: str
    opened_at: str
    closed_at: str
    attending: int
    items: int
    outcomes: dict[str, int]


@dataclass(frozen=True, slots=True)
class DecisionRecorded(EventData):
    """A committee decision on one agenda item, with the counts the global node checks.

    What else it carries depends on `kind`: an award its `stage`, a suspension, reinstatement
    or revocation its `reason`, an endorsement the `framework` id, `version` and `digest`."""

    LENIENT: ClassVar[bool] = True
    TYPES: ClassVar = frozenset({EventType.DECISION_RECORDED})
    kind: str | None = None
    outcome: str | None = None
    quorum: QuorumCounts | None = None
    votes: Votes | None = None
    stage: str | None = None
    reason: str | None = None
    framework: str | None = None
    version: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class CredentialIssued(EventData):
    """A certificate issued: the signed token (`jwt`, all the global node trusts of it), the
    certificate's public facts, the decision it carries out, the certificate it renews (the
    token does not say) and the city's public fields."""

    LENIENT: ClassVar[bool] = True
    TYPES: ClassVar = frozenset({EventType.CREDENTIAL_ISSUED})
    jwt: str | None = None
    id: str | None = None
    stage: str | None = None
    level: str | None = None
    framework: FrameworkKey | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    decision: DecisionRef | None = None
    renews: str | None = None
    city: CityFacts | None = None

    @classmethod
    def from_data(cls, data: Any) -> Self:
        issued = super(CredentialIssued, cls).from_data(data)
        # A renewal link that is there but not a string must not read as "renews nothing".
        if issued.renews is None and isinstance(data, Mapping) and data.get("renews") is not None:
            return dataclasses.replace(issued, renews="")
        return issued


@dataclass(frozen=True, slots=True)
class CredentialStatusChanged(EventData):
    """A certificate suspended, reinstated or revoked on the committee's decision."""

    LENIENT: ClassVar[bool] = True
    TYPES: ClassVar = frozenset(
        {
            EventType.CREDENTIAL_SUSPENDED,
            EventType.CREDENTIAL_REINSTATED,
            EventType.CREDENTIAL_REVOKED,
        }
    )
    id: str | None = None
    stage: str | None = None
    level: str | None = None
    framework: FrameworkKey | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    status: str | None = None
    reason: str | None = None
    decision: DecisionRef | None = None


@dataclass(frozen=True, slots=True)
class SpotcheckSelected(EventData):
    """The global node's draw: the digest of its document, the log head it drew from."""

    TYPES: ClassVar = frozenset({EventType.SPOTCHECK_SELECTED})
    document: str
    log_head: LogHead
    rate: float
    candidates: int
    selected: int


@dataclass(frozen=True, slots=True)
class SpotcheckResult(EventData):
    """A spot check's outcome: on the global node, what it found; on the checked node, what it
    received (`by`, the global node) and whether a suspension was proposed."""

    TYPES: ClassVar = frozenset({EventType.SPOTCHECK_RESULT})
    outcome: str
    criteria: tuple[str, ...]
    by: str | None = None
    suspension_proposed: bool | None = None


@dataclass(frozen=True, slots=True)
class AssistanceRequested(EventData):
    """A city's request for help with one gap: the criterion and how it relates to the global
    framework, never the message or who asked (the log is kept for good)."""

    TYPES: ClassVar = frozenset({EventType.ASSISTANCE_REQUESTED})
    criterion: str
    national: bool
    stage: str
    kind: str
    framework: FrameworkKey


@dataclass(frozen=True, slots=True)
class AssistanceClosed(EventData):
    """The closure only (resolved or declined): the reason is the secretariat's words."""

    TYPES: ClassVar = frozenset({EventType.ASSISTANCE_CLOSED})
    closure: str


@dataclass(frozen=True, slots=True)
class SharingConsent(EventData):
    """A city's consent (or its withdrawal) to share its gaps with learning communities."""

    TYPES: ClassVar = frozenset({EventType.COMMUNITY_SHARING})
    share: bool


@dataclass(frozen=True, slots=True)
class CommunityConsent(EventData):
    """A city's answer (`joined`, `declined`) to a learning community of the global node,
    named by the global node's id: the answer only, never who gave it."""

    TYPES: ClassVar = frozenset({EventType.COMMUNITY_CONSENT})
    community: int
    answer: str


EVENT_DATA: Final[Mapping[EventType, type[EventData]]] = MappingProxyType(
    {
        event_type: model
        for model in (
            ApplicationChanged,
            ReviewCompleted,
            ReportGenerated,
            MeetingHeld,
            DecisionRecorded,
            CredentialIssued,
            CredentialStatusChanged,
            SpotcheckSelected,
            SpotcheckResult,
            AssistanceRequested,
            AssistanceClosed,
            SharingConsent,
            CommunityConsent,
        )
        for event_type in model.TYPES
    }
)
"""The model of each event type that nodes write. Framework adaptations and endorsements, key
rotations and joins are types of the format that no node writes yet: they have no model."""


def read_data(event: Event) -> EventData:
    """The typed data of `event`; raises `EventDataInvalid` for a type without a model."""
    model = EVENT_DATA.get(event.type)
    if model is None:
        raise EventDataInvalid([f"no node writes {event.type.value} events yet"])
    return model.from_data(event.data)


# Reading members, once per model ------------------------------------------------------------

_ABSENT: Final = object()
_PART: Final = object()


class _Member(NamedTuple):
    attribute: str
    wire: str
    kind: Any  # str, int, float, bool, tuple (of strings), dict (of counts) or _PART
    optional: bool
    part: type[Part] | None


_MEMBERS: dict[type[Part], tuple[_Member, ...]] = {}
_WIRE_NAMES: dict[type[Part], tuple[frozenset[str], frozenset[str]]] = {}


def _members(model: type[Part]) -> tuple[_Member, ...]:
    found = _MEMBERS.get(model)
    if found is None:
        found = _MEMBERS[model] = _read_members(model)
    return found


def _read_members(model: type[Part]) -> tuple[_Member, ...]:
    hints = typing.get_type_hints(model)
    members = []
    for field in dataclasses.fields(model):  # type: ignore[arg-type]
        hint, optional = hints[field.name], False
        if isinstance(hint, UnionType):
            (hint,) = (option for option in typing.get_args(hint) if option is not NoneType)
            optional = True
        kind = typing.get_origin(hint) or hint
        part = hint if isinstance(hint, type) and issubclass(hint, Part) else None
        if part is not None:
            kind = _PART
        elif kind not in (str, int, float, bool, tuple, dict):
            raise TypeError(f"{model.__name__}.{field.name}: no reader for {hint!r}")
        members.append(_Member(field.name, _camel(field.name), kind, optional, part))
    return tuple(members)


def _wire_names(model: type[Part]) -> tuple[frozenset[str], frozenset[str]]:
    """The members `model` allows, and those of them it requires (the fields without default)."""
    found = _WIRE_NAMES.get(model)
    if found is None:
        fields = dataclasses.fields(model)  # type: ignore[arg-type]
        found = _WIRE_NAMES[model] = (
            frozenset(_camel(field.name) for field in fields),
            frozenset(
                _camel(field.name) for field in fields if field.default is dataclasses.MISSING
            ),
        )
    return found


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _members_problem(
    allowed: frozenset[str], required: frozenset[str], present: frozenset[str]
) -> str:
    extra, missing = sorted(present - allowed), sorted(required - present)
    optional = sorted(allowed - required)
    return (
        "data must hold exactly "
        + ", ".join(sorted(required))
        + (f" (and may hold {', '.join(optional)})" if optional else "")
        + (f"; not {', '.join(extra)[:200]}" if extra else "")
        + (f"; it lacks {', '.join(missing)}" if missing else "")
    )


_EXPECTED: Final[dict[Any, str]] = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    tuple: "a list of strings",
    dict: "an object of whole numbers",
}


def _expected(kind: Any, part: type[Part] | None) -> str:
    if part is not None:
        return "{" + ", ".join(member.wire for member in _members(part)) + "}"
    return _EXPECTED[kind]


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_SEQUENCE


def _to_json(value: Any) -> Any:
    if isinstance(value, Part):
        return value.to_data()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
