"""The relay's background thread: sends new events within about a second, backs off on failure."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sdgcities.node.config import Settings
from sdgcities.node.state import NodeState

from .service import Relay, Transport, backoff_delay

logger = logging.getLogger(__name__)


def _run(relay: Relay, settings: Settings, stop: threading.Event) -> None:
    failures = 0
    while not stop.is_set():
        try:
            result = relay.run_once()
            failure, retry_after = result.failure, result.retry_after
        except Exception as exc:  # a bug or a database outage: keep the thread alive
            logger.exception("the relay round failed")
            failure, retry_after = str(exc), None
        if failure is None:
            failures = 0
            # Polling the log head each interval is one indexed read: new events go out within
            # about `relay_interval_seconds` without the workflow having to know the relay.
            delay = settings.relay_interval_seconds
        else:
            delay = backoff_delay(
                failures,
                base=settings.relay_backoff_base_seconds,
                cap=settings.relay_backoff_max_seconds,
            )
            failures += 1
            if retry_after is not None:
                delay = max(delay, retry_after)
            logger.warning("relay: %s; next try in %.1f s", failure, delay)
        stop.wait(delay)


@asynccontextmanager
async def event_relay(state: NodeState, transport: Transport | None) -> AsyncIterator[None]:
    """Relay the node's events while the context is open (nothing without a transport)."""
    if transport is None:
        yield
        return
    stop = threading.Event()
    relay = Relay(state, transport)
    task = asyncio.create_task(
        asyncio.to_thread(_run, relay, state.settings, stop), name="event-relay"
    )
    try:
        yield
    finally:
        stop.set()
        await task
