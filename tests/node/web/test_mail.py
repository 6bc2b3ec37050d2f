"""The outbox: mail is stored with the transaction that sends it, and delivered through a real
SMTP server (aiosmtpd, in this process); a server that refuses or is down costs retries, never
a message."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select

from sdgcities.node.db import transaction
from sdgcities.node.mail import MailText, enqueue
from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.mail.tasks import mail_sender, send_due_once
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from ...conftest import TemporaryDatabases
from ..conftest import Backend
from ..fresh_database import fresh_state


class Recorder:
    """An SMTP handler that keeps what it receives, or refuses it with `refusal`."""

    def __init__(self, refusal: str | None = None) -> None:
        self.refusal = refusal
        self.received: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refusal is not None:
            return self.refusal
        with self.lock:
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@pytest.fixture
def state(backend: Backend, databases: TemporaryDatabases) -> Iterator[NodeState]:
    with fresh_state(backend, databases) as fresh:
        yield fresh


def _with_mail(state: NodeState, port: int, **settings: object) -> NodeState:
    changed = state.settings.model_copy(
        update={
            "mail_host": "127.0.0.1",
            "mail_port": port,
            "mail_from": "node@ke.example.org",
            "mail_timeout_seconds": 5.0,
            **settings,
        }
    )
    return dataclasses.replace(state, settings=changed)


# Non-ASCII in the subject and body: the mail must carry them (encoded words, UTF-8 body).
SUBJECT = "Votre compte \u2013 \u8d26\u6237"
BODY = "Bonjour Amina,\n\u0645\u0631\u062d\u0628\u0627\n"


def _enqueue(state: NodeState, to: str = "amina@example.org") -> int:
    with transaction(state.engine) as session:
        message = enqueue(
            session=session,
            to=to,
            text=MailText(subject=SUBJECT, body=BODY),
            now=utcnow(),
        )
        assert message.id is not None
        return message.id


def _row(state: NodeState, message_id: int) -> OutboxMessage:
    with transaction(state.engine, write=False) as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_mail_is_delivered_through_smtp(
    state: NodeState, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, port = smtp_server
    state = _with_mail(state, port)
    message_id = _enqueue(state)
    assert send_due_once(state) == (1, 0)
    [mail] = recorder.received
    assert mail["To"] == "amina@example.org"
    assert mail["From"] == "node@ke.example.org"
    assert mail["Subject"] == SUBJECT
    assert mail.get_content().replace("\r\n", "\n") == BODY
    assert f"outbox.{message_id}" in mail["Message-ID"]
    row = _row(state, message_id)
    assert row.sent_at is not None
    assert row.attempts == 1
    # Sent once: the next round finds nothing due.
    assert send_due_once(state) == (0, 0)
    assert len(recorder.received) == 1


def test_a_refusing_server_costs_a_retry_not_the_message(
    state: NodeState, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, port = smtp_server
    state = _with_mail(state, port, mail_backoff_base_seconds=60.0)
    recorder.refusal = "451 Try again later"
    message_id = _enqueue(state)
    before = utcnow()
    assert send_due_once(state) == (0, 1)
    row = _row(state, message_id)
    assert row.sent_at is None
    assert row.attempts == 1
    assert row.last_error is not None
    assert "451" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=60)
    # Not due yet: nothing is tried.
    assert send_due_once(state) == (0, 0)
    recorder.refusal = None
    with transaction(state.engine) as session:
        due = session.get(OutboxMessage, message_id)
        assert due is not None
        due.next_attempt_at = utcnow()
        session.add(due)
    assert send_due_once(state) == (1, 0)
    row = _row(state, message_id)
    assert row.sent_at is not None
    assert row.attempts == 2
    assert row.last_error is None
    assert len(recorder.received) == 1


def test_a_server_that_is_down_costs_retries_with_growing_waits(state: NodeState) -> None:
    state = _with_mail(state, _free_port(), mail_backoff_base_seconds=10.0)
    message_id = _enqueue(state)
    waits = []
    for _ in range(4):
        with transaction(state.engine) as session:
            due = session.get(OutboxMessage, message_id)
            assert due is not None
            due.next_attempt_at = utcnow()
            session.add(due)
        started = utcnow()
        assert send_due_once(state) == (0, 1)
        row = _row(state, message_id)
        waits.append((row.next_attempt_at - started).total_seconds())
        assert row.last_error is not None
        assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    assert _row(state, message_id).attempts == 4
    assert all(wait >= 10.0 for wait in waits)
    assert _row(state, message_id).sent_at is None


def test_without_a_server_mail_waits_in_the_outbox(state: NodeState) -> None:
    message_id = _enqueue(state)
    assert send_due_once(state) == (0, 1)
    assert "SDGCITIES_MAIL_HOST" in (_row(state, message_id).last_error or "")


def test_a_mail_in_a_transaction_that_rolls_back_is_never_sent(
    state: NodeState, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, port = smtp_server
    state = _with_mail(state, port)

    def failing_request() -> None:
        with transaction(state.engine) as session:
            enqueue(
                session=session,
                to="x@example.org",
                text=MailText(subject="s", body="b"),
                now=utcnow(),
            )
            raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert send_due_once(state) == (0, 0)
    assert recorder.received == []


def test_the_sender_task_delivers_while_the_node_runs(
    state: NodeState, smtp_server: tuple[Recorder, int]
) -> None:
    recorder, port = smtp_server
    state = _with_mail(state, port, mail_interval_seconds=0.05)
    _enqueue(state, "first@example.org")

    async def run() -> None:
        async with mail_sender(state):
            deadline = time.monotonic() + 10
            while len(recorder.received) < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            _enqueue(state, "second@example.org")
            while len(recorder.received) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    asyncio.run(run())
    assert sorted(mail["To"] for mail in recorder.received) == [
        "first@example.org",
        "second@example.org",
    ]


def test_a_message_is_claimed_by_one_sender_only(state: NodeState) -> None:
    from sdgcities.node.mail.service import claim

    message_id = _enqueue(state)
    with transaction(state.engine) as session:
        first = claim(session=session, message_id=message_id, now=utcnow(), settings=state.settings)
    with transaction(state.engine) as session:
        second = claim(
            session=session, message_id=message_id, now=utcnow(), settings=state.settings
        )
    assert first is not None
    assert second is None


def test_the_outbox_in_the_request_transaction(session: Session) -> None:
    enqueue(session=session, to="y@example.org", text=MailText(subject="s", body="b"), now=utcnow())
    found = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.recipient) == "y@example.org")
    )
    assert len(found.all()) == 1
