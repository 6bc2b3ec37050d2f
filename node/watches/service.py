"""Watches: creating, confirming and cancelling them, and turning events into deliveries.

- **Confirmation first.** A new watch mails its owner a one-time link (256 random bits, stored as
  SHA-256, expiring, spent by a conditional update as `accounts.links` spends its links); nothing
  is sent to a watch before that. One email address and one client address may hold at most
  `watch_max_unconfirmed` unconfirmed watches, so the form cannot be used to mail strangers.
- **Fan-out** (`fan_out_once`, a leader duty) reads the event log after a stored cursor and
  creates one `WatchDelivery` per (watch, credential event); the unique pair makes that exactly
  once even if two processes fan out at once, and the cursor moves in the same transaction.
  Email notices go to the mail outbox in that transaction; webhook notices are signed then and
  wait in `watch_delivery` for `webhooks.deliver_due_once`.
- **Webhook URLs** are https (http only with `webhook_allow_http`), at most 2,000 characters,
  without credentials, and must resolve only to global addresses unless
  `webhook_allow_private_addresses`: a node that POSTs wherever anyone asks would otherwise be a
  way into its own network (server-side request forgery). Checked when the watch is made and
  again before each attempt (a name may since point elsewhere).
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote, urlsplit

from sqlmodel import Session, col, func, select, update

from sdgcities.credentials import Algorithm, NoticeEvent, is_country_code, sign_notice
from sdgcities.federation import Event, EventType
from sdgcities.node.accounts.tokens import hash_token
from sdgcities.node.certificates.models import Certificate
from sdgcities.node.cities.models import City
from sdgcities.node.config import GLOBAL_NODE_ID, Settings
from sdgcities.node.db import transaction
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.events.service import list_events, log_head
from sdgcities.node.mail import enqueue
from sdgcities.node.state import NodeState
from sdgcities.node.web.i18n import BY_CODE
from sdgcities.node.web.watch_mails import confirmation_mail, notice_mail

from .models import (
    MAX_WEBHOOK_URL_CHARS,
    Watch,
    WatchChannel,
    WatchCursor,
    WatchDelivery,
    WatchTarget,
)

CURSOR_ROW_ID: Final = 1
FAN_OUT_BATCH: Final = 200
MAX_SECRET_CHARS: Final = 64
NOTICE_EVENTS: Final = frozenset(
    {
        EventType.CREDENTIAL_ISSUED,
        EventType.CREDENTIAL_SUSPENDED,
        EventType.CREDENTIAL_REINSTATED,
        EventType.CREDENTIAL_REVOKED,
    }
)
_STATUS_AFTER: Final = {
    EventType.CREDENTIAL_ISSUED: "active",
    EventType.CREDENTIAL_SUSPENDED: "suspended",
    EventType.CREDENTIAL_REINSTATED: "active",
    EventType.CREDENTIAL_REVOKED: "revoked",
}


class LinkUnusable(NotFound):
    """Unknown, expired or already used: one answer for all three."""

    def __init__(self) -> None:
        super().__init__("this link is unknown, expired or already used")


@dataclass(frozen=True, slots=True)
class WatchRequest:
    email: str
    language: str
    target_kind: WatchTarget
    target: str
    channel: WatchChannel
    webhook_url: str | None = None


# Links -------------------------------------------------------------------------------------------


def confirm_url(settings: Settings, language: str, secret: str) -> str:
    return f"{settings.base_url}/{language}/watch/confirm?token={secret}"


def cancel_url(settings: Settings, watch: Watch) -> str:
    return f"{settings.base_url}/{watch.language}/watch/cancel?token={watch.cancel_secret}"


def certificate_url(settings: Settings, language: str, credential_id: str) -> str:
    return f"{settings.base_url}/{language}/certificates/{quote(credential_id, safe=':')}"


# Webhook addresses -------------------------------------------------------------------------------


def check_webhook_url(url: str, settings: Settings) -> str:
    """The URL if the node may POST to it (see the module docstring); else `InvalidRequest`."""
    if len(url) > MAX_WEBHOOK_URL_CHARS:
        raise InvalidRequest(f"a webhook URL has at most {MAX_WEBHOOK_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequest(f"the webhook URL cannot be read: {exc}") from exc
    allowed = ("https", "http") if settings.webhook_allow_http else ("https",)
    if parts.scheme not in allowed:
        raise InvalidRequest("a webhook URL must begin with https://")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("a webhook URL must not carry a user name or password")
    if not parts.hostname:
        raise InvalidRequest("a webhook URL needs a host name")
    if parts.fragment:
        raise InvalidRequest("a webhook URL has no fragment (#...)")
    if not settings.webhook_allow_private_addresses:
        for address in _resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80)):
            if not address.is_global or address.is_multicast:
                raise InvalidRequest(
                    f"the webhook host {parts.hostname} resolves to {address}, which is not a "
                    "public address: this node sends notices only to the public internet"
                )
    return url


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidRequest(f"the webhook host {host[:100]} cannot be resolved") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


# Creating, confirming, cancelling ---------------------------------------------------------------


def check_target(session: Session, settings: Settings, kind: WatchTarget, target: str) -> str:
    """The target, normalised, if this node reports on it; else `NotFound`/`InvalidRequest`."""
    target = target.strip()
    if kind is WatchTarget.CITY:
        target = target.upper()
        if session.get(City, target) is None:
            raise NotFound(f"no city {target[:16]!r} is registered on this node")
    elif kind is WatchTarget.COUNTRY:
        target = target.upper()
        if not is_country_code(target):
            raise InvalidRequest(f"{target[:8]!r} is not an ISO 3166-1 alpha-2 country code")
        if settings.node_id not in (GLOBAL_NODE_ID, target):
            raise InvalidRequest(
                f"this node certifies cities of {settings.node_id} only: watch {target} on the "
                "national node of that country"
            )
    elif session.get(Certificate, target) is None:
        raise NotFound(f"no certificate {target[:80]!r} was issued by this node")
    return target


def create_watch(
    *,
    session: Session,
    settings: Settings,
    request: WatchRequest,
    client: str,
    now: datetime,
) -> Watch:
    """Stores an unconfirmed watch and mails its owner the confirmation link."""
    if request.language not in BY_CODE:
        raise InvalidRequest(f"language must be one of {', '.join(BY_CODE)}")
    target = check_target(session, settings, request.target_kind, request.target)
    webhook_url = None
    if request.channel is WatchChannel.WEBHOOK:
        if not request.webhook_url:
            raise InvalidRequest("a webhook watch needs its webhook URL")
        webhook_url = check_webhook_url(request.webhook_url.strip(), settings)
    email = request.email.strip().lower()
    _check_unconfirmed(session, settings, email=email, client=client, now=now)
    secret = secrets.token_urlsafe(32)
    watch = Watch(
        email=email,
        language=request.language,
        target_kind=request.target_kind,
        target=target,
        channel=request.channel,
        webhook_url=webhook_url,
        client=client[:64],
        created_at=now,
        confirmation_hash=hash_token(secret),
        confirmation_expires_at=now + timedelta(hours=settings.watch_confirmation_hours),
        cancel_secret=secrets.token_urlsafe(32),
    )
    session.add(watch)
    session.flush()
    enqueue(
        session=session,
        to=email,
        text=confirmation_mail(
            request.language,
            node=settings.node_name,
            what=_described(watch),
            channel=watch.channel.value,
            hours=settings.watch_confirmation_hours,
            link=confirm_url(settings, request.language, secret),
            cancel=cancel_url(settings, watch),
        ),
        now=now,
    )
    return watch


def _check_unconfirmed(
    session: Session, settings: Settings, *, email: str, client: str, now: datetime
) -> None:
    waiting = (
        col(Watch.confirmed_at).is_(None),
        col(Watch.cancelled_at).is_(None),
        col(Watch.confirmation_expires_at) > now,
    )
    limit = settings.watch_max_unconfirmed
    by_email = session.exec(
        select(func.count()).select_from(Watch).where(*waiting, col(Watch.email) == email)
    ).one()
    by_client = session.exec(
        select(func.count()).select_from(Watch).where(*waiting, col(Watch.client) == client)
    ).one()
    if by_email >= limit or by_client >= limit:
        raise Conflict(
            f"at most {limit} watches may wait for confirmation at once: confirm those already "
            "mailed, or wait until their links expire"
        )


def confirm_watch(*, session: Session, secret: str, now: datetime) -> Watch:
    """Spends the confirmation link: the watch receives notices of events from now on."""
    if not 0 < len(secret) <= MAX_SECRET_CHARS:
        raise LinkUnusable()
    watch = session.exec(select(Watch).where(Watch.confirmation_hash == hash_token(secret))).first()
    if watch is None or watch.cancelled_at is not None:
        raise LinkUnusable()
    # Conditional: of two posts of one link at once, only one confirms.
    spent = session.exec(
        update(Watch)
        .where(
            col(Watch.id) == watch.id,
            col(Watch.confirmed_at).is_(None),
            col(Watch.confirmation_expires_at) > now,
        )
        .values(confirmed_at=now, from_sequence=log_head(session=session).sequence)
    )
    if spent.rowcount != 1:
        raise LinkUnusable()
    session.refresh(watch)
    return watch


def watch_by_cancel_secret(*, session: Session, secret: str) -> Watch:
    if not 0 < len(secret) <= MAX_SECRET_CHARS:
        raise LinkUnusable()
    watch = session.exec(select(Watch).where(Watch.cancel_secret == secret)).first()
    if watch is None:
        raise LinkUnusable()
    return watch


def cancel_watch(*, session: Session, secret: str, now: datetime) -> Watch:
    """Cancels the watch (again is no error: the link stays a way to check)."""
    watch = watch_by_cancel_secret(session=session, secret=secret)
    if watch.cancelled_at is None:
        watch.cancelled_at = now
        session.add(watch)
        # What waits for a retry is not sent either.
        session.exec(
            update(WatchDelivery)
            .where(
                col(WatchDelivery.watch_id) == watch.id,
                col(WatchDelivery.delivered_at).is_(None),
                col(WatchDelivery.given_up_at).is_(None),
            )
            .values(given_up_at=now, last_error="the watch was cancelled")
        )
        session.flush()
    return watch


def _described(watch: Watch) -> str:
    return f"{watch.target_kind.value} {watch.target}"


# Fan-out -----------------------------------------------------------------------------------------


def events_waiting(state: NodeState) -> bool:
    """Whether the log has events past the cursor: read first, so that an idle node never
    takes the write lock (on SQLite one writer at a time)."""
    with transaction(state.engine, write=False) as session:
        cursor = session.exec(
            select(WatchCursor.sequence).where(WatchCursor.id == CURSOR_ROW_ID)
        ).one()
        return log_head(session=session).sequence > cursor


def fan_out_once(state: NodeState, *, session: Session, now: datetime) -> tuple[int, int]:
    """Reads the events after the cursor (one batch) and creates their deliveries:
    (events read, deliveries created).

    The caller's transaction holds the cursor row's lock until it commits the deliveries and
    the cursor's move together.
    """
    cursor = session.exec(
        select(WatchCursor).where(WatchCursor.id == CURSOR_ROW_ID).with_for_update()
    ).one()
    events = list_events(session=session, after=cursor.sequence, limit=FAN_OUT_BATCH)
    if not events:
        return 0, 0
    created = 0
    for event in events:
        if event.type in NOTICE_EVENTS:
            created += _deliveries_for(state, session, event, now)
    cursor.sequence = events[-1].sequence
    session.add(cursor)
    session.flush()
    return len(events), created


def _deliveries_for(state: NodeState, session: Session, event: Event, now: datetime) -> int:
    credential_id = str(event.subject.get("credential", ""))
    locode = str(event.subject.get("locode", ""))
    country = locode[:2]
    targets = (
        (col(Watch.target_kind) == WatchTarget.CITY) & (col(Watch.target) == locode)
        | (col(Watch.target_kind) == WatchTarget.COUNTRY) & (col(Watch.target) == country)
        | (col(Watch.target_kind) == WatchTarget.CERTIFICATE) & (col(Watch.target) == credential_id)
    )
    watches = session.exec(
        select(Watch).where(
            col(Watch.confirmed_at).is_not(None),
            col(Watch.cancelled_at).is_(None),
            col(Watch.from_sequence) < event.sequence,
            targets,
        )
    ).all()
    notice = NoticeEvent(
        type=event.type.value,
        sequence=event.sequence,
        credential=credential_id,
        locode=locode,
        country=country,
        stage=_fact(event.data, "stage"),
        level=_fact(event.data, "level"),
        status=_STATUS_AFTER[event.type],
    )
    created = 0
    for watch in watches:
        assert watch.id is not None
        exists = session.exec(
            select(WatchDelivery.id).where(
                WatchDelivery.watch_id == watch.id, WatchDelivery.event_sequence == event.sequence
            )
        ).first()
        if exists is not None:
            continue
        session.add(_delivery(state, session, watch, notice, now))
        created += 1
    session.flush()
    return created


def _delivery(
    state: NodeState, session: Session, watch: Watch, event: NoticeEvent, now: datetime
) -> WatchDelivery:
    assert watch.id is not None
    settings = state.settings
    delivery = WatchDelivery(
        id=str(uuid.uuid4()),
        watch_id=watch.id,
        event_sequence=event.sequence,
        channel=watch.channel,
        created_at=now,
        next_attempt_at=now,
    )
    page = certificate_url(settings, watch.language, event.credential)
    if watch.channel is WatchChannel.EMAIL:
        enqueue(
            session=session,
            to=watch.email,
            text=notice_mail(
                watch.language,
                node=settings.node_name,
                what=_described(watch),
                event=event.type,
                city=event.locode,
                stage=event.stage,
                level=event.level,
                certificate=page,
                cancel=cancel_url(settings, watch),
            ),
            now=now,
        )
        delivery.delivered_at = now
    elif state.signing_key.algorithm is not Algorithm.EDDSA:
        # Notices are EdDSA only (receivers pin it); a node with an ES256 key gives them up
        # rather than stop the fan-out, which email notices share.
        delivery.given_up_at = now
        delivery.last_error = "this node's signing key is not EdDSA: webhook notices need one"
        watch.failing_since = watch.failing_since or now
        session.add(watch)
    else:
        delivery.token = sign_notice(
            key=state.signing_key,
            node_id=settings.node_id,
            node_did=settings.did,
            issued_at=now,
            delivery_id=delivery.id,
            watch_id=watch.id,
            event=event,
            certificate_url=page,
            cancel_url=cancel_url(settings, watch),
        )
    return delivery


def _fact(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) and value else "-"
