"""Reporting across real processes: a global node and two national nodes (uvicorn, SQLite each).

Events are appended to a national node's log from this process, as any local writer would
(the relay reads the log, whoever wrote it): credentials issued and revoked. The checks read the
global node's database directly.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from sdgcities.credentials import isoformat
from sdgcities.federation import GENESIS, Event, EventType, verify_chain
from sdgcities.federation.event_data import CredentialIssued, CredentialStatusChanged
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.events.service import append_event
from sdgcities.node.ingest.models import IngestAlarm, IngestedEvent, ReceivedReport
from sdgcities.node.timeutil import utcnow

from .harness import Node, federation

pytestmark = pytest.mark.slow

FAST_RELAY = {
    "relay_interval_seconds": 0.2,
    "relay_backoff_base_seconds": 0.2,
    "relay_backoff_max_seconds": 1.0,
}


def _issue_and_revoke(node: Node, count: int) -> None:
    engine = make_engine(f"sqlite:///{node.database}")
    try:
        for n in range(count):
            with transaction(engine) as session:
                kind = EventType.CREDENTIAL_REVOKED if n % 3 == 2 else EventType.CREDENTIAL_ISSUED
                append_event(
                    session=session,
                    node_id=node.node_id,
                    type=kind,
                    subject={"locode": f"{node.node_id}-ABC", "credential": f"urn:uuid:{n}"},
                    data=(
                        CredentialStatusChanged(id=f"urn:uuid:{n}", valid_from=isoformat(utcnow()))
                        if kind is EventType.CREDENTIAL_REVOKED
                        else CredentialIssued(id=f"urn:uuid:{n}", valid_from=isoformat(utcnow()))
                    ),
                )
    finally:
        engine.dispose()


def _national_events(node: Node) -> list[tuple[int, str]]:
    with sqlite3.connect(node.database) as db:
        return list(db.execute("SELECT sequence, hash FROM event_record ORDER BY sequence"))


def _held(global_node: Node, node_id: str) -> list[IngestedEvent]:
    engine = make_engine(f"sqlite:///{global_node.database}")
    try:
        with Session(engine) as session:
            return list(
                session.exec(
                    select(IngestedEvent)
                    .where(IngestedEvent.node_id == node_id)
                    .order_by(col(IngestedEvent.sequence))
                ).all()
            )
    finally:
        engine.dispose()


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def _holds_all(global_node: Node, national: Node) -> bool:
    return [(e.sequence, e.hash) for e in _held(global_node, national.node_id)] == (
        _national_events(national)
    )


def _check_exactly_once(global_node: Node, national: Node) -> None:
    held = _held(global_node, national.node_id)
    assert [(e.sequence, e.hash) for e in held] == _national_events(national)
    events = [
        Event.from_json(
            {
                "sequence": e.sequence,
                "nodeId": e.node_id,
                "type": e.type,
                "occurredAt": e.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "subject": e.subject,
                "data": e.data,
                "prevHash": e.prev_hash,
                "hash": e.hash,
            }
        )
        for e in held
    ]
    verify_chain(events, after=GENESIS)
    engine = make_engine(f"sqlite:///{global_node.database}")
    try:
        with Session(engine) as session:
            added = session.exec(
                select(ReceivedReport.added).where(ReceivedReport.node_id == national.node_id)
            ).all()
            assert sum(added) == len(held)
            assert session.exec(select(IngestAlarm)).all() == []
    finally:
        engine.dispose()


def test_events_issued_while_the_global_node_is_down_arrive_once_in_order(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke, tz) = federation(tmp_path, processes, ("KE", "TZ"), **FAST_RELAY)
    _issue_and_revoke(ke, 5)
    _issue_and_revoke(tz, 4)
    _wait_for(lambda: _holds_all(global_node, ke) and _holds_all(global_node, tz), "delivery")

    global_node.stop()
    _issue_and_revoke(ke, 12)
    _issue_and_revoke(tz, 7)
    time.sleep(2)  # the relays fail and back off meanwhile
    global_node.start()
    _wait_for(lambda: _holds_all(global_node, ke) and _holds_all(global_node, tz), "catch-up")
    _check_exactly_once(global_node, ke)
    _check_exactly_once(global_node, tz)
    assert len(_held(global_node, "KE")) == 17

    with httpx.Client(timeout=30) as http:
        logs = http.get(f"{global_node.url}/federation/logs", headers=global_node.admin).json()
        heads = {log["node_id"]: log["head_sequence"] for log in logs["data"]}
        assert (heads["KE"], heads["TZ"]) == (17, 11)


def test_a_relay_that_lost_its_receipt_resends_and_nothing_is_duplicated(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke, _tz) = federation(tmp_path, processes, ("KE", "TZ"), **FAST_RELAY)
    _issue_and_revoke(ke, 6)
    _wait_for(lambda: _holds_all(global_node, ke), "delivery")
    _wait_for(
        lambda: (
            sqlite3.connect(ke.database)
            .execute("SELECT max(last) FROM relay_receipt")
            .fetchone()[0]
            == 6
        ),
        "the receipt",
    )

    # The relay dies after the global node stored the report, before it wrote the receipt.
    ke.stop()
    with sqlite3.connect(ke.database) as db:
        db.execute("DELETE FROM relay_receipt")
    _issue_and_revoke(ke, 2)
    ke.start()
    _wait_for(lambda: _holds_all(global_node, ke), "re-delivery")
    _wait_for(
        lambda: (
            sqlite3.connect(ke.database)
            .execute("SELECT max(last) FROM relay_receipt")
            .fetchone()[0]
            == 8
        ),
        "the new receipt",
    )
    _check_exactly_once(global_node, ke)
    assert len(_held(global_node, "KE")) == 8
    assert _held(global_node, "TZ") == []

    # The global node can pull too: with everything held, a pull adds nothing.
    with httpx.Client(timeout=30) as http:
        pulled = http.post(
            f"{global_node.url}/federation/members/KE/pull", headers=global_node.admin
        )
        assert pulled.status_code == 200, pulled.text
        assert (pulled.json()["added"], pulled.json()["head"]["sequence"]) == (0, 8)
