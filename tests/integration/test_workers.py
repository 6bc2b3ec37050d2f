"""A national node served by three worker processes on PostgreSQL (`node serve --workers 3`).

The leader (the worker holding the node's advisory lock, node.leader) is killed with SIGKILL
during a burst of awards: another worker takes the lead within seconds, its relay sends what was
left, and the global node holds every event exactly once. Answers stay the same from every
worker: after a revocation each worker's verifier says revoked, and each serves the same status
list and registry.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlmodel import Session, col, select

from sdgcities.credentials import StatusEntry, isoformat
from sdgcities.federation import EventType
from sdgcities.federation.event_data import CredentialIssued, CredentialStatusChanged
from sdgcities.node.config import get_settings
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.events.service import append_event
from sdgcities.node.identity.service import load_active_key
from sdgcities.node.ingest.models import IngestAlarm, IngestedEvent, ReceivedReport
from sdgcities.node.leader import LEADER_APPLICATION_NAME
from sdgcities.node.state import NodeState
from sdgcities.node.status.service import set_status_bits
from sdgcities.node.timeutil import utcnow
from sdgcities.node.verification.service import VerifierCache

from ..conftest import TemporaryDatabases
from .harness import (
    Node,
    allocate_status_entries,
    approve,
    endorsed_framework,
    make_node,
    sign_certificate,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WORKERS = 3
AWARDS = 60
TAKE_OVER_SECONDS = 10.0
FAST_RELAY = {
    "relay_interval_seconds": 0.2,
    "relay_backoff_base_seconds": 0.2,
    "relay_backoff_max_seconds": 1.0,
}
# Enough fresh connections that each of the workers answers some (the kernel spreads them).
READS = 30


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> float:
    """Seconds until `condition` held."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def leader_pid(database_url: str) -> int | None:
    """The process id of the worker that holds the node's leader lock, from PostgreSQL."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE %s"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (f"{LEADER_APPLICATION_NAME}%",),
        ).fetchone()
    if row is None:
        return None
    found = re.search(r"pid (\d+)", row[0])
    return int(found.group(1)) if found else None


def awards(database_url: str, node_id: str, count: int, pause: float) -> None:
    """The events `count` awards and a revocation now and then append to the node's log."""
    engine = make_engine(database_url)
    try:
        for n in range(count):
            kind = EventType.CREDENTIAL_REVOKED if n % 5 == 4 else EventType.CREDENTIAL_ISSUED
            with transaction(engine) as session:
                append_event(
                    session=session,
                    node_id=node_id,
                    type=kind,
                    subject={"locode": f"{node_id}-MBA", "credential": f"urn:uuid:{n}"},
                    data=(
                        CredentialStatusChanged(id=f"urn:uuid:{n}", valid_from=isoformat(utcnow()))
                        if kind is EventType.CREDENTIAL_REVOKED
                        else CredentialIssued(id=f"urn:uuid:{n}", valid_from=isoformat(utcnow()))
                    ),
                )
            time.sleep(pause)
    finally:
        engine.dispose()


