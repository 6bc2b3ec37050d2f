"""Status list indices, bits and signed publication (W3C Bitstring Status List v1.0, DESIGN §4).

Each certificate gets one random index, the same in the revocation list and the suspension list
of one pair, so its two `credentialStatus` entries differ only in purpose and list. Every change
to a list re-signs it in the same transaction, and `refresh_due_status_lists` re-signs lists
past half their validity even when nothing changed, so a verifier can tell a fresh list from a
replayed one. What is served is the stored signed text, with its ETag.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from functools import partial

from sqlmodel import Session, col, select, update

from sdgcities.credentials import (
    MIN_ENTRIES,
    VC_JWT_TYP,
    IndexAllocator,
    StatusBitstring,
    StatusEntry,
    sign_status_list,
)
from sdgcities.node.db import after_commit
from sdgcities.node.errors import InvalidRequest, NotFound
from sdgcities.node.identity.service import names_key
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import StatusListRecord, StatusPair, StatusPurpose

ALLOCATOR_KEY_BYTES = 32


def list_id_for(purpose: StatusPurpose, pair_id: int) -> str:
    return f"{purpose.value}-{pair_id}"


def list_url(base_url: str, list_id: str) -> str:
    return f"{base_url}/status/{list_id}"


def allocate_status_entries(
    *,
    session: Session,
    state: NodeState,
    now: datetime | None = None,
    pair_size: int = MIN_ENTRIES,
) -> tuple[StatusEntry, StatusEntry]:
    """The (revocation, suspension) entries of a new certificate: one fresh index in one pair.

    Call it in the transaction that stores the certificate: the pair's `next_position` is
    advanced under a row lock and committed with it, so no index is handed out twice, even
    after a crash. When every pair is full a new one starts, its lists signed at once so that
    the URLs in the certificate answer from the start. `pair_size` (the number of indices of a
    new pair) is for tests; its lists still hold at least the spec's 131,072 entries.
    """
    # Columns, not the entity: the locked row is always read fresh, and an allocation costs
    # two statements, not an ORM round.
    row = session.exec(
        select(StatusPair.id, StatusPair.allocator_key, StatusPair.size, StatusPair.next_position)
        .where(col(StatusPair.next_position) < col(StatusPair.size))
        .order_by(col(StatusPair.id))
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        pair = _create_pair(session=session, state=state, size=pair_size, now=now or utcnow())
        assert pair.id is not None
        row = (pair.id, pair.allocator_key, pair.size, pair.next_position)
    pair_id, key, size, next_position = row
    assert pair_id is not None
    allocator = IndexAllocator(key=key, size=size, next_position=next_position)
    index = allocator.allocate()
    session.exec(
        update(StatusPair)
        .where(col(StatusPair.id) == pair_id)
        .values(next_position=allocator.next_position)
    )
    base_url = state.settings.base_url
    revocation, suspension = (
        StatusEntry(
            purpose=purpose.value,
            list_url=list_url(base_url, list_id_for(purpose, pair_id)),
            index=index,
        )
        for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
    )
    return revocation, suspension


def get_status_list(*, session: Session, list_id: str) -> StatusListRecord | None:
    return session.get(StatusListRecord, list_id)


def set_status_bit(
    *,
    session: Session,
    state: NodeState,
    list_id: str,
    index: int,
    value: bool,
    now: datetime | None = None,
) -> StatusListRecord:
    """Set (revoke, suspend) or clear (reinstate) one bit, and re-sign the list if it changed.

    In the caller's transaction, so the new list commits with the decision that changed it.
    """
    record = _locked_list(session=session, list_id=list_id)
    pair = session.get(StatusPair, record.pair_id)
    assert pair is not None
    if type(index) is not int or not 0 <= index < pair.size:
        raise InvalidRequest(
            f"status list {list_id} has indices 0 to {pair.size - 1}; {index} is not one"
        )
    bits = StatusBitstring.from_bytes(record.bits)
    if bits.get(index) == value:
        return record
    bits.set(index, value)
    record.bits = bits.to_bytes()
    _sign(record, session=session, state=state, now=now or utcnow())
    session.add(record)
    session.flush()
    return record


def publish_status_list(
    *, session: Session, state: NodeState, list_id: str, now: datetime
) -> StatusListRecord:
    """Re-sign a list with a fresh validity period starting `now`."""
    record = _locked_list(session=session, list_id=list_id)
    _sign(record, session=session, state=state, now=now)
    session.add(record)
    session.flush()
    return record


def refresh_due_status_lists(*, session: Session, state: NodeState, now: datetime) -> list[str]:
    """Re-sign every list with less than half its validity left; return their ids.

    A list another transaction holds locked (being changed, or refreshed by another worker) is
    skipped: that transaction re-signs it.
    """
    candidates = session.exec(
        select(
            StatusListRecord.list_id, StatusListRecord.valid_from, StatusListRecord.valid_until
        ).order_by(col(StatusListRecord.list_id))
    ).all()
    refreshed: list[str] = []
    for list_id, valid_from, valid_until in candidates:
        if not _is_due(valid_from, valid_until, now):
            continue
        record = session.exec(
            select(StatusListRecord)
            .where(StatusListRecord.list_id == list_id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).first()
        # Checked again under the lock: another worker may have just re-signed it.
        if record is None or not _is_due(record.valid_from, record.valid_until, now):
            continue
        _sign(record, session=session, state=state, now=now)
        session.add(record)
        refreshed.append(list_id)
    session.flush()
    return refreshed


def resign_lists_signed_with(
    *, session: Session, state: NodeState, kids: Collection[str], now: datetime
) -> list[str]:
    """Re-sign with the node's signing key every list last signed with one of `kids`; their ids.

    For keys the trust list marks compromised: a verifier trusts no status list such a key
    signs, so until their next refresh the lists would leave every certificate undecided.
    """
    records = session.exec(
        select(StatusListRecord)
        .order_by(col(StatusListRecord.list_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    resigned: list[str] = []
    for record in records:
        if any(names_key(record.token, typ=VC_JWT_TYP, kid=kid) for kid in kids):
            _sign(record, session=session, state=state, now=now)
            session.add(record)
            resigned.append(record.list_id)
    session.flush()
    return resigned


def _is_due(valid_from: datetime, valid_until: datetime, now: datetime) -> bool:
    return valid_until - now < (valid_until - valid_from) / 2


def _locked_list(*, session: Session, list_id: str) -> StatusListRecord:
    record = session.exec(
        select(StatusListRecord)
        .where(StatusListRecord.list_id == list_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if record is None:
        raise NotFound(f"no status list {list_id}")
    return record


def _create_pair(*, session: Session, state: NodeState, size: int, now: datetime) -> StatusPair:
    if size < 1:
        raise ValueError("a status pair holds at least one index")
    pair = StatusPair(allocator_key=secrets.token_bytes(ALLOCATOR_KEY_BYTES), size=size)
    session.add(pair)
    session.flush()
    assert pair.id is not None
    # A small (test) pair still publishes lists of the spec's minimum length: verifiers refuse
    # shorter ones.
    entries = max(MIN_ENTRIES, -(-size // 8) * 8)
    for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
        record = StatusListRecord(
            list_id=list_id_for(purpose, pair.id),
            pair_id=pair.id,
            purpose=purpose,
            bits=StatusBitstring(entries).to_bytes(),
            token="",
            etag="",
            valid_from=now,
            valid_until=now,
        )
        _sign(record, session=session, state=state, now=now)
        session.add(record)
    session.flush()
    return pair


def _sign(record: StatusListRecord, *, session: Session, state: NodeState, now: datetime) -> None:
    settings = state.settings
    valid_from = now.astimezone(UTC).replace(microsecond=0)
    valid_until = valid_from + settings.status_list_validity
    token = sign_status_list(
        list_url=list_url(settings.base_url, record.list_id),
        purpose=StatusPurpose(record.purpose).value,
        bitstring=StatusBitstring.from_bytes(record.bits),
        issuer_did=settings.did,
        key=state.signing_key,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    record.token = token
    record.etag = f'"{hashlib.sha256(token.encode("ascii")).hexdigest()}"'
    record.valid_from, record.valid_until = valid_from, valid_until
    record.updated_at = now
    forget = partial(state.verifiers.own_status_list_changed, record.list_id)
    forget()
    after_commit(session, forget)
