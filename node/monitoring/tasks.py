"""The background task that writes each node's data-quality report when it is due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sdgcities.node.db import transaction
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .quality import record_due_reports

logger = logging.getLogger(__name__)
QUALITY_CHECK_SECONDS = 600.0


def record_quality_once(state: NodeState) -> int:
    """One round in its own transaction: a report for each node whose last one is due."""
    with transaction(state.engine) as session:
        reports = record_due_reports(
            session=session,
            settings=state.settings,
            now=utcnow(),
            every=state.settings.monitoring_quality_seconds,
        )
        return len(reports)


async def _loop(state: NodeState, *, interval: float, stop: asyncio.Event) -> None:
    while True:
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        try:
            written = await asyncio.to_thread(record_quality_once, state)
        except Exception:
            logger.exception("the data-quality reports failed; next try in %s s", interval)
        else:
            if written:
                logger.info("wrote %s data-quality report(s)", written)


@asynccontextmanager
async def quality_reports(state: NodeState) -> AsyncIterator[None]:
    """On the global node, write the data-quality reports while the context is open."""
    if not state.settings.is_global:
        yield
        return
    interval = min(QUALITY_CHECK_SECONDS, state.settings.monitoring_quality_seconds)
    stop = asyncio.Event()
    task = asyncio.create_task(_loop(state, interval=interval, stop=stop), name="quality")
    try:
        yield
    finally:
        stop.set()
        await task
