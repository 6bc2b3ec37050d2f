"""The background task that republishes the trust list before its next-update time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
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


@asynccontextmanager
async def trust_list_republish(
    state: NodeState, *, interval: float = REPUBLISH_CHECK_SECONDS
) -> AsyncIterator[None]:
    """On the global node, republish while the context is open; elsewhere do nothing."""
    if state.root_key is None:
        yield
        return
    async with run_periodically(
        partial(republish_once, state),
        name="trust-list",
        interval=interval,
        logger=logger,
        what="republishing the trust list",
        outcome=lambda sequence: (
            None if sequence is None else f"republished trust list #{sequence}"
        ),
        wait_first=True,
    ):
        yield
