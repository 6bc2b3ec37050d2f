"""Watch notices: what a node tells an investor's webhook about a certificate it watches.

A notice is a compact JWS (`typ: sdgcities-notice+jwt`, EdDSA only) signed with the node's own
key, the key the trust list publishes for that node; the header's `kid` is
`<node did:web>#<RFC 7638 thumbprint>`. The payload is

    {"iss": "<node id>", "iat": <signing time>, "jti": "<delivery id>", "watch": <watch id>,
     "event": {"type": "credential.suspended", "sequence": 42, "credential": "urn:uuid:...",
               "locode": "KE-NBO", "country": "KE", "stage": "qualification",
               "level": "silver", "status": "suspended"},
     "certificate": "<the certificate page's URL>", "cancel": "<the watch's cancel URL>"}

`jti` is the same on every retry of one delivery: a receiver that stores the `jti`s it has seen
processes each notice once. A receiver calls `verify_notice(body, trust_list=...)` with a trust
list it accepted through `TrustAnchor` (the pinned global root key); it learns nothing from a
notice that does not verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from .errors import MalformedError, SignatureInvalid, UntrustedIssuer
from .jws import JwsToken, sign_jws
from .keys import Algorithm, KeyStatus, SigningKey
from .trust_list import NodeStatus, TrustList

NOTICE_TYP: Final = "sdgcities-notice+jwt"
NOTICE_MEDIA_TYPE: Final = "application/sdgcities-notice+jwt"
MAX_NOTICE_BYTES: Final = 16 * 1024
"""The largest notice a receiver parses: a real one is about 1 KB."""

NOTICE_EVENT_TYPES: Final = frozenset(
    {
        "credential.issued",
        "credential.suspended",
        "credential.reinstated",
        "credential.revoked",
    }
)
_PAYLOAD_MEMBERS: Final = frozenset(
    {"iss", "iat", "jti", "watch", "event", "certificate", "cancel"}
)
_EVENT_MEMBERS: Final = frozenset(
    {"type", "sequence", "credential", "locode", "country", "stage", "level", "status"}
)
_MAX_TEXT: Final = 2048


@dataclass(frozen=True, slots=True)
class NoticeEvent:
    type: str
    sequence: int
    credential: str
    locode: str
    country: str
    stage: str
    level: str
    status: str

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "sequence": self.sequence,
            "credential": self.credential,
            "locode": self.locode,
            "country": self.country,
            "stage": self.stage,
            "level": self.level,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice whose signature, signer and members `verify_notice` checked."""

    node_id: str
    issued_at: datetime
    delivery_id: str
    watch_id: int
    event: NoticeEvent
    certificate_url: str
    cancel_url: str
    kid: str  # the signing key's thumbprint


def sign_notice(
    *,
    key: SigningKey,
    node_id: str,
    node_did: str,
    issued_at: datetime,
    delivery_id: str,
    watch_id: int,
    event: NoticeEvent,
    certificate_url: str,
    cancel_url: str,
) -> str:
    if key.algorithm is not Algorithm.EDDSA:
        raise ValueError("notices are signed with EdDSA only")
    payload = {
        "iss": node_id,
        "iat": int(issued_at.timestamp()),
        "jti": delivery_id,
        "watch": watch_id,
        "event": event.to_json(),
        "certificate": certificate_url,
        "cancel": cancel_url,
    }
    return sign_jws(payload, key=key, did=node_did, typ=NOTICE_TYP)


def verify_notice(token: str | bytes, *, trust_list: TrustList) -> Notice:
    """Check a notice as a receiver must, and return what it says.

    In this order: size and shape, the header (`typ` must be `sdgcities-notice+jwt`, `alg` must
    be EdDSA: `none`, HS256 and ES256 are refused), the key (`kid` must name a key the trust list
    gives a node, under that node's DID), the signature, and only then the payload: `iss` must be
    the key's node, which must not be withdrawn at `iat`, and the key must be valid, not
    compromised and not retired at `iat`. Raises `MalformedError`, `SignatureInvalid` or
    `UntrustedIssuer` (all `VerificationError`).
    """
    if isinstance(token, bytes):
        if len(token) > MAX_NOTICE_BYTES:
            raise MalformedError(f"a notice is at most {MAX_NOTICE_BYTES} bytes")
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedError("a notice is ASCII text (a compact JWS)") from exc
    parsed = JwsToken.parse(token.strip(), typ=NOTICE_TYP, max_bytes=MAX_NOTICE_BYTES)
    if parsed.algorithm is not Algorithm.EDDSA:
        raise SignatureInvalid(f"notices are signed with EdDSA, not {parsed.algorithm.value}")
    found = trust_list.signer_of(parsed)
    if found is None:
        raise UntrustedIssuer("the notice is signed with a key that is not on the trust list")
    node, period = found
    payload = parsed.verify(period.public_key)
    unknown = sorted(set(payload) - _PAYLOAD_MEMBERS)
    missing = sorted(_PAYLOAD_MEMBERS - set(payload))
    if unknown or missing:
        raise MalformedError(
            f"notice payload members: unexpected {unknown or 'none'}, missing {missing or 'none'}"
        )
    if payload["iss"] != node.id:
        raise UntrustedIssuer(
            f"the notice is signed with a key of node {node.id} but claims to come from "
            f"{str(payload['iss'])[:40]!r}"
        )
    issued_at = _moment(payload["iat"])
    if node.status is NodeStatus.WITHDRAWN and issued_at >= node.status_since:
        raise UntrustedIssuer(f"node {node.id} is withdrawn since {node.status_since.isoformat()}")
    if period.status is KeyStatus.COMPROMISED:
        raise UntrustedIssuer("the notice is signed with a key marked compromised")
    if issued_at < period.valid_from or (
        period.valid_until is not None and issued_at > period.valid_until
    ):
        raise UntrustedIssuer("the notice was signed outside its key's validity")
    if (
        period.status is KeyStatus.RETIRED
        and period.status_since is not None
        and issued_at >= period.status_since
    ):
        raise UntrustedIssuer("the notice is signed with a key retired before it was signed")
    return Notice(
        node_id=node.id,
        issued_at=issued_at,
        delivery_id=_text(payload["jti"], "jti"),
        watch_id=_integer(payload["watch"], "watch"),
        event=_event(payload["event"]),
        certificate_url=_text(payload["certificate"], "certificate"),
        cancel_url=_text(payload["cancel"], "cancel"),
        kid=parsed.thumbprint,
    )


def _event(value: Any) -> NoticeEvent:
    if not isinstance(value, Mapping) or set(value) != _EVENT_MEMBERS:
        raise MalformedError(f"a notice's event has exactly {', '.join(sorted(_EVENT_MEMBERS))}")
    event_type = _text(value["type"], "event type")
    if event_type not in NOTICE_EVENT_TYPES:
        raise MalformedError(f"a notice does not report {event_type[:40]!r} events")
    return NoticeEvent(
        type=event_type,
        sequence=_integer(value["sequence"], "event sequence"),
        **{
            name: _text(value[name], f"event {name}")
            for name in ("credential", "locode", "country", "stage", "level", "status")
        },
    )


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_TEXT:
        raise MalformedError(f"notice {name} must be a non-empty string")
    return value


def _integer(value: Any, name: str) -> int:
    if type(value) is not int or value < 0:
        raise MalformedError(f"notice {name} must be a non-negative integer")
    return value


def _moment(value: Any) -> datetime:
    seconds = _integer(value, "iat")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedError("notice iat is out of range") from exc
