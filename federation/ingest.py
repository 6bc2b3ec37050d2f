"""What the global node decides about a verified report, and the receipt it signs for it.

No database here: the node store (`node/ingest/`) reads what it holds of the reporting node's
log, asks `plan_ingest` what the report adds, and stores that.

    batch = ReportBatch.verify(token, trust_list=trust_list)
    plan = plan_ingest(batch, head=held_head, held=held_hashes_in_the_overlap)
    receipt = sign_receipt(..., head=plan.head)

A report may overlap what is held (a relay that lost a receipt sends again): events already held
with the same hashes are skipped, one with another hash is a fork. A report that starts past the
held head leaves a gap (`SequenceGap`: ask for the range). An empty report (`first` = N + 1,
`last` = N) says "my log ends at N"; below the held head that is a rollback.

The receipt (`typ: federation-receipt+jwt`) is the global node's signed word that it holds the
node's log up to `head`, so a national node keeps proof of delivery:

    {"iss": "<global DID>", "sub": "<node id>", "iat": <time>, "report": "sha256:<hex of token>",
     "first": N + 1, "last": M, "added": K, "head": {"sequence": S, "hash": "sha256:..."}}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Self

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import JwsToken, SigningKey, TrustList, sign_jws

from .errors import ForkDetected, ReportInvalid, Rollback, SequenceGap
from .events import ChainHead, Event, verify_chain
from .reports import MAX_REPORT_BYTES, REPORT_TYP, ReportBatch

__all__ = [
    "RECEIPT_TYP",
    "IngestPlan",
    "Receipt",
    "impersonator",
    "plan_ingest",
    "report_digest",
    "sign_receipt",
]

RECEIPT_TYP: Final = "federation-receipt+jwt"
_RECEIPT_MEMBERS: Final = frozenset(
    {"iss", "sub", "iat", "report", "first", "last", "added", "head"}
)


def report_digest(token: str) -> str:
    """`sha256:<hex>` of the report token's exact text: what identifies a report."""
    return "sha256:" + hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class IngestPlan:
    """What a report adds to the held log: `new` events, after which the head is `head`."""

    new: tuple[Event, ...]
    head: ChainHead
    already_held: int


def plan_ingest(batch: ReportBatch, *, head: ChainHead, held: Mapping[int, str]) -> IngestPlan:
    """Decide what `batch` (already verified) adds to a log held up to `head`.

    `held` maps the sequence numbers of the batch that are at or below `head` to the hashes
    held for them. Raises `ForkDetected` (an overlapping event differs, or the first new event
    does not follow `head`), `SequenceGap` (the batch starts past `head` + 1; the gap is the
    range to ask for) and `Rollback` (an empty batch says the log ends before `head`).
    """
    if not batch.events:
        claimed_end = batch.first - 1
        if claimed_end < head.sequence:
            raise Rollback(sequence=claimed_end, head=head.sequence)
        if claimed_end > head.sequence:
            raise SequenceGap(first_missing=head.sequence + 1, last_missing=claimed_end)
        return IngestPlan(new=(), head=head, already_held=0)
    overlap = 0
    for event in batch.events:
        if event.sequence > head.sequence:
            break
        known = held.get(event.sequence)
        if known is None:
            raise ValueError(f"the hash held for event {event.sequence} was not given")
        if known != event.hash:
            raise ForkDetected(
                sequence=event.sequence, known_hash=known, reported_hash=event.hash, reported=event
            )
        overlap += 1
    new = batch.events[overlap:]
    if not new:
        return IngestPlan(new=(), head=head, already_held=overlap)
    # `ReportBatch.verify` chained the batch's events together (hashes recomputed), so only the
    # first new event needs checking against the held head: the rest follow from it.
    verify_chain(new[:1], after=head)
    return IngestPlan(new=new, head=new[-1].head, already_held=overlap)


def impersonator(token: str, *, trust_list: TrustList) -> str | None:
    """The member whose key validly signed `token` as a report naming another node (in its
    payload or its kid's DID), if any.

    For a report `ReportBatch.verify` refused: a member key signing for another node is a member
    misbehaving (evidence to keep), not a stranger's noise, which is only refused.
    """
    try:
        parsed = JwsToken.parse(token, typ=REPORT_TYP, max_bytes=MAX_REPORT_BYTES)
    except CredentialsError:
        return None
    # By the thumbprint alone: a member key signing under another node's DID is misbehaving too.
    found = trust_list.key(parsed.thumbprint)
    if found is None:
        return None
    node, period = found
    try:
        payload = parsed.verify(period.public_key)
    except CredentialsError:
        return None
    if payload.get("sub") != node.id or payload.get("iss") != node.did:
        return node.id
    if parsed.kid_did != node.did:
        return node.id
    return None


def sign_receipt(
    batch: ReportBatch,
    *,
    key: SigningKey,
    issuer_did: str,
    added: int,
    head: ChainHead,
    issued_at: datetime,
) -> str:
    """The global node's signed acknowledgement that it holds `batch.node_id`'s log to `head`."""
    payload = {
        "iss": issuer_did,
        "sub": batch.node_id,
        "iat": int(issued_at.timestamp()),
        "report": report_digest(batch.token),
        "first": batch.first,
        "last": batch.last,
        "added": added,
        "head": {"sequence": head.sequence, "hash": head.hash},
    }
    return sign_jws(payload, key=key, did=issuer_did, typ=RECEIPT_TYP)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt whose signature by the global node was checked (`Receipt.verify`)."""

    node_id: str
    report: str
    first: int
    last: int
    added: int
    head: ChainHead
    issued_at: datetime
    token: str

    @classmethod
    def verify(cls, token: str, *, trust_list: TrustList, global_node_id: str) -> Self:
        """Check that a key the trust list gives the global node signed `token`."""
        try:
            parsed = JwsToken.parse(token, typ=RECEIPT_TYP)
        except CredentialsError as exc:
            raise ReportInvalid(f"not a federation receipt: {exc}") from exc
        try:
            found = trust_list.signer_of(parsed)
        except CredentialsError as exc:
            raise ReportInvalid(f"the receipt's kid does not name its key's node: {exc}") from exc
        if found is None or found[0].id != global_node_id:
            raise ReportInvalid("the receipt is not signed with a key of the global node")
        try:
            payload = parsed.verify(found[1].public_key)
        except CredentialsError as exc:
            raise ReportInvalid(f"the receipt's signature does not verify: {exc}") from exc
        if set(payload) != _RECEIPT_MEMBERS:
            raise ReportInvalid("the receipt's members are not those of a federation receipt")
        head = payload["head"]
        if not isinstance(head, dict) or set(head) != {"sequence", "hash"}:
            raise ReportInvalid("the receipt's head must be {sequence, hash}")
        try:
            return cls(
                node_id=_text(payload["sub"]),
                report=_text(payload["report"]),
                first=_count(payload["first"]),
                last=_count(payload["last"]),
                added=_count(payload["added"]),
                head=ChainHead(_count(head["sequence"]), _text(head["hash"])),
                issued_at=datetime.fromtimestamp(_count(payload["iat"]), UTC),
                token=token,
            )
        except (OverflowError, OSError, ValueError) as exc:
            raise ReportInvalid(f"the receipt is malformed: {exc}") from exc

    def acknowledges(self, report_token: str) -> bool:
        return self.report == report_digest(report_token)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("expected a non-negative integer")
    return value
