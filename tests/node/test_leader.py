"""One process of a node runs its once-per-node duties (node.leader), and another takes over
when it goes; each process hears the others' changes (node.coherence)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from sdgcities.node.coherence import (
    CHANNEL,
    INGEST_PULL,
    STATUS_LIST,
    TRUST_LIST,
    ChangeListener,
    announce,
)
from sdgcities.node.db import make_engine
from sdgcities.node.ingest.service import IngestRuntime
from sdgcities.node.leader import LEADER_APPLICATION_NAME, AdvisoryLock, run_once_per_node

from ..conftest import TemporaryDatabases


class Duty:
    """A duty that records whether it runs."""

    def __init__(self) -> None:
        self.running = False
        self.started = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        self.running, self.started = True, self.started + 1
        try:
            yield
        finally:
            self.running = False


async def eventually(check: object, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


@pytest.fixture
def postgres_url(databases: TemporaryDatabases) -> str:
    return databases.create("postgresql")


def test_on_sqlite_the_one_process_leads_at_once(databases: TemporaryDatabases) -> None:
    engine = make_engine(databases.create("sqlite"))
    duty = Duty()

    async def scenario() -> None:
        async with run_once_per_node(engine=engine, node_id="KE", duties=[duty]):
            assert duty.running
        assert not duty.running

    asyncio.run(scenario())


@pytest.mark.postgres
def test_one_of_two_processes_leads_and_the_other_takes_over(postgres_url: str) -> None:
    first_engine, second_engine = make_engine(postgres_url), make_engine(postgres_url)
    first, second = Duty(), Duty()

    async def scenario() -> None:
        async with run_once_per_node(engine=first_engine, node_id="KE", duties=[first], poll=0.1):
            await eventually(lambda: first.running)
            async with run_once_per_node(
                engine=second_engine, node_id="KE", duties=[second], poll=0.1
            ):
                await asyncio.sleep(0.5)
                assert not second.running  # the first one leads
                # Another node on the same database has a lock of its own.
                other = Duty()
                async with run_once_per_node(
                    engine=second_engine, node_id="GH", duties=[other], poll=0.1
                ):
                    await eventually(lambda: other.running)
                # The leader's session ends (as when its process is killed).
                with psycopg.connect(postgres_url, autocommit=True) as admin:
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = %s",
                        (f"{LEADER_APPLICATION_NAME} (pid {os.getpid()})",),
                    )
                await eventually(lambda: second.running or not first.running)
                await eventually(lambda: not first.running)
                await eventually(lambda: second.running or first.running)
                assert first.running != second.running  # exactly one leads again
        assert not first.running
        assert not second.running

    try:
        asyncio.run(scenario())
    finally:
        first_engine.dispose()
        second_engine.dispose()


def test_an_unreachable_database_is_no_lock() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2")
    lock = AdvisoryLock(engine, key=1)
    assert lock.try_acquire() is False
    assert lock.still_held() is False


ANNOUNCE_FROM_ANOTHER_PROCESS = """
import sys
from sqlmodel import Session
from sdgcities.node.coherence import announce
from sdgcities.node.db import make_engine
from sdgcities.node.ingest.service import IngestRuntime
engine = make_engine(sys.argv[1])
with Session(engine) as session:
    announce(session, topic=sys.argv[2], subject=sys.argv[3])
    if sys.argv[4] == "commit":
        session.commit()
    else:
        session.rollback()
"""


def announce_elsewhere(url: str, topic: str, subject: str, *, commit: bool) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            ANNOUNCE_FROM_ANOTHER_PROCESS,
            url,
            topic,
            subject,
            "commit" if commit else "rollback",
        ],
        check=True,
        timeout=60,
    )


@pytest.mark.postgres
def test_a_committed_change_of_another_process_is_heard(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    heard: list[tuple[str, str | None]] = []
    listener = ChangeListener(engine, wait=0.1)
    listener.on(TRUST_LIST, lambda subject: heard.append((TRUST_LIST, subject)))
    listener.on(STATUS_LIST, lambda subject: heard.append((STATUS_LIST, subject)))
    listener.start()
    try:
        assert listener.connected.wait(10)
        # On (re)connecting, everything may have changed unheard.
        assert sorted(heard, key=str) == [(STATUS_LIST, None), (TRUST_LIST, None)]
        heard.clear()
        announce_elsewhere(postgres_url, STATUS_LIST, "abc", commit=False)
        announce_elsewhere(postgres_url, STATUS_LIST, "def", commit=True)
        wait_for(lambda: heard == [(STATUS_LIST, "def")])
        # What it cannot read is logged and passed over.
        with psycopg.connect(postgres_url, autocommit=True) as other:
            other.execute("SELECT pg_notify(%s, 'not json')", (CHANNEL,))
        announce_elsewhere(postgres_url, STATUS_LIST, "ghi", commit=True)
        wait_for(lambda: heard == [(STATUS_LIST, "def"), (STATUS_LIST, "ghi")])
        heard.clear()
        heard.append((STATUS_LIST, "def"))
        # This process's own announcements: it acted on its changes already.
        with Session(engine) as session:
            announce(session, topic=TRUST_LIST, subject="7")
            session.commit()
        time.sleep(0.5)
        assert heard == [(STATUS_LIST, "def")]
    finally:
        listener.stop()
        engine.dispose()


def wait_for(check: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def test_on_sqlite_nothing_is_announced_or_heard(databases: TemporaryDatabases) -> None:
    engine: Engine = make_engine(databases.create("sqlite"))
    listener = ChangeListener(engine)
    listener.start()
    listener.announce_soon(topic=TRUST_LIST, subject="1")
    with Session(engine) as session:
        announce(session, topic=TRUST_LIST, subject="1")
    assert not listener.connected.is_set()
    listener.stop()


@pytest.mark.postgres
def test_a_wish_reaches_the_other_processes_and_not_its_own(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    follower = ChangeListener(engine, wait=0.1, origin="follower")
    leader = ChangeListener(engine, wait=0.1, origin="leader")
    runtime = IngestRuntime(share_wish=follower.announcer(INGEST_PULL))
    leader_runtime = IngestRuntime()
    heard_by_follower: list[str | None] = []
    follower.on(INGEST_PULL, heard_by_follower.append)
    leader.on(
        INGEST_PULL,
        lambda node_id: node_id and leader_runtime.want_pull(node_id, share=False),
    )
    follower.start()
    leader.start()
    try:
        assert follower.connected.wait(10)
        assert leader.connected.wait(10)
        heard_by_follower.clear()
        runtime.want_pull("KE")  # a refused report, answered by the follower
        assert runtime.wanted == {"KE"}
        wait_for(lambda: leader_runtime.wanted == {"KE"})
        assert leader_runtime.wake.is_set()
        assert heard_by_follower == []
    finally:
        follower.stop()
        leader.stop()
        engine.dispose()
