"""Federation reports: a node's events in a signed batch (`typ: federation-report+jwt`).

A node pushes reports to the global node and serves them at `GET /federation/events?after=N`
(DESIGN §5, §6). The JWS payload is

    {"iss": "<node DID>", "sub": "<node id>", "iat": <signing time>,
     "first": N + 1, "last": M, "events": [<event N + 1>, ..., <event M>]}

`first` and `last` are inclusive; a report with no events (`last` = `first` - 1) is a signed
"nothing after N". `ReportBatch.verify` checks the signature with a key the trust list gives the
node named in `sub`, so a node can report only as itself, and checks that the events are that
node's and chain together; whether they continue what the receiver already holds is
`verify_chain(batch.events, after=stored_head)`, the receiver's next step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Self

from sdgcities.credentials import (
    Error as CredentialsError,
)
from sdgcities.credentials import (
    JwsToken,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
    canonical_json,
    sign_jws,
)

from .errors import EventInvalid, ReportInvalid, ReportTooLarge
from .events import ChainHead, Event, verify_chain

__all__ = [
    "MAX_REPORT_BYTES",
    "MAX_REPORT_EVENTS",
    "REPORT_MEDIA_TYPE",
    "REPORT_TYP",
    "ReportBatch",
    "fit_report",
    "sign_report",
]

REPORT_TYP: Final = "federation-report+jwt"
REPORT_MEDIA_TYPE: Final = "application/federation-report+jwt"
MAX_REPORT_EVENTS: Final = 1000
MAX_REPORT_BYTES: Final = 4 * 1024 * 1024
"""The largest report token: what a receiver parses before it knows who signed it."""

# Room kept for the header, the signature and the payload members other than the events.
_RESERVED_BYTES: Final = 16 * 1024
_PAYLOAD_MEMBERS: Final = frozenset({"iss", "sub", "iat", "first", "last", "events"})


def fit_report(events: Sequence[Event], *, max_events: int = MAX_REPORT_EVENTS) -> Sequence[Event]:
    """The longest prefix of `events` that one report can carry (at least one event, if any)."""
    if not 1 <= max_events <= MAX_REPORT_EVENTS:
        raise ValueError(f"max_events must be within [1, {MAX_REPORT_EVENTS}]")
    # The payload is base64url-encoded in the token: 3 bytes of JSON take 4 characters.
    budget = (MAX_REPORT_BYTES - _RESERVED_BYTES) * 3 // 4
    used = 0
    for count, event in enumerate(events[:max_events]):
        used += len(canonical_json(event.to_json())) + 1  # and a comma
        if used > budget:
            return events[:count]
    return events[:max_events]


def sign_report(
    events: Sequence[Event],
    *,
    key: SigningKey,
    node_id: str,
    issuer_did: str,
    issued_at: datetime,
    after: int | None = None,
) -> str:
    """Sign `events`, consecutive events of `node_id`'s log, as a `federation-report+jwt`.

    `after` is the sequence the report continues from; it is required for an empty report
    (nothing after `after`) and, when given with events, must be the one before the first.
    Raises `ReportTooLarge` beyond the caps (use `fit_report` first), `ReportInvalid` for events
    that are not `node_id`'s, and the `verify_chain` errors for events that do not chain.
    """
    events = tuple(events)
    if len(events) > MAX_REPORT_EVENTS:
        raise ReportTooLarge(f"a report carries at most {MAX_REPORT_EVENTS} events")
    if events:
        first = events[0].sequence
        if after is not None and after != first - 1:
            raise ReportInvalid(f"the report starts at event {first}, not after event {after}")
    elif after is None or type(after) is not int or after < 0:
        raise ReportInvalid("an empty report needs the sequence it follows (`after` >= 0)")
    else:
        first = after + 1
    strangers = sorted({e.node_id for e in events} - {node_id})
    if strangers:
        raise ReportInvalid(
            f"node {node_id} reports only its own events, not {', '.join(strangers)}'s"
        )
    verify_chain(events)
    payload = {
        "iss": issuer_did,
        "sub": node_id,
        "iat": int(issued_at.timestamp()),
        "first": first,
        "last": first + len(events) - 1,
        "events": [event.to_json() for event in events],
    }
    token = sign_jws(payload, key=key, did=issuer_did, typ=REPORT_TYP)
    if len(token) > MAX_REPORT_BYTES:
        raise ReportTooLarge(f"the report is {len(token)} bytes, over {MAX_REPORT_BYTES}")
    return token


@dataclass(frozen=True, slots=True)
class ReportBatch:
    """A report whose signature, signer and chain were checked by `ReportBatch.verify`."""

    node_id: str
    issuer: str
    issued_at: datetime
    first: int
    last: int
    events: tuple[Event, ...]
    kid: str  # the signing key's RFC 7638 thumbprint (the header's kid without the DID)
    token: str

    @property
    def head(self) -> ChainHead | None:
        """The report's last event, or None for an empty report."""
        return self.events[-1].head if self.events else None

    @classmethod
    def verify(cls, token: str, *, trust_list: TrustList) -> Self:
        """Verify a report against the trust list; raise `ReportInvalid` or a chain error.

        The header's `kid` must name a key the trust list gives the node the payload names
        (`sub`, with its DID as `iss` and as the kid's DID), usable at the signing time `iat`:
        not compromised, within its validity, not retired before it; a node withdrawn before
        `iat` reports nothing. The
        events must all be that node's, numbered `first` to `last`, and chain together.
        """
        try:
            parsed = JwsToken.parse(token, typ=REPORT_TYP, max_bytes=MAX_REPORT_BYTES)
        except CredentialsError as exc:
            raise ReportInvalid(f"not a federation report: {exc}") from exc
        try:
            found = trust_list.signer_of(parsed)
        except CredentialsError as exc:
            raise ReportInvalid(f"the report's kid does not name its key's node: {exc}") from exc
        if found is None:
            raise ReportInvalid("the report is signed with a key that is not on the trust list")
        node, period = found
        try:
            payload = parsed.verify(period.public_key)
        except CredentialsError as exc:
            raise ReportInvalid(f"the report's signature does not verify: {exc}") from exc
        unknown = sorted(set(payload) - _PAYLOAD_MEMBERS)
        if unknown:
            raise ReportInvalid(f"report payload member(s) not allowed: {', '.join(unknown)}")
        missing = sorted(_PAYLOAD_MEMBERS - set(payload))
        if missing:
            raise ReportInvalid(f"report payload lacks {', '.join(missing)}")
        if payload["sub"] != node.id or payload["iss"] != node.did:
            raise ReportInvalid(
                f"the report is signed with a key of node {node.id} but claims to come from "
                f"{str(payload['sub'])[:40]!r} ({str(payload['iss'])[:80]!r}): "
                "a node reports only as itself"
            )
        issued_at = _timestamp(payload["iat"])
        _check_signer_at(node, period, issued_at)
        first, last = _integer(payload["first"], "first"), _integer(payload["last"], "last")
        raw_events = payload["events"]
        if not isinstance(raw_events, list):
            raise ReportInvalid("report events must be a list")
        if len(raw_events) > MAX_REPORT_EVENTS:
            raise ReportTooLarge(f"a report carries at most {MAX_REPORT_EVENTS} events")
        if first < 1 or last != first + len(raw_events) - 1:
            raise ReportInvalid(
                f"the report says events {first} to {last} but carries {len(raw_events)}"
            )
        events = tuple(_read_event(raw, position) for position, raw in enumerate(raw_events))
        if any(event.node_id != node.id for event in events):
            raise ReportInvalid(f"node {node.id} reported events of another node")
        if events and events[0].sequence != first:
            raise ReportInvalid(f"the report says it starts at {first}: {events[0].sequence}")
        verify_chain(events)
        return cls(
            node_id=node.id,
            issuer=node.did,
            issued_at=issued_at,
            first=first,
            last=last,
            events=events,
            kid=parsed.thumbprint,
            token=token,
        )


