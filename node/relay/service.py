"""Sending the event log to the global node in signed reports, with receipts.

The event log is the transactional outbox: a user's transaction only appends its event
(`node.events.service.append_event`). The relay, in a background thread, reads the events after
the last acknowledged one, signs them as a `federation-report+jwt` and delivers them; it stores
the global node's signed receipt (`relay_receipt`) only after the answer, so what was not
acknowledged is sent again, and the global node's idempotent ingest adds nothing twice.

A national node delivers over HTTP (`HttpTransport`: only to the global URL or a base URL on
the trust list, no redirects, bodies capped); the global node hands its own reports to its
ingest in-process (`LocalTransport`), so its events reach the same federation store.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from sqlmodel import Session, func, select

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import NodeStatus, TrustList
from sdgcities.federation import (
    MAX_REPORT_BYTES,
    MAX_REPORT_EVENTS,
    REPORT_MEDIA_TYPE,
    FederationError,
    fit_report,
    sign_report,
)
from sdgcities.federation.ingest import Receipt
from sdgcities.node.config import GLOBAL_NODE_ID
from sdgcities.node.db import SessionOpener, session_opener
from sdgcities.node.errors import NodeError
from sdgcities.node.events.service import list_events, log_head
from sdgcities.node.membership.client import allowed_base_urls, exchange
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from .models import RelayReceipt

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS: Final = 3600.0
"""The longest `Retry-After` honoured: a misconfigured global node must not silence a node."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """The global node's answer to one report."""

    status: int
    receipt: str | None = None
    detail: str = ""
    retry_after: float | None = None
    missing_first: int | None = None


class Transport(Protocol):
    # Whether the relay sends heartbeats through it: pointless for the global node's own log,
    # whose store lives in the same database.
    heartbeats: bool

    def deliver(self, token: str) -> Delivery: ...


class HttpTransport:
    """POST the report to `{global_url}/federation/reports` (national nodes)."""

    heartbeats = True

    def __init__(self, state: NodeState) -> None:
        self._state = state

    def deliver(self, token: str) -> Delivery:
        settings = self._state.settings
        assert settings.global_url is not None
        allowed = allowed_base_urls(global_url=settings.global_url, trust_list=None)
        answer = exchange(
            self._state.http,
            method="POST",
            url=f"{settings.global_url}/federation/reports",
            allowed=allowed,
            content=token.encode("ascii"),
            headers={"Content-Type": REPORT_MEDIA_TYPE, "Accept": "application/json"},
            max_request_bytes=MAX_REPORT_BYTES,
        )
        try:
            body = json.loads(answer.body) if answer.body else {}
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        missing = body.get("missing")
        return Delivery(
            status=answer.status,
            receipt=body.get("receipt") if answer.status == 200 else None,
            detail=str(body.get("detail", ""))[:500],
            retry_after=parse_retry_after(answer.headers.get("retry-after"), now=utcnow()),
            missing_first=missing.get("first") if isinstance(missing, dict) else None,
        )


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), capped."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = (moment - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass(frozen=True, slots=True)
class Round:
    """What one relay round did: events acknowledged, and why it stopped if it did not finish.

    `not_member` says this node cannot report yet (it is not on its trust list, or its key's
    validity has not begun): nothing failed, so there is nothing to back off from; the relay
    waits for the next trust list (`RelayWake`) or for `retry_after`.
    """

    acknowledged: int
    failure: str | None = None
    retry_after: float | None = None
    not_member: bool = False