def national_log(database_url: str) -> list[tuple[int, str]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT sequence, hash FROM event_record ORDER BY sequence")
        return [(sequence, hash_) for sequence, hash_ in rows]


def held(global_node: Node, node_id: str) -> list[tuple[int, str]]:
    engine = make_engine(f"sqlite:///{global_node.database}")
    try:
        with Session(engine) as session:
            return [
                (e.sequence, e.hash)
                for e in session.exec(
                    select(IngestedEvent)
                    .where(IngestedEvent.node_id == node_id)
                    .order_by(col(IngestedEvent.sequence))
                ).all()
            ]
    finally:
        engine.dispose()


def check_exactly_once(global_node: Node, node_id: str, log: list[tuple[int, str]]) -> None:
    assert held(global_node, node_id) == log
    engine = make_engine(f"sqlite:///{global_node.database}")
    try:
        with Session(engine) as session:
            added = session.exec(
                select(ReceivedReport.added).where(ReceivedReport.node_id == node_id)
            ).all()
            assert sum(added) == len(log)
            assert session.exec(select(IngestAlarm)).all() == []
    finally:
        engine.dispose()


def each_worker(url: str, method: str, path: str, **request: object) -> list[httpx.Response]:
    """`READS` requests, each on a connection of its own (so every worker answers some)."""
    answers = []
    for _ in range(READS):
        with httpx.Client(timeout=30) as fresh:
            answers.append(fresh.request(method, f"{url}{path}", **request))  # type: ignore[arg-type]
    return answers


def revoke(ke: Node, entry: StatusEntry) -> None:
    """KE's committee revokes the certificate (in a process other than the workers)."""
    settings = get_settings(data_dir=ke.data_dir)
    engine = make_engine(settings.sqlalchemy_url)
    list_id = entry.list_url.rsplit("/", 1)[1]
    try:
        with httpx.Client() as client, Session(engine) as session:
            state = NodeState(
                settings=settings,
                engine=engine,
                signing_key=load_active_key(session=session, settings=settings),
                http=client,
                verifiers=VerifierCache(settings=settings, engine=engine, client=client),
            )
            set_status_bits(
                session=session, state=state, list_id=list_id, index=entry.index, revoked=True
            )
            session.commit()
    finally:
        engine.dispose()


def test_a_killed_leader_is_replaced_and_nothing_is_lost_or_doubled(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path, databases: TemporaryDatabases
) -> None:
    database_url = databases.create("postgresql")
    global_node = make_node(tmp_path, "global", processes)
    ke = make_node(tmp_path, "KE", processes, database_url=database_url)
    root_jwk = json.loads((global_node.data_dir / "root-key.json").read_text())
    ke.add_env(
        root_keys=json.dumps([root_jwk]),
        global_url=global_node.url,
        trust_sync_seconds=3600,
        **FAST_RELAY,
    )
    global_node.start()
    ke.start("--workers", str(WORKERS))
    wait_for(lambda: leader_pid(database_url) is not None, "a worker to lead", timeout=30)
    first_leader = leader_pid(database_url)
    assert first_leader is not None

    with httpx.Client(timeout=30, follow_redirects=False) as http:
        approve(http, global_node, ke)
        synced = http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin)
        assert synced.status_code == 200, synced.text
        framework = endorsed_framework(http, global_node, ke)

        # A burst of awards; the leader killed in its middle.
        burst = threading.Thread(target=awards, args=(database_url, "KE", AWARDS, 0.05))
        burst.start()
        wait_for(lambda: len(held(global_node, "KE")) >= 10, "the first awards relayed")
        os.kill(first_leader, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(
            lambda: leader_pid(database_url) not in (None, first_leader),
            "another worker to lead",
            timeout=TAKE_OVER_SECONDS,
        )
        took_over = time.monotonic() - killed_at
        burst.join(timeout=120)
        assert not burst.is_alive()
        new_leader = leader_pid(database_url)
        assert new_leader is not None
        assert new_leader != first_leader
        assert took_over < TAKE_OVER_SECONDS

        # The new leader's relay sends the rest; the global node holds each event once.
        log = national_log(database_url)
        assert len(log) >= AWARDS
        wait_for(lambda: held(global_node, "KE") == log, "every event at the global node")
        check_exactly_once(global_node, "KE", log)

        # Every worker answers alike: a certificate valid, then revoked.
        settings = get_settings(data_dir=ke.data_dir)
        engine = make_engine(settings.sqlalchemy_url)
        try:
            with Session(engine) as session:
                key = load_active_key(session=session, settings=settings)
        finally:
            engine.dispose()
        [entry] = allocate_status_entries(ke, key)
        token = sign_certificate(ke, key, framework, 1, status=entry)
        verified = each_worker(ke.url, "POST", "/verify", json={"jwt": token})
        assert {(a.json()["valid"], a.json()["reason"]) for a in verified} == {(True, None)}
        revoke(ke, entry)
        time.sleep(0.5)  # the announcement's way to the workers' listeners
        verified = each_worker(ke.url, "POST", "/verify", json={"jwt": token})
        assert {(a.json()["valid"], a.json()["reason"]) for a in verified} == {(False, "revoked")}
        lists = each_worker(ke.url, "GET", entry.list_url.removeprefix(ke.url))
        assert len({a.headers["ETag"] for a in lists}) == 1
        registry = each_worker(ke.url, "GET", "/registry/cities")
        assert len({a.text for a in registry}) == 1
