"""The background task that republishes the trust list before its next-update time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime

from sdgcities.node.db import transaction
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .publish import republish_if_due

logger = logging.getLogger(__name__)
REPUBLISH_CHECK_SECONDS = 600.0


def republish_once(state: NodeState, *, now: datetime | None = None) -> int | None:
    """One round in its own transaction; the new sequence number, or None if not due."""
    with transaction(state.engine) as session:
        published = republish_if_due(
            session=session, settings=state.settings, root_key=state.root_key, now=now or utcnow()
        )
        return published.sequence if published else None


async def _loop(state: NodeState, *, interval: float, stop: asyncio.Event) -> None:
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        try:
            sequence = await asyncio.to_thread(republish_once, state)
        except Exception:
            logger.exception("republishing the trust list failed; next try in %s s", interval)
        else:
            if sequence is not None:
                logger.info("republished trust list #%s", sequence)


@asynccontextmanager
async def trust_list_republish(
    state: NodeState, *, interval: float = REPUBLISH_CHECK_SECONDS
) -> AsyncIterator[None]:
    """On the global node, republish while the context is open; elsewhere do nothing."""
    if state.root_key is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(state, interval=interval, stop=stop), name="trust-list")
    try:
        yield
    finally:
        stop.set()
        await task
