"""The leader's duty that sends the periodic notices: certificates nearing expiry (every node),
and member nodes fallen silent or alarming (the global node). Each round is one transaction;
`notice_sent` keeps each notice to one, should two processes run a round at once (node.leader)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sdgcities.node.db import transaction
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .service import periodic_notices_due, send_expiry_notices, send_federation_notices

logger = logging.getLogger(__name__)
NOTICE_CHECK_SECONDS = 600.0


def send_periodic_notices_once(state: NodeState) -> int:
    """One round: how many notices were sent (each to all the people concerned). A read-only
    look first, so a round with nothing to send takes no write lock (SQLite has one)."""
    now = utcnow()
    with transaction(state.engine, write=False) as session:
        if not periodic_notices_due(session=session, settings=state.settings, now=now):
            return 0
    with transaction(state.engine) as session:
        sent = send_expiry_notices(session=session, settings=state.settings, now=now)
        if state.settings.is_global:
            sent += send_federation_notices(session=session, settings=state.settings, now=now)
        return sent


async def _loop(state: NodeState, *, interval: float, stop: asyncio.Event) -> None:
    while True:
        try:
            sent = await asyncio.to_thread(send_periodic_notices_once, state)
        except Exception:
            logger.exception("the periodic notices failed; next try in %s s", interval)
        else:
            if sent:
                logger.info("sent %s periodic notice(s)", sent)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return


@asynccontextmanager
async def periodic_notices(state: NodeState) -> AsyncIterator[None]:
    """Send the periodic notices while the context is open; a silent node is noticed within
    half the silence allowed, or the check's interval."""
    interval = NOTICE_CHECK_SECONDS
    if state.settings.is_global:
        interval = min(interval, max(1.0, state.settings.silence_after.total_seconds() / 2))
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(state, interval=interval, stop=stop), name="notices")
    try:
        yield
    finally:
        stop.set()
        await task
