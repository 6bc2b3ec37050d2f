"""Which process of a node runs the duties that must run once per node.

A node served by several worker processes (`node serve --workers N`, PostgreSQL only) still has
one relay, one status-list refresher, one trust-list republisher and sync, one ingest pull, one
quality-report writer, one mail sender and one round of periodic notices: two relays would each
sign and send the same events, two refreshers would re-sign every list twice. Every worker
campaigns for a session-level PostgreSQL advisory lock on a connection of its own; the one that
holds it runs the duties. PostgreSQL releases a session lock when its session ends, so when the
leader dies (even by SIGKILL: the kernel closes its socket, and the server ends the session)
another worker takes the lock at its next attempt, within `LEADER_POLL_SECONDS` or so, and
starts the duties afresh. A leader that loses its lock connection (a database restart) stops its
duties at its next check, and campaigns again.

Between a leader losing its connection and noticing it, another worker may already lead: for
that second two processes may run a duty. Every duty is a transaction that tolerates that (the
refresher skips a list another transaction holds; the global node stores a relayed event once,
whoever sends it). On SQLite a node is one process, which leads from the start.

The lock connection is named in `pg_stat_activity` (`application_name`) with the worker's process
id, so an operator (or a test) can tell which process leads:

    SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'sdgcities leader%'
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from typing import Any, Final

from sqlalchemy import Engine

from .coherence import dedicated_connection

logger = logging.getLogger(__name__)

LEADER_POLL_SECONDS: Final = 1.0
LEADER_APPLICATION_NAME: Final = "sdgcities leader"

Duty = Callable[[], AbstractAsyncContextManager[None]]
"""Opens one duty (a background task that runs while its context is open)."""


def leader_lock_key(node_id: str) -> int:
    """The advisory lock's key: a signed 64-bit number, one per node (nodes may share a database
    server; advisory locks are per database, so this only matters if they share a database)."""
    digest = hashlib.sha256(f"sdgcities leader {node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """A session-level advisory lock held on a PostgreSQL connection of its own.

    Blocking calls: run them in a thread.
    """

    def __init__(self, engine: Engine, *, key: int) -> None:
        self._engine, self._key = engine, key
        self._connection: Any = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False when another session holds it or the
        database cannot be reached."""
        try:
            connection = self._connect()
            acquired = connection.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
            return bool(acquired.fetchone()[0])
        except Exception as exc:  # a refused connection, a database restart: campaign again
            logger.warning("leader election: the lock cannot be tried (%s)", exc)
            self.release()
            return False

    def still_held(self) -> bool:
        """Whether the session holding the lock is still alive (its lock lives as long)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1").fetchone()
        except Exception as exc:
            logger.warning("leader election: the lock connection was lost (%s)", exc)
            self.release()
            return False
        return True

    def release(self) -> None:
        """Close the connection, which releases the lock."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(Exception):
                connection.close()

    def _connect(self) -> Any:
        if self._connection is None:
            connection = dedicated_connection(self._engine)
            self._connection = connection
            connection.execute(
                "SELECT set_config('application_name', %s, false)",
                (f"{LEADER_APPLICATION_NAME} (pid {os.getpid()})",),
            )
        return self._connection


@asynccontextmanager
async def run_once_per_node(
    *, engine: Engine, node_id: str, duties: Sequence[Duty], poll: float = LEADER_POLL_SECONDS
) -> AsyncIterator[None]:
    """Run `duties` while the context is open: at once on SQLite (one process), and on
    PostgreSQL only while this process holds the node's leader lock."""
    if engine.dialect.name != "postgresql":
        async with AsyncExitStack() as stack:
            for duty in duties:
                await stack.enter_async_context(duty())
            yield
        return
    stop = asyncio.Event()
    lock = AdvisoryLock(engine, key=leader_lock_key(node_id))
    task = asyncio.create_task(_campaign(lock, duties, poll=poll, stop=stop), name="leader")
    try:
        yield
    finally:
        stop.set()
        await task


async def _campaign(
    lock: AdvisoryLock, duties: Sequence[Duty], *, poll: float, stop: asyncio.Event
) -> None:
    try:
        while not stop.is_set():
            if await asyncio.to_thread(lock.try_acquire):
                logger.info("process %s leads: it runs the node's duties", os.getpid())
                await _lead(lock, duties, poll=poll, stop=stop)
                if not stop.is_set():
                    logger.warning("process %s lost the lead; its duties stopped", os.getpid())
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
    finally:
        await asyncio.to_thread(lock.release)


async def _lead(
    lock: AdvisoryLock, duties: Sequence[Duty], *, poll: float, stop: asyncio.Event
) -> None:
    """Run the duties until `stop`, or until the lock's session is lost."""
    async with AsyncExitStack() as stack:
        for duty in duties:
            await stack.enter_async_context(duty())
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
            if not stop.is_set() and not await asyncio.to_thread(lock.still_held):
                return
