"""The background task that keeps the status lists fresh.

Each list is re-signed when less than half its validity is left, even when no bit changed, so
a verifier that sees an expired list knows it is being served a stale copy. The loop runs in the
app's lifespan, one transaction per round, in a worker thread so the event loop never waits on
the database; a failed round is logged and retried at the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sdgcities.node.db import transaction
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .service import refresh_due_status_lists

logger = logging.getLogger(__name__)


def refresh_once(state: NodeState, *, now: datetime | None = None) -> list[str]:
    """One round in its own transaction; returns the ids of the lists re-signed."""
    with transaction(state.engine) as session:
        return refresh_due_status_lists(session=session, state=state, now=now or utcnow())


async def refresh_periodically(state: NodeState, *, interval: float, stop: asyncio.Event) -> None:
    """Run `refresh_once` every `interval` seconds until `stop` is set."""
    while True:
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
        else:
            return
        try:
            refreshed = await asyncio.to_thread(refresh_once, state)
        except Exception:
            logger.exception("re-signing the status lists failed; next try in %s s", interval)
        else:
            if refreshed:
                logger.info("re-signed status lists %s", ", ".join(refreshed))


@asynccontextmanager
async def status_refresh(state: NodeState, *, interval: float | None = None) -> AsyncIterator[None]:
    """Run the refresh loop while the context is open; on exit, let a running round finish."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        refresh_periodically(
            state,
            interval=state.settings.status_refresh_seconds if interval is None else interval,
            stop=stop,
        ),
        name="status-list-refresh",
    )
    try:
        yield
    finally:
        stop.set()
        await task
