"""The background task that fetches the trust list from the global node every few minutes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
from sdgcities.node.state import NodeState

from .service import sync_trust_list

logger = logging.getLogger(__name__)


def sync_once(state: NodeState) -> int:
    """One sync in its own transaction; the sequence now held."""
    with transaction(state.engine) as session:
        copy, _stored = sync_trust_list(session=session, state=state)
    return copy.sequence


@asynccontextmanager
async def trust_list_sync(state: NodeState) -> AsyncIterator[None]:
    """On a national node with a global URL, sync while the context is open."""
    if state.settings.is_global or state.settings.global_url is None:
        yield
        return
    async with run_periodically(
        partial(sync_once, state),
        name="trust-sync",
        interval=state.settings.trust_sync_seconds,
        logger=logger,
        what="trust-list sync",
        expected_failures=True,
    ):
        yield