class Relay:
    """Reads the outbox and delivers it; one instance per node, used from one thread."""

    def __init__(
        self,
        state: NodeState,
        transport: Transport,
        *,
        clock: Callable[[], float] = time.monotonic,
        read_session: SessionOpener | None = None,
        write_session: SessionOpener | None = None,
    ) -> None:
        self._state = state
        self._transport = transport
        self._clock = clock
        self._read_session = read_session or session_opener(state.engine, write=False)
        self._write_session = write_session or session_opener(state.engine)
        # After a 409 gap the global node holds less than our receipts say (it was restored
        # from a backup): send from where it stands, without rewriting our receipts.
        self._resend_after: int | None = None
        # When the global node last acknowledged a report or a heartbeat (`clock` time).
        self._last_acknowledged: float | None = None

    def run_once(self) -> Round:
        """Send every pending event, report after report, until none is left or one fails.

        With nothing to send, a signed empty report ("nothing after my head") goes out every
        `relay_heartbeat_seconds` (and once at start): the global node sees the node is alive,
        and a node whose log went back (restored from an old backup) says so at once.
        """
        acknowledged = 0
        while True:
            with self._read_session() as session:
                after = self._resend_after
                if after is None:
                    after = acknowledged_sequence(session=session)
                events = list_events(session=session, after=after, limit=MAX_REPORT_EVENTS)
                if not events and not self._heartbeat_due():
                    return Round(acknowledged)
                if not events:
                    after = min(after, log_head(session=session).sequence)
                trust_list = _trust_list(session, self._state)
            now = utcnow()
            waiting = self._not_member_yet(trust_list, now, acknowledged)
            if waiting is not None:
                return waiting
            assert trust_list is not None
            settings = self._state.settings
            token = sign_report(
                fit_report(events),
                key=self._state.signing_key,
                node_id=settings.node_id,
                issuer_did=settings.did,
                issued_at=now,
                after=after,
            )
            try:
                delivery = self._transport.deliver(token)
            except (NodeError, CredentialsError) as exc:
                return Round(acknowledged, failure=str(exc))
            if delivery.status == 409 and delivery.missing_first is not None:
                self._resend_after = delivery.missing_first - 1
                continue
            if delivery.status != 200 or delivery.receipt is None:
                return Round(
                    acknowledged,
                    failure=f"the global node answered {delivery.status}: {delivery.detail}",
                    retry_after=delivery.retry_after if delivery.status in (429, 503) else None,
                )
            try:
                receipt = self._check_receipt(delivery.receipt, token, trust_list)
            except FederationError as exc:
                return Round(acknowledged, failure=f"receipt refused: {exc}")
            self._last_acknowledged = self._clock()
            if not events:
                # A heartbeat's receipt proves nothing new was delivered: not kept.
                return Round(acknowledged)
            with self._write_session() as session:
                store_receipt(session=session, receipt=receipt)
            self._resend_after = None
            acknowledged += receipt.last - receipt.first + 1

    def _heartbeat_due(self) -> bool:
        if not self._transport.heartbeats:
            return False
        if self._last_acknowledged is None:
            return True
        elapsed = self._clock() - self._last_acknowledged
        return elapsed >= self._state.settings.relay_heartbeat_seconds

    def _not_member_yet(
        self, trust_list: TrustList | None, now: datetime, acknowledged: int
    ) -> Round | None:
        """A round that waits, if the trust list does not (yet, or any more) let this node
        report now."""
        node = None if trust_list is None else trust_list.node(self._state.settings.node_id)
        if node is None:
            return Round(acknowledged, "this node is not on the trust list yet", not_member=True)
        if node.status is NodeStatus.WITHDRAWN:
            return Round(
                acknowledged, "this node is withdrawn from the federation", not_member=True
            )
        # Reports carry their signing time to the second, and a key is valid from its approval:
        # a report signed in the second the node was approved would be refused. (A key not on
        # this copy yet, just rotated, is the global node's to judge.)
        assert trust_list is not None
        found = trust_list.key(self._state.signing_key.kid)
        signed_at = now.replace(microsecond=0)
        if found is not None and signed_at < found[1].valid_from:
            return Round(
                acknowledged,
                "this node's key is valid from its approval; waiting for it",
                retry_after=(found[1].valid_from - signed_at).total_seconds(),
                not_member=True,
            )
        return None

    def _check_receipt(self, token: str, report: str, trust_list: TrustList) -> Receipt:
        receipt = Receipt.verify(token, trust_list=trust_list, global_node_id=GLOBAL_NODE_ID)
        if not receipt.acknowledges(report) or receipt.node_id != self._state.settings.node_id:
            raise FederationError("the receipt is for another report")
        if receipt.head.sequence < receipt.last:
            raise FederationError(
                f"the receipt holds the log only to {receipt.head.sequence}, not to {receipt.last}"
            )
        return receipt


def acknowledged_sequence(*, session: Session) -> int:
    """The last event the global node acknowledged (0: none yet)."""
    return session.exec(select(func.coalesce(func.max(RelayReceipt.last), 0))).one()


def store_receipt(*, session: Session, receipt: Receipt) -> RelayReceipt:
    row = RelayReceipt(
        first=receipt.first,
        last=receipt.last,
        added=receipt.added,
        head_sequence=receipt.head.sequence,
        head_hash=receipt.head.hash,
        report_sha256=receipt.report,
        receipt=receipt.token,
    )
    session.add(row)
    session.flush()
    return row


def backoff_delay(failures: int, *, base: float, cap: float) -> float:
    """Exponential back-off with full jitter (AWS's "Exponential Backoff and Jitter")."""
    return random.uniform(0, min(cap, base * 2 ** min(failures, 32)))  # noqa: S311 - not a secret


def _trust_list(session: Session, state: NodeState) -> TrustList | None:
    try:
        return load_current(session=session, settings=state.settings)
    except CredentialsError:
        return None
