"""Spot-checks (DESIGN §5; report §26a, §28): which certified applications are re-reviewed, by a
rule anyone can recompute, and the two signed messages of the re-review.

**Selection.** For a round, every candidate (an award reported to the global node) gets a score:

    score = SHA-256(RFC 8785 canonical JSON of
                    {"round": R, "logHead": H, "nodeId": N, "application": A})

where R is the round number, H the hash of the global node's event-log head when the round was
drawn, N the awarding node and A its application id. Read as a 256-bit big-endian integer
divided by 2**256, the score is a number in [0, 1); the candidate is selected when it is below
the round's rate, compared exactly (the rate as the double it is written as). The head hash is
not known before the round is drawn, so neither a node nor a city can tell in advance which
applications will be picked; once it is published, anyone can check the pick.

The published round document (`select_round`, checked by `recompute`):

    {"format": "sdgcities-spotcheck-round/1", "round": 3,
     "logHead": {"sequence": 42, "hash": "sha256:..."}, "rate": 0.1,
     "window": {"from": "2025-03-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
     "candidates": [{"nodeId": "KE", "application": 12, "locode": "KE-NBO",
                     "credential": "urn:uuid:...", "event": {"sequence": 17, "hash": "..."}}],
     "candidatesDigest": "sha256:...",
     "proof": [{"nodeId": "KE", "application": 12, "score": "<64 hex digits>"}],
     "selected": [{"nodeId": "KE", "application": 12}]}

Each candidate names the event of the awarding node's own log that reported the award, so a
reader holding that node's signed log can check the candidate list too.

**Messages** (compact JWS by a key the trust list gives the global node, each for one audience,
short-lived, with a `jti` the receiver refuses to see twice):

- `DossierRequest` (`typ: dossier-request+jwt`): the global node asks a national node for an
  application's dossier, or one evidence file of it (`evidence`: a digest).
- `SpotCheckOutcome` (`typ: spotcheck-outcome+jwt`): the result of the re-review, confirmed or
  not confirmed, with reasons per criterion, sent back to the awarding node.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final, Self

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import (
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
    canonical_json,
    content_digest,
    isoformat,
    parse_json_object,
)
from sdgcities.credentials.jws import JwsToken, sign_jws

from .errors import MessageRefused, RoundInvalid
from .events import MAX_SEQUENCE, ChainHead

__all__ = [
    "DOSSIER_REQUEST_TYP",
    "GLOBAL_NODE_ID",
    "MAX_MESSAGE_BYTES",
    "ROUND_FORMAT",
    "SPOTCHECK_OUTCOME_TYP",
    "Candidate",
    "CriterionReason",
    "DossierRequest",
    "Outcome",
    "RoundResult",
    "SpotCheckOutcome",
    "is_selected",
    "parse_round_document",
    "recompute",
    "select_round",
    "selection_score",
]

ROUND_FORMAT: Final = "sdgcities-spotcheck-round/1"
DOSSIER_REQUEST_TYP: Final = "dossier-request+jwt"
SPOTCHECK_OUTCOME_TYP: Final = "spotcheck-outcome+jwt"
GLOBAL_NODE_ID: Final = "global"
MAX_MESSAGE_BYTES: Final = 64 * 1024
REQUEST_LIFETIME: Final = timedelta(minutes=2)
OUTCOME_LIFETIME: Final = timedelta(minutes=10)
# The longest lifetime a receiver accepts, and how far ahead of its clock `iat` may be.
MAX_LIFETIME: Final = timedelta(minutes=15)
CLOCK_SKEW: Final = timedelta(seconds=60)
MAX_REASONS: Final = 200
MAX_TEXT: Final = 4000

_SCORE_SPACE: Final = 2**256
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_NODE_ID = re.compile(r"[A-Z]{2}")
_JTI = re.compile(r"[A-Za-z0-9_-]{16,128}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_ROUND_MEMBERS: Final = frozenset(
    {
        "format",
        "round",
        "logHead",
        "rate",
        "window",
        "candidates",
        "candidatesDigest",
        "proof",
        "selected",
    }
)
_CANDIDATE_MEMBERS: Final = frozenset({"nodeId", "application", "locode", "credential", "event"})


# Selection --------------------------------------------------------------------------------------


def selection_score(*, round_id: int, log_head_hash: str, node_id: str, application_id: int) -> str:
    """The candidate's score as 64 hex digits: SHA-256 of the canonical JSON of the four inputs."""
    encoded = canonical_json(
        {
            "round": round_id,
            "logHead": log_head_hash,
            "nodeId": node_id,
            "application": application_id,
        }
    )
    return hashlib.sha256(encoded).hexdigest()


