from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from sdgcities.federation import (
    GENESIS,
    ChainBroken,
    ChainHead,
    EventInvalid,
    EventType,
    verify_chain,
)
from sdgcities.federation.event_data import (
    CityFacts,
    CredentialIssued,
    DecisionRecorded,
    EventData,
    LogHead,
    SharingConsent,
    SpotcheckSelected,
)
from sdgcities.node.db import transaction
from sdgcities.node.events.models import EventRecord
from sdgcities.node.events.service import append_event, list_events, log_head, verify_log

from ...conftest import TemporaryDatabases
from ..conftest import Backend
from ..fresh_database import fresh_state


def append(session: Session, n: int = 0, data: EventData | None = None) -> EventRecord:
    data = data or CredentialIssued(id=f"urn:uuid:{n}")
    return append_event(
        session=session,
        node_id="KE",
        type=next(iter(data.TYPES)),
        subject={"locode": "KE-NBO", "credential": f"urn:uuid:{n}"},
        data=data,
    )


def test_appends_chain_from_the_head_and_move_it(session: Session) -> None:
    start = log_head(session=session)
    records = [append(session, n) for n in range(3)]
    assert [r.sequence for r in records] == [start.sequence + 1 + n for n in range(3)]
    assert records[0].prev_hash == start.hash
    assert records[1].prev_hash == records[0].hash
    assert log_head(session=session) == ChainHead(records[-1].sequence, records[-1].hash)
    events = list_events(session=session, after=start.sequence, limit=10)
    assert [e.hash for e in events] == [r.hash for r in records]
    assert verify_chain(events, after=start) == log_head(session=session)


def test_stored_log_verifies_from_genesis_after_a_round_trip(session: Session) -> None:
    # Floats, nesting, nulls and non-ASCII text must come back from JSON columns unchanged
    # enough to hash the same on both databases.
    append(
        session,
        1,
        SpotcheckSelected(
            document="sha256:" + "0" * 64,
            log_head=LogHead(sequence=2**53 - 1, hash="sha256:" + "1" * 64),
            rate=0.1,
            candidates=0,
            selected=0,
        ),
    )
    append(
        session,
        2,
        CredentialIssued(
            id="urn:uuid:2", city=CityFacts(region="São Tomé", population=None, priorities=())
        ),
    )
    append(session, 3, SharingConsent(share=False))
    occurred = datetime(2026, 3, 1, 9, 30, 15, 999_999, tzinfo=UTC)
    record = append_event(
        session=session,
        node_id="KE",
        type=EventType.DECISION_RECORDED,
        subject={"application": 7},
        data=DecisionRecorded(),
        occurred_at=occurred,
    )
    session.commit()
    session.expire_all()
    stored = session.get(EventRecord, record.sequence)
    assert stored is not None
    assert stored.occurred_at == occurred.replace(microsecond=0)
    assert stored.type is EventType.DECISION_RECORDED
    assert stored.to_event().computed_hash() == stored.hash
    assert verify_log(session=session) == ChainHead(record.sequence, record.hash)


def test_verify_log_notices_a_head_row_that_does_not_match(session: Session) -> None:
    append(session)
    session.exec(text("UPDATE event_log_head SET hash = :h"), params={"h": "sha256:" + "1" * 64})  # type: ignore[call-overload]
    with pytest.raises(ChainBroken, match="the head row names event"):
        verify_log(session=session)


def test_an_invalid_event_adds_nothing(session: Session) -> None:
    before = log_head(session=session)
    with pytest.raises(EventInvalid, match="subject keys"):
        append_event(
            session=session,
            node_id="KE",
            type=EventType.COMMUNITY_SHARING,
            subject={"X": 1},
            data=SharingConsent(share=True),
        )
    assert log_head(session=session) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE event_record SET data = '{}' WHERE sequence = :sequence",
        "UPDATE event_record SET hash = 'x' WHERE sequence = :sequence",
        "DELETE FROM event_record WHERE sequence = :sequence",
    ],
)
def test_the_log_is_append_only_in_the_database(session: Session, statement: str) -> None:
    record = append(session)
    with pytest.raises(DBAPIError, match="event_record is append-only"), session.begin_nested():
        session.exec(text(statement), params={"sequence": record.sequence})  # type: ignore[call-overload]
    session.expire_all()
    assert verify_log(session=session) == ChainHead(record.sequence, record.hash)


def test_concurrent_appends_never_share_a_sequence(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    threads, per_thread = 4, 15
    with fresh_state(backend, databases) as state:
        start = threading.Barrier(threads)
        failures: list[BaseException] = []

        def writer(number: int) -> None:
            try:
                start.wait(timeout=10)
                for n in range(per_thread):
                    # One transaction per event, as a request that records one change.
                    with transaction(state.engine) as session:
                        append(session, number * 100 + n)
            except BaseException as exc:
                failures.append(exc)

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert not failures, failures
        with Session(state.engine) as session:
            sequences = session.exec(
                select(EventRecord.sequence).order_by(col(EventRecord.sequence))
            ).all()
            assert list(sequences) == list(range(1, threads * per_thread + 1))
            head = verify_log(session=session)
        assert head.sequence == threads * per_thread
        assert head != GENESIS
