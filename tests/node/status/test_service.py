from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from sdgcities.credentials import MIN_ENTRIES, IndexAllocator, StatusEntry
from sdgcities.node.db import transaction
from sdgcities.node.errors import InvalidRequest, NotFound
from sdgcities.node.state import NodeState
from sdgcities.node.status.models import StatusListRecord
from sdgcities.node.status.service import (
    allocate_status_entry,
    get_status_list,
    publish_status_list,
    refresh_due_status_lists,
    set_status_bits,
)
from sdgcities.node.timeutil import utcnow

from ...conftest import TemporaryDatabases
from ..conftest import Backend
from ..fresh_database import fresh_state
from .conftest import read_list

NOW = utcnow().replace(microsecond=0)


def list_id(entry: StatusEntry) -> str:
    return entry.list_url.rsplit("/", 1)[1]


def record_of(session: Session, entry: StatusEntry) -> StatusListRecord:
    record = get_status_list(session=session, list_id=list_id(entry))
    assert record is not None
    return record


def entry_value(session: Session, state: NodeState, entry: StatusEntry) -> int:
    """The certificate's two-bit value as a verifier reads it from the published list."""
    published = read_list(record_of(session, entry).token, state)
    return published.bits.get_entry(entry.index, status_size=2)


def test_a_certificate_gets_one_two_bit_entry_in_a_message_list(
    session: Session, state: NodeState
) -> None:
    list_id_, entry = allocate_status_entry(session=session, state=state, now=NOW)
    assert entry.list_url == f"{state.settings.base_url}/status/{list_id_}"
    # The list is published at once, so the certificate's URL answers from the start.
    published = read_list(record_of(session, entry).token, state)
    assert published.url == entry.list_url
    assert published.purpose == "message"
    assert published.issuer == state.settings.did
    assert published.bits.entries(2) == MIN_ENTRIES
    assert published.bits.get_entry(entry.index, status_size=2) == 0
    assert published.valid_from == NOW
    assert published.valid_until == NOW + state.settings.status_list_validity


def test_two_thousand_allocations_never_repeat_and_follow_the_stored_permutation(
    session: Session, state: NodeState
) -> None:
    entries = [allocate_status_entry(session=session, state=state).entry for _ in range(2000)]
    indices = [entry.index for entry in entries]
    assert len(set(indices)) == 2000
    assert len({entry.list_url for entry in entries}) == 1
    assert all(0 <= index < MIN_ENTRIES for index in indices)
    # Random-looking, not handed out in order (herd privacy).
    assert indices != sorted(indices)
    assert max(indices) > MIN_ENTRIES // 2
    record = session.exec(select(StatusListRecord)).one()
    assert record.next_position == 2000
    # A restart rebuilds the allocator from the row and continues where it stopped.
    rebuilt = IndexAllocator(key=record.allocator_key, size=record.size)
    assert [rebuilt.index_at(position) for position in range(2000)] == indices
    following = allocate_status_entry(session=session, state=state).entry.index
    assert following == rebuilt.index_at(2000)


def test_a_full_list_rolls_over_to_a_new_list(session: Session, state: NodeState) -> None:
    entries = [
        allocate_status_entry(
            session=session, state=state, list_size=3, now=NOW + timedelta(i)
        ).entry
        for i in range(7)
    ]
    by_list: dict[str, list[int]] = {}
    for entry in entries:
        by_list.setdefault(entry.list_url, []).append(entry.index)
    assert [len(indices) for indices in by_list.values()] == [3, 3, 1]
    for indices in by_list.values():
        assert len(set(indices)) == len(indices)
        assert all(0 <= index < 3 for index in indices)
    records = session.exec(
        select(StatusListRecord).order_by(col(StatusListRecord.created_at))
    ).all()
    assert [(r.size, r.next_position) for r in records] == [(3, 3), (3, 3), (3, 1)]
    # Even a small list publishes the spec's minimum number of entries.
    assert read_list(record_of(session, entries[-1]).token, state).bits.entries(2) == MIN_ENTRIES


def test_suspend_reinstate_and_revoke_write_the_two_bits_and_re_sign(
    session: Session, state: NodeState
) -> None:
    list_id_, entry = allocate_status_entry(session=session, state=state, now=NOW)
    neighbour = allocate_status_entry(session=session, state=state, now=NOW).entry
    before = record_of(session, entry)
    old_token, old_etag = before.token, before.etag
    later = NOW + timedelta(minutes=5)

    suspended = set_status_bits(
        session=session, state=state, list_id=list_id_, index=entry.index, suspended=True, now=later
    )
    # The record is the session's one object for the row: keep what it says now.
    suspended_token, suspended_etag = suspended.token, suspended.etag
    assert entry_value(session, state, entry) == 0b01
    assert read_list(suspended_token, state).valid_from == later
    assert suspended_token != old_token
    assert suspended_etag != old_etag
    assert suspended_etag.startswith('"')
    assert suspended_etag.endswith('"')
    assert entry_value(session, state, neighbour) == 0

    # Writing what is already there changes nothing, so the token stays the same.
    again = set_status_bits(
        session=session,
        state=state,
        list_id=list_id_,
        index=entry.index,
        suspended=True,
        now=later + timedelta(minutes=1),
    )
    assert again.token == suspended_token

    # Revoking a suspended certificate keeps its suspension bit: 0x3, revoked for everyone.
    set_status_bits(session=session, state=state, list_id=list_id_, index=entry.index, revoked=True)
    assert entry_value(session, state, entry) == 0b11
    set_status_bits(
        session=session, state=state, list_id=list_id_, index=neighbour.index, revoked=True
    )
    assert entry_value(session, state, neighbour) == 0b10

    reinstated = set_status_bits(
        session=session, state=state, list_id=list_id_, index=entry.index, suspended=False
    )
    assert read_list(reinstated.token, state).bits.get_entry(entry.index, status_size=2) == 0b10
    assert reinstated.etag not in (old_etag, suspended_etag)


