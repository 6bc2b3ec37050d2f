"""The background task that writes each node's data-quality report when it is due."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
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


@asynccontextmanager
async def quality_reports(state: NodeState) -> AsyncIterator[None]:
    """On the global node, write the data-quality reports while the context is open."""
    if not state.settings.is_global:
        yield
        return
    async with run_periodically(
        partial(record_quality_once, state),
        name="quality",
        interval=min(QUALITY_CHECK_SECONDS, state.settings.monitoring_quality_seconds),
        logger=logger,
        what="the data-quality reports",
        outcome=lambda written: f"wrote {written} data-quality report(s)" if written else None,
        wait_first=True,
    ):
        yield
