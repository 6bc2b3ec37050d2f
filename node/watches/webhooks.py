"""Sending the webhook notices that are due, with retries and back-off.

Each delivery is claimed first (its next attempt moved past the timeout, in a short transaction,
as the mail sender claims a message), then POSTed, then the attempt recorded. The body is the
signed notice, `Content-Type: application/sdgcities-notice+jwt`; any 2xx answer delivers it.
Redirects are not followed (a 3xx is a failure: the receiver registers its real URL), answers
are read to at most `MAX_ANSWER_BYTES`, and after `webhook_max_attempts` the notice is given up
and its watch marked failing. A crash after the POST costs at most one repeat, with the same
`jti`, never a lost notice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

import httpx
from sqlmodel import Session, col, select, update

from sdgcities.credentials import NOTICE_MEDIA_TYPE
from sdgcities.node.config import Settings
from sdgcities.node.db import transaction
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.outbound import tls_context
from sdgcities.node.relay.service import backoff_delay
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import Watch, WatchChannel, WatchDelivery
from .service import check_webhook_url

logger = logging.getLogger(__name__)

MAX_BATCH: Final = 50
MAX_ANSWER_BYTES: Final = 16 * 1024
"""What is read of a receiver's answer (for the error it records): the rest is dropped."""


def due_deliveries(*, session: Session, now: datetime, limit: int = MAX_BATCH) -> list[str]:
    return list(
        session.exec(
            select(WatchDelivery.id)
            .where(
                col(WatchDelivery.channel) == WatchChannel.WEBHOOK,
                col(WatchDelivery.delivered_at).is_(None),
                col(WatchDelivery.given_up_at).is_(None),
                col(WatchDelivery.next_attempt_at) <= now,
            )
            .order_by(col(WatchDelivery.next_attempt_at), col(WatchDelivery.id))
            .limit(limit)
        ).all()
    )


def claim(
    *, session: Session, delivery_id: str, now: datetime, settings: Settings
) -> tuple[WatchDelivery, Watch] | None:
    """The delivery and its watch if still due, leased for one attempt (None: taken or done)."""
    lease = timedelta(seconds=2 * settings.webhook_timeout_seconds)
    claimed = session.exec(
        update(WatchDelivery)
        .where(
            col(WatchDelivery.id) == delivery_id,
            col(WatchDelivery.delivered_at).is_(None),
            col(WatchDelivery.given_up_at).is_(None),
            col(WatchDelivery.next_attempt_at) <= now,
        )
        .values(next_attempt_at=now + lease)
    )
    if claimed.rowcount != 1:
        return None
    delivery = session.get(WatchDelivery, delivery_id)
    assert delivery is not None
    session.refresh(delivery)
    watch = session.get(Watch, delivery.watch_id)
    assert watch is not None
    return delivery, watch


def post_notice(client: httpx.Client, url: str, token: str, settings: Settings) -> str | None:
    """One attempt: None when the receiver took it, else why not."""
    try:
        check_webhook_url(url, settings)
    except InvalidRequest as exc:
        return exc.message
    try:
        with client.stream(
            "POST",
            url,
            content=token.encode("ascii"),
            headers={"Content-Type": NOTICE_MEDIA_TYPE, "Accept": "*/*"},
        ) as answer:
            read = b""
            for chunk in answer.iter_bytes():
                read += chunk
                if len(read) >= MAX_ANSWER_BYTES:
                    break
            if answer.is_success:
                return None
            text = read[:200].decode("utf-8", "replace")
            return f"HTTP {answer.status_code}: {text}".strip()
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


def record_attempt(
    *,
    session: Session,
    delivery: WatchDelivery,
    watch: Watch,
    error: str | None,
    now: datetime,
    settings: Settings,
) -> None:
    delivery.attempts += 1
    if error is None:
        delivery.delivered_at, delivery.last_error = now, None
        if watch.failing_since is not None:
            watch.failing_since = None
            session.add(watch)
    else:
        delivery.last_error = error[:1000]
        if delivery.attempts >= settings.webhook_max_attempts:
            delivery.given_up_at = now
            if watch.failing_since is None:
                watch.failing_since = now
                session.add(watch)
        else:
            delay = backoff_delay(
                delivery.attempts - 1,
                base=settings.webhook_backoff_base_seconds,
                cap=settings.webhook_backoff_max_seconds,
            )
            # At least the base: full jitter alone could retry at once.
            delivery.next_attempt_at = now + timedelta(
                seconds=max(settings.webhook_backoff_base_seconds, delay)
            )
    session.add(delivery)


def deliver_due_once(state: NodeState, client: httpx.Client) -> tuple[int, int]:
    """One round: (delivered, failed)."""
    settings = state.settings
    with transaction(state.engine, write=False) as session:
        due = due_deliveries(session=session, now=utcnow())
    delivered = failed = 0
    for delivery_id in due:
        with transaction(state.engine) as session:
            claimed = claim(
                session=session, delivery_id=delivery_id, now=utcnow(), settings=settings
            )
        if claimed is None:
            continue
        delivery, watch = claimed
        if watch.cancelled_at is not None or watch.webhook_url is None or delivery.token is None:
            error: str | None = "the watch was cancelled"
            with transaction(state.engine) as session:
                delivery.given_up_at = utcnow()
                delivery.last_error = error
                session.add(delivery)
            continue
        error = post_notice(client, watch.webhook_url, delivery.token, settings)
        if error is None:
            delivered += 1
        else:
            failed += 1
            logger.info("webhook notice %s not delivered: %s", delivery.id, error)
        with transaction(state.engine) as session:
            record_attempt(
                session=session,
                delivery=delivery,
                watch=watch,
                error=error,
                now=utcnow(),
                settings=settings,
            )
    return delivered, failed


def webhook_client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        verify=tls_context(),
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,  # a proxy from the environment would be a way around the address check
    )