def is_selected(score: str, rate: float) -> bool:
    """Whether `score` (64 hex digits), read as a fraction of 2**256, is below `rate`; exact."""
    bound = Fraction(rate)
    return int(score, 16) * bound.denominator < bound.numerator * _SCORE_SPACE


@dataclass(frozen=True, slots=True)
class Candidate:
    """An award reported to the global node: the awarding node's application and certificate,
    and the event of that node's log (sequence and hash) that reported the award."""

    node_id: str
    application_id: int
    locode: str
    credential_id: str
    event: ChainHead

    @property
    def key(self) -> tuple[str, int]:
        return (self.node_id, self.application_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeId": self.node_id,
            "application": self.application_id,
            "locode": self.locode,
            "credential": self.credential_id,
            "event": {"sequence": self.event.sequence, "hash": self.event.hash},
        }

    @classmethod
    def from_json(cls, value: Any) -> Self:
        members = _object(value, "a candidate", _CANDIDATE_MEMBERS)
        return cls(
            node_id=_node_id(members["nodeId"]),
            application_id=_positive(members["application"], "candidate application"),
            locode=_text(members["locode"], "candidate locode", 200),
            credential_id=_text(members["credential"], "candidate credential", 200),
            event=_head(members["event"], "candidate event"),
        )


@dataclass(frozen=True, slots=True)
class RoundResult:
    """A round as `recompute` found it: its inputs and the (node, application) pairs it selects."""

    round_id: int
    log_head: ChainHead
    rate: float
    window_from: datetime
    window_until: datetime
    candidates: tuple[Candidate, ...]
    selected: tuple[tuple[str, int], ...]


def select_round(
    *,
    round_id: int,
    log_head: ChainHead,
    rate: float,
    window_from: datetime,
    window_until: datetime,
    candidates: Iterable[Candidate],
) -> dict[str, Any]:
    """The publishable round document: inputs, every candidate's score, and the selection.

    Candidates are put in (node, application) order, so the document does not depend on the
    order a database returned them in.
    """
    _check_round_id(round_id)
    _check_rate(rate)
    if window_until <= window_from:
        raise RoundInvalid("the window must end after it begins")
    ordered = sorted(candidates, key=lambda c: c.key)
    if len({c.key for c in ordered}) != len(ordered):
        raise RoundInvalid("an application is a candidate twice")
    listed = [c.to_json() for c in ordered]
    proof: list[dict[str, Any]] = [
        {
            "nodeId": c.node_id,
            "application": c.application_id,
            "score": selection_score(
                round_id=round_id,
                log_head_hash=log_head.hash,
                node_id=c.node_id,
                application_id=c.application_id,
            ),
        }
        for c in ordered
    ]
    return {
        "format": ROUND_FORMAT,
        "round": round_id,
        "logHead": {"sequence": log_head.sequence, "hash": log_head.hash},
        "rate": rate,
        "window": {"from": isoformat(window_from), "until": isoformat(window_until)},
        "candidates": listed,
        "candidatesDigest": content_digest(listed),
        "proof": proof,
        "selected": [
            {"nodeId": p["nodeId"], "application": p["application"]}
            for p in proof
            if is_selected(p["score"], rate)
        ],
    }


