"""Status list indices, bits and signed publication (W3C Bitstring Status List v1.0, DESIGN §4).

Each certificate gets one random index in one `message` list: a two-bit entry whose high bit
says revoked and low bit suspended (`credentials.status_entry`). Every change to a list re-signs
it in the same transaction, and `refresh_due_status_lists` re-signs lists
past half their validity even when nothing changed, so a verifier can tell a fresh list from a
replayed one. What is served is the stored signed text, with its ETag.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import NamedTuple

from sqlmodel import Session, col, select, update

from sdgcities.credentials import (
    MIN_ENTRIES,
    REVOKED_BIT,
    STATUS_SIZE,
    SUSPENDED_BIT,
    VC_JWT_TYP,
    IndexAllocator,
    StatusBitstring,
    StatusEntry,
    sign_status_list,
    status_value,
)
from sdgcities.node.coherence import STATUS_LIST, announce
from sdgcities.node.db import after_commit
from sdgcities.node.errors import InvalidRequest, NotFound
from sdgcities.node.identity.service import names_key
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import StatusListRecord

ALLOCATOR_KEY_BYTES = 32
LIST_ID_BYTES = 8
"""A new list's id is random (16 hex digits): ids tell nobody how many lists a node has."""


def list_url(base_url: str, list_id: str) -> str:
    return f"{base_url}/status/{list_id}"


class AllocatedStatus(NamedTuple):
    list_id: str
    entry: StatusEntry


def allocate_status_entry(
    *,
    session: Session,
    state: NodeState,
    now: datetime | None = None,
    list_size: int = MIN_ENTRIES,
) -> AllocatedStatus:
    """The status entry of a new certificate, and its list's id: one fresh index in a list
    that has one left.

    Call it in the transaction that stores the certificate: the list's `next_position` is
    advanced under a row lock and committed with it, so no index is handed out twice, even
    after a crash. When every list is full a new one starts, signed at once so that the URL in
    the certificate answers from the start. `list_size` (the number of indices of a new list) is
    for tests; the list still holds at least the spec's 131,072 entries.
    """
    # Columns, not the entity: the locked row is always read fresh, and an allocation costs
    # two statements, not an ORM round.
    row = session.exec(
        select(
            StatusListRecord.list_id,
            StatusListRecord.allocator_key,
            StatusListRecord.size,
            StatusListRecord.next_position,
        )
        .where(col(StatusListRecord.next_position) < col(StatusListRecord.size))
        .order_by(col(StatusListRecord.created_at), col(StatusListRecord.list_id))
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        record = _create_list(session=session, state=state, size=list_size, now=now or utcnow())
        row = (record.list_id, record.allocator_key, record.size, record.next_position)
    list_id, key, size, next_position = row
    allocator = IndexAllocator(key=key, size=size, next_position=next_position)
    index = allocator.allocate()
    session.exec(
        update(StatusListRecord)
        .where(col(StatusListRecord.list_id) == list_id)
        .values(next_position=allocator.next_position)
    )
    entry = StatusEntry(list_url=list_url(state.settings.base_url, list_id), index=index)
    return AllocatedStatus(list_id, entry)


def get_status_list(*, session: Session, list_id: str) -> StatusListRecord | None:
    return session.get(StatusListRecord, list_id)


def set_status_bits(
    *,
    session: Session,
    state: NodeState,
    list_id: str,
    index: int,
    revoked: bool | None = None,
    suspended: bool | None = None,
    now: datetime | None = None,
) -> StatusListRecord:
    """Set or clear a certificate's revoked and suspended bits (None: left as they are), and
    re-sign the list if the entry changed.

    The bits are the two former lists side by side: revoking a suspended certificate leaves its
    suspension bit set (0x3, revoked for every verifier). In the caller's transaction, so the
    new list commits with the decision that changed it.
    """
    record = _locked_list(session=session, list_id=list_id)
    if type(index) is not int or not 0 <= index < record.size:
        raise InvalidRequest(
            f"status list {list_id} has indices 0 to {record.size - 1}; {index} is not one"
        )
    bits = StatusBitstring.from_bytes(record.bits)
    current = bits.get_entry(index, status_size=STATUS_SIZE)
    value = status_value(
        revoked=bool(current & REVOKED_BIT) if revoked is None else revoked,
        suspended=bool(current & SUSPENDED_BIT) if suspended is None else suspended,
    )
    if current == value:
        return record
    bits.set_entry(index, value, status_size=STATUS_SIZE)
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


def _create_list(
    *, session: Session, state: NodeState, size: int, now: datetime
) -> StatusListRecord:
    if size < 1:
        raise ValueError("a status list holds at least one index")
    # A small (test) list still publishes the spec's minimum number of entries: verifiers
    # refuse shorter ones.
    entries = max(MIN_ENTRIES, -(-size // 8) * 8)
    record = StatusListRecord(
        list_id=secrets.token_hex(LIST_ID_BYTES),
        allocator_key=secrets.token_bytes(ALLOCATOR_KEY_BYTES),
        size=size,
        bits=StatusBitstring(entries * STATUS_SIZE).to_bytes(),
        token="",
        etag="",
        valid_from=now,
        valid_until=now,
        created_at=now,
    )
    _sign(record, session=session, state=state, now=now)
    session.add(record)
    session.flush()
    return record


def _sign(record: StatusListRecord, *, session: Session, state: NodeState, now: datetime) -> None:
    settings = state.settings
    valid_from = now.astimezone(UTC).replace(microsecond=0)
    if record.token and valid_from <= record.valid_from:
        # Verifiers keep the newest validFrom per list and take an equal one for the same list
        # (DESIGN §4), so a version signed within the second of the one before is dated a
        # millisecond after it.
        valid_from = record.valid_from + timedelta(milliseconds=1)
    valid_until = valid_from + settings.status_list_validity
    token = sign_status_list(
        list_url=list_url(settings.base_url, record.list_id),
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
    announce(session, topic=STATUS_LIST, subject=record.list_id)
