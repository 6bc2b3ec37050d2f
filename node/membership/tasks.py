"""The background task that fetches the trust list from the global node every few minutes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sdgcities.node.db import transaction
from sdgcities.node.state import NodeState

from .service import sync_trust_list

logger = logging.getLogger(__name__)


def sync_once(state: NodeState) -> int:
    """One sync in its own transaction; the sequence now held."""
    with transaction(state.engine) as session:
        copy, _stored = sync_trust_list(session=session, state=state)
    return copy.sequence


async def _loop(state: NodeState, *, interval: float, stop: asyncio.Event) -> None:
    while True:
        try:
            await asyncio.to_thread(sync_once, state)
        except Exception as exc:
            logger.warning("trust-list sync failed (%s); next try in %s s", exc, interval)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return


@asynccontextmanager
async def trust_list_sync(state: NodeState) -> AsyncIterator[None]:
    """On a national node with a global URL, sync while the context is open."""
    if state.settings.is_global or state.settings.global_url is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        _loop(state, interval=state.settings.trust_sync_seconds, stop=stop), name="trust-sync"
    )
    try:
        yield
    finally:
        stop.set()
        await task