def test_setting_bits_checks_list_and_index(session: Session, state: NodeState) -> None:
    list_id_, _ = allocate_status_entry(session=session, state=state, list_size=8)
    with pytest.raises(NotFound, match="no status list 999999"):
        set_status_bits(session=session, state=state, list_id="999999", index=0, revoked=True)
    with pytest.raises(InvalidRequest, match="has indices 0 to 7; 8 is not one"):
        set_status_bits(session=session, state=state, list_id=list_id_, index=8, revoked=True)


def test_publish_starts_a_fresh_validity(session: Session, state: NodeState) -> None:
    list_id_, _ = allocate_status_entry(session=session, state=state, now=NOW)
    later = NOW + timedelta(hours=3, microseconds=250)
    record = publish_status_list(session=session, state=state, list_id=list_id_, now=later)
    published = read_list(record.token, state)
    assert published.valid_from == record.valid_from == later.replace(microsecond=0)
    assert record.valid_until == record.valid_from + state.settings.status_list_validity
    with pytest.raises(NotFound, match="no status list nothing-here"):
        publish_status_list(session=session, state=state, list_id="nothing-here", now=later)


def test_refresh_re_signs_only_lists_past_half_their_validity(
    session: Session, state: NodeState
) -> None:
    validity = state.settings.status_list_validity
    first = allocate_status_entry(session=session, state=state, list_size=1, now=NOW).entry
    second = allocate_status_entry(session=session, state=state, list_size=1, now=NOW).entry
    # The second list was re-signed later, so it is due later.
    publish_status_list(
        session=session, state=state, list_id=list_id(second), now=NOW + validity / 4
    )
    assert refresh_due_status_lists(session=session, state=state, now=NOW + validity / 3) == []

    due_at = NOW + validity / 2 + timedelta(seconds=1)
    unchanged_bits = record_of(session, first).bits
    old_token = record_of(session, first).token
    assert refresh_due_status_lists(session=session, state=state, now=due_at) == [list_id(first)]
    refreshed = record_of(session, first)
    assert refreshed.token != old_token
    assert refreshed.bits == unchanged_bits
    assert read_list(refreshed.token, state).valid_from == due_at
    # Fresh again: nothing to do until it is due once more.
    assert refresh_due_status_lists(session=session, state=state, now=due_at) == []
    later = NOW + validity / 4 + validity / 2 + timedelta(seconds=1)
    assert refresh_due_status_lists(session=session, state=state, now=later) == [list_id(second)]


def test_concurrent_allocations_never_share_an_index(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    threads, per_thread = 4, 25
    with fresh_state(backend, databases) as state:
        # One list exists already, so every thread competes for the same row.
        with transaction(state.engine) as session:
            first = allocate_status_entry(session=session, state=state).entry
        start = threading.Barrier(threads)
        allocated: list[StatusEntry] = [first]
        failures: list[BaseException] = []

        def allocate() -> None:
            try:
                start.wait(timeout=10)
                for _ in range(per_thread):
                    with transaction(state.engine) as session:
                        entry = allocate_status_entry(session=session, state=state).entry
                    allocated.append(entry)
            except BaseException as exc:
                failures.append(exc)

        workers = [threading.Thread(target=allocate) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert not failures, failures
        assert len(allocated) == threads * per_thread + 1
        assert {entry.list_url for entry in allocated} == {first.list_url}
        assert len({entry.index for entry in allocated}) == len(allocated)
        with Session(state.engine) as session:
            assert session.exec(select(StatusListRecord.next_position)).one() == len(allocated)


def test_versions_of_a_list_signed_within_one_second_are_dated_apart(
    session: Session, state: NodeState
) -> None:
    list_id, entry = allocate_status_entry(session=session, state=state, now=NOW)
    published = [read_list(record_of(session, entry).token, state).valid_from]
    for _ in range(2):
        publish_status_list(session=session, state=state, list_id=list_id, now=NOW)
        published.append(read_list(record_of(session, entry).token, state).valid_from)

    # A verifier keeps the newest validFrom per list (DESIGN §4): equal dates would let it take
    # the earlier version for the later one.
    assert published == [NOW, NOW + timedelta(milliseconds=1), NOW + timedelta(milliseconds=2)]
