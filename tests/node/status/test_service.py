from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from sdgcities.credentials import MIN_ENTRIES, IndexAllocator, StatusEntry
from sdgcities.node.db import transaction
from sdgcities.node.errors import InvalidRequest, NotFound
from sdgcities.node.state import NodeState
from sdgcities.node.status.models import StatusListRecord, StatusPair
from sdgcities.node.status.service import (
    allocate_status_entries,
    get_status_list,
    publish_status_list,
    refresh_due_status_lists,
    set_status_bit,
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


def test_a_certificate_gets_one_index_in_a_revocation_and_a_suspension_list(
    session: Session, state: NodeState
) -> None:
    revocation, suspension = allocate_status_entries(session=session, state=state, now=NOW)
    assert (revocation.purpose, suspension.purpose) == ("revocation", "suspension")
    assert revocation.index == suspension.index
    base = f"{state.settings.base_url}/status/"
    assert revocation.list_url.startswith(base + "revocation-")
    assert suspension.list_url == revocation.list_url.replace("revocation-", "suspension-")
    # Both lists are published at once, so the certificate's URLs answer from the start.
    for entry in (revocation, suspension):
        published = read_list(record_of(session, entry).token, state)
        assert published.url == entry.list_url
        assert published.purpose == entry.purpose
        assert published.issuer == state.settings.did
        assert published.bits.size == MIN_ENTRIES
        assert not published.bits.get(entry.index)
        assert published.valid_from == NOW
        assert published.valid_until == NOW + state.settings.status_list_validity


def test_two_thousand_allocations_never_repeat_and_follow_the_stored_permutation(
    session: Session, state: NodeState
) -> None:
    entries = [allocate_status_entries(session=session, state=state)[0] for _ in range(2000)]
    indices = [entry.index for entry in entries]
    assert len(set(indices)) == 2000
    assert len({entry.list_url for entry in entries}) == 1
    assert all(0 <= index < MIN_ENTRIES for index in indices)
    # Random-looking, not handed out in order (herd privacy).
    assert indices != sorted(indices)
    assert max(indices) > MIN_ENTRIES // 2
    pair = session.exec(select(StatusPair)).one()
    assert pair.next_position == 2000
    # A restart rebuilds the allocator from the row and continues where it stopped.
    rebuilt = IndexAllocator(key=pair.allocator_key, size=pair.size)
    assert [rebuilt.index_at(position) for position in range(2000)] == indices
    following = allocate_status_entries(session=session, state=state)[0].index
    assert following == rebuilt.index_at(2000)


def test_a_full_pair_rolls_over_to_a_new_pair(session: Session, state: NodeState) -> None:
    entries = [
        allocate_status_entries(session=session, state=state, pair_size=3)[0] for _ in range(7)
    ]
    by_list: dict[str, list[int]] = {}
    for entry in entries:
        by_list.setdefault(entry.list_url, []).append(entry.index)
    assert [len(indices) for indices in by_list.values()] == [3, 3, 1]
    for indices in by_list.values():
        assert len(set(indices)) == len(indices)
        assert all(0 <= index < 3 for index in indices)
    pairs = session.exec(select(StatusPair).order_by(StatusPair.id)).all()  # type: ignore[arg-type]
    assert [(p.size, p.next_position) for p in pairs] == [(3, 3), (3, 3), (3, 1)]
    # Even a small pair publishes lists of the spec's minimum length.
    assert read_list(record_of(session, entries[-1]).token, state).bits.size == MIN_ENTRIES


def test_setting_and_clearing_a_bit_re_signs_the_list(session: Session, state: NodeState) -> None:
    revocation, suspension = allocate_status_entries(session=session, state=state, now=NOW)
    before = record_of(session, revocation)
    old_token, old_etag = before.token, before.etag
    later = NOW + timedelta(minutes=5)

    revoked = set_status_bit(
        session=session,
        state=state,
        list_id=list_id(revocation),
        index=revocation.index,
        value=True,
        now=later,
    )
    # The record is the session's one object for the row: keep what it says now.
    revoked_token, revoked_etag = revoked.token, revoked.etag
    published = read_list(revoked_token, state)
    assert published.bits.get(revocation.index)
    assert published.valid_from == later
    assert revoked_token != old_token
    assert revoked_etag != old_etag
    assert revoked_etag.startswith('"')
    assert revoked_etag.endswith('"')
    # The suspension list of the pair is untouched.
    assert not read_list(record_of(session, suspension).token, state).bits.get(suspension.index)

    # Setting a bit that is already set changes nothing, so the token stays the same.
    again = set_status_bit(
        session=session,
        state=state,
        list_id=list_id(revocation),
        index=revocation.index,
        value=True,
        now=later + timedelta(minutes=1),
    )
    assert again.token == revoked_token

    cleared = set_status_bit(
        session=session,
        state=state,
        list_id=list_id(revocation),
        index=revocation.index,
        value=False,
    )
    assert not read_list(cleared.token, state).bits.get(revocation.index)
    assert cleared.etag not in (old_etag, revoked_etag)


def test_setting_a_bit_checks_list_and_index(session: Session, state: NodeState) -> None:
    revocation, _ = allocate_status_entries(session=session, state=state, pair_size=8)
    with pytest.raises(NotFound, match="no status list revocation-999999"):
        set_status_bit(
            session=session, state=state, list_id="revocation-999999", index=0, value=True
        )
    with pytest.raises(InvalidRequest, match="has indices 0 to 7; 8 is not one"):
        set_status_bit(
            session=session, state=state, list_id=list_id(revocation), index=8, value=True
        )


def test_publish_starts_a_fresh_validity(session: Session, state: NodeState) -> None:
    revocation, _ = allocate_status_entries(session=session, state=state, now=NOW)
    later = NOW + timedelta(hours=3, microseconds=250)
    record = publish_status_list(
        session=session, state=state, list_id=list_id(revocation), now=later
    )
    published = read_list(record.token, state)
    assert published.valid_from == record.valid_from == later.replace(microsecond=0)
    assert record.valid_until == record.valid_from + state.settings.status_list_validity
    with pytest.raises(NotFound, match="no status list suspension-0"):
        publish_status_list(session=session, state=state, list_id="suspension-0", now=later)


def test_refresh_re_signs_only_lists_past_half_their_validity(
    session: Session, state: NodeState
) -> None:
    validity = state.settings.status_list_validity
    revocation, suspension = allocate_status_entries(session=session, state=state, now=NOW)
    # The suspension list was re-signed later, so it is due later.
    publish_status_list(
        session=session, state=state, list_id=list_id(suspension), now=NOW + validity / 4
    )
    assert refresh_due_status_lists(session=session, state=state, now=NOW + validity / 3) == []

    due_at = NOW + validity / 2 + timedelta(seconds=1)
    unchanged_bits = record_of(session, revocation).bits
    old_token = record_of(session, revocation).token
    assert refresh_due_status_lists(session=session, state=state, now=due_at) == [
        list_id(revocation)
    ]
    refreshed = record_of(session, revocation)
    assert refreshed.token != old_token
    assert refreshed.bits == unchanged_bits
    assert read_list(refreshed.token, state).valid_from == due_at
    # Fresh again: nothing to do until it is due once more.
    assert refresh_due_status_lists(session=session, state=state, now=due_at) == []
    later = NOW + validity / 4 + validity / 2 + timedelta(seconds=1)
    assert refresh_due_status_lists(session=session, state=state, now=later) == [
        list_id(suspension)
    ]


def test_concurrent_allocations_never_share_an_index(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    threads, per_thread = 4, 25
    with fresh_state(backend, databases) as state:
        # One pair exists already, so every thread competes for the same row.
        with transaction(state.engine) as session:
            first = allocate_status_entries(session=session, state=state)[0]
        start = threading.Barrier(threads)
        allocated: list[StatusEntry] = [first]
        failures: list[BaseException] = []

        def allocate() -> None:
            try:
                start.wait(timeout=10)
                for _ in range(per_thread):
                    with transaction(state.engine) as session:
                        entry = allocate_status_entries(session=session, state=state)[0]
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
            assert session.exec(select(StatusPair.next_position)).one() == len(allocated)
