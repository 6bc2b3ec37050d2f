"""The leader's duty that sends the periodic notices: certificates nearing expiry (every node),
and member nodes fallen silent or alarming (the global node). Each round is one transaction;
`notice_sent` keeps each notice to one, should two processes run a round at once (node.leader)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
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


@asynccontextmanager
async def periodic_notices(state: NodeState) -> AsyncIterator[None]:
    """Send the periodic notices while the context is open; a silent node is noticed within
    half the silence allowed, or the check's interval."""
    interval = NOTICE_CHECK_SECONDS
    if state.settings.is_global:
        interval = min(interval, max(1.0, state.settings.silence_after.total_seconds() / 2))
    async with run_periodically(
        partial(send_periodic_notices_once, state),
        name="notices",
        interval=interval,
        logger=logger,
        what="the periodic notices",
        outcome=lambda sent: f"sent {sent} periodic notice(s)" if sent else None,
    ):
        yield
