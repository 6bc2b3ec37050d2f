"""The relay's background thread: sends new events within about a second, backs off on failure."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sdgcities.node.config import Settings
from sdgcities.node.state import NodeState

from .service import Relay, Round, Transport, backoff_delay

logger = logging.getLogger(__name__)


def next_delay(result: Round, failures: int, settings: Settings) -> tuple[float, int]:
    """How long to wait after a round, and the count of failures in a row after it."""
    if result.not_member:
        # Nothing failed: the node waits for a trust list that lists it (`RelayWake`), or
        # for its key's validity to begin; the poll is a fallback (another process synced).
        if result.retry_after is not None:
            return result.retry_after, failures
        return settings.relay_backoff_max_seconds, failures
    if result.failure is None:
        # Polling the log head each interval is one indexed read: new events go out within
        # about `relay_interval_seconds` without the workflow having to know the relay.
        return settings.relay_interval_seconds, 0
    delay = backoff_delay(
        failures, base=settings.relay_backoff_base_seconds, cap=settings.relay_backoff_max_seconds
    )
    if result.retry_after is not None:
        delay = max(delay, result.retry_after)
    return delay, failures + 1


def _run(relay: Relay, state: NodeState, stop: threading.Event) -> None:
    failures = 0
    logged_waiting: str | None = None
    while not stop.is_set():
        try:
            result = relay.run_once()
        except Exception as exc:  # a bug or a database outage: keep the thread alive
            logger.exception("the relay round failed")
            result = Round(0, failure=str(exc))
        delay, failures = next_delay(result, failures, state.settings)
        if result.not_member:
            if result.failure != logged_waiting:
                logger.info("relay: %s", result.failure)
        elif result.failure is not None:
            logger.warning("relay: %s; next try in %.1f s", result.failure, delay)
        logged_waiting = result.failure if result.not_member else None
        if state.relay_wake.wait(delay):
            failures = 0


@asynccontextmanager
async def event_relay(state: NodeState, transport: Transport | None) -> AsyncIterator[None]:
    """Relay the node's events while the context is open (nothing without a transport)."""
    if transport is None:
        yield
        return
    stop = threading.Event()
    relay = Relay(state, transport)
    task = asyncio.create_task(asyncio.to_thread(_run, relay, state, stop), name="event-relay")
    try:
        yield
    finally:
        stop.set()
        state.relay_wake.wake()
        await task
