"""The global node's duty that sends member nodes the communities across countries they have not
taken at their current revision: after a city's answer arrived in an ingested report, or after a
sending failed (the member node was down)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Final

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
from sdgcities.node.state import NodeState

from .across import deliver_pending

logger = logging.getLogger(__name__)
DELIVERY_SECONDS: Final = 60.0


def deliver_once(state: NodeState) -> int:
    """One round in its own transaction; how many communities were sent."""
    with transaction(state.engine) as session:
        return deliver_pending(session=session, state=state)


@asynccontextmanager
async def community_deliveries(state: NodeState) -> AsyncIterator[None]:
    """On the global node, send the communities' revisions while the context is open."""
    if not state.settings.is_global:
        yield
        return
    async with run_periodically(
        partial(deliver_once, state),
        name="community-deliveries",
        interval=DELIVERY_SECONDS,
        logger=logger,
        what="the communities' deliveries",
        outcome=lambda sent: f"sent {sent} communit(ies) to member nodes" if sent else None,
        expected_failures=True,
        wait_first=True,
    ):
        yield