def recompute(document: Mapping[str, Any]) -> RoundResult:
    """Check a published round from its inputs alone; the selection it makes.

    Raises `RoundInvalid` naming the first disagreement: a member missing or malformed, the
    candidates' digest, a candidate's score, or the selection (one selected that should not be,
    or one left out).
    """
    members = _object(document, "the round", _ROUND_MEMBERS)
    if members["format"] != ROUND_FORMAT:
        raise RoundInvalid(f"format must be {ROUND_FORMAT!r}")
    round_id = members["round"]
    _check_round_id(round_id)
    log_head = _head(members["logHead"], "logHead")
    rate = members["rate"]
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise RoundInvalid("rate must be a number")
    rate = float(rate)
    _check_rate(rate)
    window = _object(members["window"], "window", frozenset({"from", "until"}))
    window_from, window_until = _moment(window["from"]), _moment(window["until"])
    if window_until <= window_from:
        raise RoundInvalid("the window must end after it begins")
    listed = members["candidates"]
    if not isinstance(listed, list):
        raise RoundInvalid("candidates must be a list")
    candidates = tuple(Candidate.from_json(c) for c in listed)
    if [c.key for c in candidates] != sorted({c.key for c in candidates}):
        raise RoundInvalid("candidates must be in (nodeId, application) order, each once")
    if members["candidatesDigest"] != content_digest(listed):
        raise RoundInvalid("candidatesDigest is not the digest of the candidates")
    expected = select_round(
        round_id=round_id,
        log_head=log_head,
        rate=rate,
        window_from=window_from,
        window_until=window_until,
        candidates=candidates,
    )
    proof = members["proof"]
    if not isinstance(proof, list) or len(proof) != len(candidates):
        raise RoundInvalid("proof must give one score per candidate")
    for given, computed in zip(proof, expected["proof"], strict=True):
        if given != computed:
            raise RoundInvalid(
                f"the score of {computed['nodeId']} application {computed['application']} "
                f"is {computed['score']}, not as published"
            )
    if members["selected"] != expected["selected"]:
        published = {_pair(s) for s in _list(members["selected"], "selected")}
        wanted = {(s["nodeId"], s["application"]) for s in expected["selected"]}
        extra, missing = sorted(published - wanted), sorted(wanted - published)
        problem = (
            f"{extra[0][0]} application {extra[0][1]} is selected but scores at or above the rate"
            if extra
            else f"{missing[0][0]} application {missing[0][1]} scores below the rate but is "
            "not selected"
            if missing
            else "the selection is not in candidate order"
        )
        raise RoundInvalid(problem)
    return RoundResult(
        round_id=round_id,
        log_head=log_head,
        rate=rate,
        window_from=window_from,
        window_until=window_until,
        candidates=candidates,
        selected=tuple((s["nodeId"], s["application"]) for s in expected["selected"]),
    )


# Signed messages --------------------------------------------------------------------------------


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"


@dataclass(frozen=True, slots=True)
class CriterionReason:
    criterion: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"criterion": self.criterion, "text": self.text}


@dataclass(frozen=True, slots=True)
class _Envelope:
    """What every spot-check message carries: who sent it, to whom, when, once."""

    issuer: str
    audience: str
    issued_at: datetime
    expires_at: datetime
    jti: str


def _sign(
    claims: dict[str, Any],
    *,
    typ: str,
    key: SigningKey,
    issuer: str,
    audience: str,
    now: datetime | None,
    lifetime: timedelta,
) -> str:
    issued = now or datetime.now(UTC)
    payload = {
        **claims,
        "iss": issuer,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
        "jti": secrets.token_urlsafe(24),
    }
    return sign_jws(payload, key=key, did=issuer, typ=typ)


