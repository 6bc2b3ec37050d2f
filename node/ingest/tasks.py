"""The global node's pull task: fills gaps at once, and polls every member now and then."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sdgcities.credentials import NodeStatus
from sdgcities.node.db import transaction
from sdgcities.node.state import NodeState

from .pull import pull_node
from .service import IngestRuntime

logger = logging.getLogger(__name__)


def pull_round(state: NodeState, runtime: IngestRuntime, *, everyone: bool) -> None:
    """Pull the nodes with a gap, or (`everyone`) every member that may still report."""
    if everyone:
        with transaction(state.engine, write=False) as session:
            trust_list = runtime.trust_lists.current(session=session, state=state)
        nodes = {
            node.id
            for node in (trust_list.nodes if trust_list else ())
            if node.id != state.settings.node_id and node.status is not NodeStatus.WITHDRAWN
        }
    else:
        nodes = set(runtime.wanted)
    for node_id in sorted(nodes):
        try:
            pull_node(state=state, runtime=runtime, node_id=node_id)
        except Exception as exc:
            logger.warning("pulling node %s failed: %s", node_id, exc)


def _run(state: NodeState, runtime: IngestRuntime, stop: threading.Event, interval: float) -> None:
    next_full = time.monotonic() + interval
    while not stop.is_set():
        runtime.wake.wait(timeout=max(0.0, next_full - time.monotonic()))
        runtime.wake.clear()
        if stop.is_set():
            return
        everyone = time.monotonic() >= next_full
        if everyone:
            next_full = time.monotonic() + interval
        pull_round(state, runtime, everyone=everyone)


@asynccontextmanager
async def ingest_pull(state: NodeState, runtime: IngestRuntime | None) -> AsyncIterator[None]:
    """On the global node, run the pull task while the context is open."""
    if runtime is None:
        yield
        return
    stop = threading.Event()
    task = asyncio.create_task(
        asyncio.to_thread(_run, state, runtime, stop, state.settings.ingest_pull_seconds),
        name="ingest-pull",
    )
    try:
        yield
    finally:
        stop.set()
        runtime.wake.set()
        await task
