"""The background task that keeps the status lists fresh.

Each list is re-signed when less than half its validity is left, even when no bit changed, so
a verifier that sees an expired list knows it is being served a stale copy. The loop runs in the
app's lifespan, one transaction per round, in a worker thread so the event loop never waits on
the database; a failed round is logged and retried at the next one.
"""

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

from .service import refresh_due_status_lists

logger = logging.getLogger(__name__)


def refresh_once(state: NodeState, *, now: datetime | None = None) -> list[str]:
    """One round in its own transaction; returns the ids of the lists re-signed."""
    with transaction(state.engine) as session:
        return refresh_due_status_lists(session=session, state=state, now=now or utcnow())


@asynccontextmanager
async def status_refresh(state: NodeState, *, interval: float | None = None) -> AsyncIterator[None]:
    """Re-sign the lists that are due while the context is open; on exit, let a running round
    finish."""
    async with run_periodically(
        partial(refresh_once, state),
        name="status-list-refresh",
        interval=state.settings.status_refresh_seconds if interval is None else interval,
        logger=logger,
        what="re-signing the status lists",
        outcome=lambda ids: f"re-signed status lists {', '.join(ids)}" if ids else None,
        wait_first=True,
    ):
        yield
