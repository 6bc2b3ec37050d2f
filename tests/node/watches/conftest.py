"""A node of its own (a fresh database, its duties running) with a real SMTP server and a real
HTTP receiver on loopback, for the watch journeys."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sdgcities.credentials import (
    Decision,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    TrustedNode,
    TrustList,
)
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.certificates.models import Certificate, ProposalKind
from sdgcities.node.certificates.service import change_status
from sdgcities.node.config import Settings
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.watches.models import Watch, WatchDelivery

from ...conftest import TemporaryDatabases
from ..conftest import ROOT_DID, ROOT_KEY, Backend
from ..framework_versions import make_framework_version
from ..registry.factories import Registrar
from ..web.test_mail import Recorder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    path: str
    content_type: str
    body: bytes


@dataclass
class Receiver:
    """An investor's webhook endpoint: keeps every POST, answers with `statuses` in turn
    (then 200)."""

    port: int
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/sdgcities"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(min(length, 1 << 20))
            with found.lock:
                found.received.append(
                    Received(self.path, self.headers.get("Content-Type", ""), body)
                )
                status = found.statuses.pop(0) if found.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", found.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def smtp() -> Iterator[Recorder]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.port = controller.port  # type: ignore[attr-defined]
    try:
        yield recorder
    finally:
        controller.stop()


@dataclass
class WatchedNode:
    """The node, and the test's own short transactions on its database (a long-lived session
    would hold SQLite's snapshot while the node's duties write)."""

    app: FastAPI
    settings: Settings
    engine: Engine
    framework_id: int
    smtp: Recorder

    def registrar(self, session: Session) -> Registrar:
        return Registrar(session=session, state=self.state, framework_id=self.framework_id)

    def issue(self, locode: str) -> Certificate:
        with transaction(self.engine) as session:
            return self.registrar(session).issue(locode)

    def decide(self, certificate_id: str, kind: ProposalKind) -> None:
        with transaction(self.engine) as session:
            certificate = session.get(Certificate, certificate_id)
            assert certificate is not None
            change_status(
                session=session,
                state=self.state,
                certificate=certificate,
                kind=kind,
                reason="spot-check",
                decision=Decision("Kenya national committee", "meeting 9", utcnow()),
                agenda_item_id=certificate.agenda_item_id,
                actor=SYSTEM,
            )

    def deliveries(self) -> list[WatchDelivery]:
        with transaction(self.engine, write=False) as session:
            return list(
                session.exec(select(WatchDelivery).order_by(col(WatchDelivery.created_at))).all()
            )

    def watch(self, watch_id: int) -> Watch:
        with transaction(self.engine, write=False) as session:
            found = session.get(Watch, watch_id)
            assert found is not None
            return found

    @property
    def state(self) -> NodeState:
        state: NodeState = self.app.state.node
        return state

    def trust_list(self) -> TrustList:
        """This node on a trust list signed by the test root key (what an investor accepts)."""
        now = datetime.now(UTC)
        node = TrustedNode(
            id=self.settings.node_id,
            did=self.settings.did,
            name=self.settings.node_name,
            base_url=self.settings.base_url,
            status=NodeStatus.ACTIVE,
            status_since=now - timedelta(days=30),
            keys=(
                KeyPeriod(
                    self.state.signing_key.public_key, KeyStatus.ACTIVE, now - timedelta(days=30)
                ),
            ),
        )
        signed = TrustList(
            issuer=ROOT_DID,
            sequence=1,
            issued_at=now,
            next_update=now + timedelta(days=1),
            nodes=(node,),
        ).sign(ROOT_KEY)
        return TrustList.from_jws(signed, pinned_thumbprints=[ROOT_KEY.public_key.kid])

    def mails_to(self, address: str) -> list[EmailMessage]:
        with self.smtp.lock:
            return [mail for mail in self.smtp.received if mail["To"] == address]


def wait_for(check: Callable[[], bool], *, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def link_in(mail: EmailMessage, path: str) -> str:
    body = mail.get_content()
    found = re.search(rf"{re.escape(path)}\?token=([A-Za-z0-9_\-]+)", body)
    assert found is not None, body
    return found.group(1)


@pytest.fixture
def watched_node(
    backend: Backend, databases: TemporaryDatabases, smtp: Recorder
) -> Iterator[WatchedNode]:
    engine = make_engine(databases.create_migrated(backend.name))
    settings = backend.settings.model_copy(
        update={
            "mail_host": "127.0.0.1",
            "mail_port": smtp.port,  # type: ignore[attr-defined]
            "mail_from": "node@ke.example.org",
            "mail_interval_seconds": 0.05,
            "mail_timeout_seconds": 5.0,
            "watch_interval_seconds": 0.05,
            "webhook_timeout_seconds": 5.0,
            "webhook_backoff_base_seconds": 0.1,
            "webhook_backoff_max_seconds": 0.2,
            "webhook_max_attempts": 3,
            "webhook_allow_http": True,
            "webhook_allow_private_addresses": True,
        }
    )
    with transaction(engine) as session:
        create_signing_key(session=session, settings=settings)
        framework = make_framework_version(session=session, settings=settings, root_key=ROOT_KEY)
        assert framework.id is not None
        framework_id = framework.id
    app = create_app(settings, engine=engine)
    node = WatchedNode(app, settings, engine, framework_id, smtp)
    with transaction(engine) as session:
        node.registrar(session).city("KE-NBO", "Nairobi")
        node.registrar(session).city("KE-MBA", "Mombasa")
    try:
        yield node
    finally:
        engine.dispose()
