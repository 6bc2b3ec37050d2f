"""The global node per backend (as in tests/node/members), with its ingest on the test's
savepoint session, and helpers to make members and sign their reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection
from sqlmodel import Session

from sdgcities.credentials import SigningKey
from sdgcities.federation import REPORT_MEDIA_TYPE, Event, sign_report
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.accounts.models import Role
from sdgcities.node.db import SessionOpener
from sdgcities.node.ingest.routes import get_write_session_opener
from sdgcities.node.ingest.service import IngestRuntime
from sdgcities.node.timeutil import utcnow

from ..conftest import Account, MakeAccount
from ..members.conftest import backend  # noqa: F401 - the global node

__all__ = ["Member", "post_report"]


@pytest.fixture
def client(client: TestClient, connection: Connection) -> TestClient:
    """The node's client, with reports ingested on the test's savepoint session too."""

    @contextmanager
    def savepoint_session() -> Iterator[Session]:
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def opener() -> SessionOpener:
        return savepoint_session

    app: Any = client.app
    # Cleared with the others by the node's `client` fixture.
    app.dependency_overrides[get_write_session_opener] = opener
    # Trust-list sequences repeat across rolled-back tests: a parsed list must not outlive one.
    app.state.ingest = IngestRuntime()
    return client


@pytest.fixture
def secretariat(make_account: MakeAccount) -> Account:
    return make_account(Role.SECRETARIAT)


@dataclass
class Member:
    node_id: str
    key: SigningKey

    @property
    def base_url(self) -> str:
        return f"https://{self.node_id.lower()}.example.org"

    @property
    def did(self) -> str:
        return f"did:web:{self.node_id.lower()}.example.org"

    def report(
        self,
        events: Sequence[Event],
        *,
        after: int | None = None,
        issued_at: datetime | None = None,
        node_id: str | None = None,
        did: str | None = None,
    ) -> str:
        return sign_report(
            events,
            key=self.key,
            node_id=node_id or self.node_id,
            issuer_did=did or self.did,
            # A second ahead: member keys are valid from approval, to the second.
            issued_at=issued_at or utcnow() + timedelta(seconds=1),
            after=after,
        )


MakeMember = Callable[..., Member]


@pytest.fixture
def make_member(client: TestClient, secretariat: Account) -> MakeMember:
    def make(node_id: str = "KE") -> Member:
        member = Member(node_id, SigningKey.generate())
        token = JoinRequest.sign(
            node_id=node_id, base_url=member.base_url, name=f"{node_id} node", key=member.key
        )
        request_id = client.post("/federation/join", json={"token": token}).json()["id"]
        approved = client.post(
            f"/federation/join-requests/{request_id}/approve", headers=secretariat.headers
        )
        assert approved.status_code == 200, approved.text
        return member

    return make


def post_report(client: TestClient, token: str | bytes) -> Response:
    return client.post(
        "/federation/reports", content=token, headers={"Content-Type": REPORT_MEDIA_TYPE}
    )