def _check_signer_at(node: TrustedNode, period: KeyPeriod, signed_at: datetime) -> None:
    # A suspended node still reports (its revocations matter most then); a withdrawn one no
    # longer speaks for the federation after its withdrawal.
    if node.status is NodeStatus.WITHDRAWN and signed_at >= node.status_since:
        raise ReportInvalid(f"node {node.id} is withdrawn since {node.status_since.isoformat()}")
    if period.status is KeyStatus.COMPROMISED:
        raise ReportInvalid("the report is signed with a key marked compromised")
    if signed_at < period.valid_from or (
        period.valid_until is not None and signed_at > period.valid_until
    ):
        raise ReportInvalid("the report was signed outside its key's validity")
    if (
        period.status is KeyStatus.RETIRED
        and period.status_since is not None
        and signed_at >= period.status_since
    ):
        raise ReportInvalid("the report is signed with a key retired before it was signed")


def _read_event(raw: Any, position: int) -> Event:
    try:
        return Event.from_json(raw)
    except EventInvalid as exc:
        raise ReportInvalid(f"event {position + 1} of the report is malformed: {exc}") from exc


def _integer(value: Any, name: str) -> int:
    if type(value) is not int or value < 0:
        raise ReportInvalid(f"report {name} must be a non-negative integer")
    return value


def _timestamp(value: Any) -> datetime:
    seconds = _integer(value, "iat")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ReportInvalid("report iat is out of range") from exc
