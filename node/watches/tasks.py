"""The leader duty that turns new events into notices and sends the webhooks that are due.

One round fans out every event the cursor has not passed (in batches, each its own
transaction), then makes one sending round. The database calls and the HTTP posts block, so a
round runs in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import httpx

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .service import FAN_OUT_BATCH, events_waiting, fan_out_once
from .webhooks import deliver_due_once, webhook_client

logger = logging.getLogger(__name__)


def notify_once(state: NodeState, client: httpx.Client) -> tuple[int, int, int]:
    """One round: (deliveries created, webhooks delivered, webhooks failed)."""
    created = 0
    while events_waiting(state):
        with transaction(state.engine) as session:
            read, batch = fan_out_once(state, session=session, now=utcnow())
        created += batch
        if read < FAN_OUT_BATCH:
            break
    delivered, failed = deliver_due_once(state, client)
    return created, delivered, failed


@asynccontextmanager
async def watch_notices(state: NodeState) -> AsyncIterator[None]:
    """Notify watches of new events while the context is open."""
    with webhook_client(state.settings) as client:
        async with run_periodically(
            partial(notify_once, state, client),
            name="watch-notices",
            interval=state.settings.watch_interval_seconds,
            logger=logger,
            what="the watch round",
            outcome=lambda counts: (
                (
                    f"watches: {counts[0]} notices, {counts[1]} webhooks delivered, "
                    f"{counts[2]} to retry"
                )
                if any(counts)
                else None
            ),
        ):
            yield
