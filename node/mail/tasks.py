"""The background task that sends the outbox's due mail.

Each message is first claimed (its next attempt moved past the SMTP timeout, in a short
transaction, so another server process leaves it alone and no database lock is held while the
SMTP server answers), then sent, then the attempt recorded. A crash after sending costs at most
one duplicate mail, never a lost one. The SMTP calls block, so a round runs in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from sdgcities.node.db import transaction
from sdgcities.node.periodic import run_periodically
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .service import MailNotSent, claim, compose, due_messages, record_attempt, send_smtp

logger = logging.getLogger(__name__)


def send_due_once(state: NodeState) -> tuple[int, int]:
    """One round: (sent, failed)."""
    settings = state.settings
    with transaction(state.engine, write=False) as session:
        due = [message.id for message in due_messages(session=session, now=utcnow())]
    sent = failed = 0
    for message_id in due:
        assert message_id is not None
        with transaction(state.engine) as session:
            message = claim(session=session, message_id=message_id, now=utcnow(), settings=settings)
        if message is None:
            continue
        try:
            send_smtp(compose(message, settings), settings)
        except MailNotSent as exc:
            error: str | None = str(exc)
            failed += 1
        else:
            error = None
            sent += 1
        with transaction(state.engine) as session:
            record_attempt(message=message, error=error, now=utcnow(), settings=settings)
            session.add(message)
    return sent, failed


@asynccontextmanager
async def mail_sender(state: NodeState) -> AsyncIterator[None]:
    """Send the outbox's mail while the context is open (it waits when no server is set)."""
    if state.settings.mail_host is None:
        yield
        return
    async with run_periodically(
        partial(send_due_once, state),
        name="mail-sender",
        interval=state.settings.mail_interval_seconds,
        logger=logger,
        what="the mail round",
        outcome=lambda counts: (
            f"mail: {counts[0]} sent, {counts[1]} to retry" if any(counts) else None
        ),
    ):
        yield