def _verify_global(
    token: str,
    *,
    typ: str,
    trust_list: TrustList,
    audience: str,
    now: datetime | None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> tuple[dict[str, Any], _Envelope]:
    """The payload of a message signed by the global node for `audience`, checked in order:
    shape and header, the key (the global node's, active, on the trust list), the signature,
    then (only now trusted) issuer, audience and time."""
    payload, envelope, _node = _verify_signed(
        token,
        typ=typ,
        trust_list=trust_list,
        audience=audience,
        now=now,
        signer=GLOBAL_NODE_ID,
        max_bytes=max_bytes,
    )
    return payload, envelope


def _verify_signed(
    token: str,
    *,
    typ: str,
    trust_list: TrustList,
    audience: str,
    now: datetime | None,
    signer: str | None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> tuple[dict[str, Any], _Envelope, TrustedNode]:
    """The payload of a message for `audience` signed by node `signer` (by any node of the
    trust list when None), and that node, checked in the order `_verify_global` gives."""
    try:
        parsed = JwsToken.parse(token, typ=typ, max_bytes=max_bytes)
    except CredentialsError as exc:
        raise MessageRefused(f"not a {typ} token: {exc}") from exc
    try:
        found = trust_list.signer_of(parsed)
    except CredentialsError as exc:
        raise MessageRefused(f"the token's kid does not name its key's node: {exc}") from exc
    if found is None:
        raise MessageRefused("the token is not signed by a key on the trust list")
    node, period = found
    if signer is not None and node.id != signer:
        signer_name = "the global node" if signer == GLOBAL_NODE_ID else f"node {signer}"
        raise MessageRefused(f"the token is signed by node {node.id}, not by {signer_name}")
    if node.status is not NodeStatus.ACTIVE or period.status is not KeyStatus.ACTIVE:
        raise MessageRefused(f"node {node.id}'s signing key is not active on the trust list")
    try:
        payload = parsed.verify(period.public_key)
    except CredentialsError as exc:
        raise MessageRefused(f"the signature does not verify: {exc}") from exc
    envelope = _Envelope(
        issuer=_claim_text(payload, "iss"),
        audience=_claim_text(payload, "aud"),
        issued_at=_claim_time(payload, "iat"),
        expires_at=_claim_time(payload, "exp"),
        jti=_claim_text(payload, "jti"),
    )
    if envelope.issuer != node.did:
        raise MessageRefused(f"iss must be the signing node's DID {node.did}")
    if envelope.audience != audience:
        raise MessageRefused(f"the token is for {envelope.audience}, not for {audience}")
    if not _JTI.fullmatch(envelope.jti):
        raise MessageRefused("jti must be 16 to 128 base64url characters")
    moment = now or datetime.now(UTC)
    if envelope.issued_at < period.valid_from or (
        period.valid_until is not None and envelope.issued_at >= period.valid_until
    ):
        raise MessageRefused("the token was signed outside its key's validity")
    if envelope.issued_at > moment + CLOCK_SKEW:
        raise MessageRefused("the token was issued in the future")
    if envelope.expires_at <= envelope.issued_at:
        raise MessageRefused("exp must come after iat")
    if envelope.expires_at - envelope.issued_at > MAX_LIFETIME:
        raise MessageRefused(
            f"the token lives longer than {int(MAX_LIFETIME.total_seconds() // 60)} minutes"
        )
    if envelope.expires_at <= moment:
        raise MessageRefused(f"the token expired at {isoformat(envelope.expires_at)}")
    return payload, envelope, node


@dataclass(frozen=True, slots=True)
class DossierRequest:
    """The global node asks `audience` for the dossier of `application_id`, selected in
    `round_id`; with `evidence` (a digest), for that one evidence file of the application."""

    issuer: str
    audience: str
    node_id: str
    round_id: int
    application_id: int
    evidence: str | None
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
        round_id: int,
        application_id: int,
        evidence: str | None = None,
        now: datetime | None = None,
        lifetime: timedelta = REQUEST_LIFETIME,
    ) -> str:
        claims: dict[str, Any] = {
            "nodeId": node_id,
            "round": round_id,
            "application": application_id,
        }
        if evidence is not None:
            claims["evidence"] = evidence
        return _sign(
            claims,
            typ=DOSSIER_REQUEST_TYP,
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
        payload, envelope = _verify_global(
            token, typ=DOSSIER_REQUEST_TYP, trust_list=trust_list, audience=audience, now=now
        )
        evidence = payload.get("evidence")
        if evidence is not None and (
            not isinstance(evidence, str) or not _HASH.fullmatch(evidence)
        ):
            raise MessageRefused("evidence must be 'sha256:' and 64 lowercase hex digits")
        return cls(
            issuer=envelope.issuer,
            audience=envelope.audience,
            node_id=_message_node_id(payload),
            round_id=_claim_positive(payload, "round"),
            application_id=_claim_positive(payload, "application"),
            evidence=evidence,
            issued_at=envelope.issued_at,
            expires_at=envelope.expires_at,
            jti=envelope.jti,
        )


@dataclass(frozen=True, slots=True)
class SpotCheckOutcome:
    """The global node's finding on a spot-checked application, for the node that awarded it."""

    issuer: str
    audience: str
    node_id: str
    round_id: int
    application_id: int
    credential_id: str
    outcome: Outcome
    summary: str
    reasons: tuple[CriterionReason, ...]
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
        round_id: int,
        application_id: int,
        credential_id: str,
        outcome: Outcome,
        summary: str,
        reasons: Sequence[CriterionReason] = (),
        now: datetime | None = None,
        lifetime: timedelta = OUTCOME_LIFETIME,
    ) -> str:
        claims = {
            "nodeId": node_id,
            "round": round_id,
            "application": application_id,
            "credential": credential_id,
            "outcome": outcome.value,
            "summary": summary,
            "reasons": [r.to_json() for r in reasons],
        }
        return _sign(
            claims,
            typ=SPOTCHECK_OUTCOME_TYP,
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
        payload, envelope = _verify_global(
            token, typ=SPOTCHECK_OUTCOME_TYP, trust_list=trust_list, audience=audience, now=now
        )
        outcome = payload.get("outcome")
        if outcome not in {o.value for o in Outcome}:
            raise MessageRefused("outcome must be 'confirmed' or 'not_confirmed'")
        summary = payload.get("summary")
        if not isinstance(summary, str) or len(summary) > MAX_TEXT:
            raise MessageRefused(f"summary must be a string of at most {MAX_TEXT} characters")
        raw_reasons = payload.get("reasons")
        if not isinstance(raw_reasons, list) or len(raw_reasons) > MAX_REASONS:
            raise MessageRefused(f"reasons must be a list of at most {MAX_REASONS}")
        return cls(
            issuer=envelope.issuer,
            audience=envelope.audience,
            node_id=_message_node_id(payload),
            round_id=_claim_positive(payload, "round"),
            application_id=_claim_positive(payload, "application"),
            credential_id=_claim_text(payload, "credential"),
            outcome=Outcome(outcome),
            summary=summary,
            reasons=tuple(_reason(r) for r in raw_reasons),
            issued_at=envelope.issued_at,
            expires_at=envelope.expires_at,
            jti=envelope.jti,
        )


# Reading helpers --------------------------------------------------------------------------------


def _object(value: Any, what: str, members: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RoundInvalid(f"{what} must be a JSON object")
    unknown = sorted(set(value) - members)
    if unknown:
        raise RoundInvalid(f"{what} has member(s) not allowed: {', '.join(unknown)}")
    missing = sorted(members - set(value))
    if missing:
        raise RoundInvalid(f"{what} lacks {', '.join(missing)}")
    return dict(value)


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise RoundInvalid(f"{what} must be a list")
    return value


def _pair(value: Any) -> tuple[str, int]:
    members = _object(value, "a selected entry", frozenset({"nodeId", "application"}))
    return (_node_id(members["nodeId"]), _positive(members["application"], "application"))


def _positive(value: Any, what: str) -> int:
    if type(value) is not int or not 1 <= value <= MAX_SEQUENCE:
        raise RoundInvalid(f"{what} must be a positive integer")
    return value


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise RoundInvalid(f"{what} must be 1 to {limit} characters")
    return value


def _node_id(value: Any) -> str:
    if not isinstance(value, str) or not _NODE_ID.fullmatch(value):
        raise RoundInvalid("nodeId must be an ISO 3166-1 alpha-2 code")
    return value


def _head(value: Any, what: str) -> ChainHead:
    members = _object(value, what, frozenset({"sequence", "hash"}))
    sequence = members["sequence"]
    if type(sequence) is not int or not 0 <= sequence <= MAX_SEQUENCE:
        raise RoundInvalid(f"{what} sequence must be an integer from 0")
    if not isinstance(members["hash"], str) or not _HASH.fullmatch(members["hash"]):
        raise RoundInvalid(f"{what} hash must be 'sha256:' and 64 lowercase hex digits")
    return ChainHead(sequence, members["hash"])


def _check_round_id(round_id: Any) -> None:
    if type(round_id) is not int or not 1 <= round_id <= MAX_SEQUENCE:
        raise RoundInvalid("round must be a positive integer")


def _check_rate(rate: float) -> None:
    if not math.isfinite(rate) or not 0 < rate <= 1:
        raise RoundInvalid("rate must be above 0 and at most 1")


def _moment(value: Any) -> datetime:
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise RoundInvalid("window times are written YYYY-MM-DDThh:mm:ssZ")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise RoundInvalid(f"{value} is not a date-time") from exc


def _claim_text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= 512:
        raise MessageRefused(f"{name} must be a string of 1 to 512 characters")
    return value


def _claim_positive(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if type(value) is not int or not 1 <= value <= MAX_SEQUENCE:
        raise MessageRefused(f"{name} must be a positive integer")
    return value


def _claim_time(payload: dict[str, Any], name: str) -> datetime:
    value = payload.get(name)
    if type(value) is not int:
        raise MessageRefused(f"{name} must be an integer (seconds since 1970)")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MessageRefused(f"{name} is out of range") from exc


def _message_node_id(payload: dict[str, Any]) -> str:
    value = payload.get("nodeId")
    if not isinstance(value, str) or not _NODE_ID.fullmatch(value):
        raise MessageRefused("nodeId must be an ISO 3166-1 alpha-2 code")
    return value


def _reason(value: Any) -> CriterionReason:
    if not isinstance(value, dict) or set(value) != {"criterion", "text"}:
        raise MessageRefused("each reason is an object with criterion and text")
    criterion, text = value["criterion"], value["text"]
    if not isinstance(criterion, str) or not 0 < len(criterion) <= 32:
        raise MessageRefused("a reason's criterion must be 1 to 32 characters")
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
        raise MessageRefused(f"a reason's text must be 1 to {MAX_TEXT} characters")
    return CriterionReason(criterion=criterion, text=text)


def parse_round_document(text: str | bytes) -> dict[str, Any]:
    """A round document read strictly from its JSON text (duplicate members refused)."""
    try:
        return parse_json_object(text, what="the round")
    except CredentialsError as exc:
        raise RoundInvalid(f"the round is not a JSON object: {exc}") from exc
