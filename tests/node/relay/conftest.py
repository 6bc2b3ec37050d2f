"""A global node and a national node (KE) in this process, each on a database of its own, with
the network between them played by an `httpx.MockTransport` that hands each request to the other
node's app: the relay, the pull and the trust-list sync run their real code on both sides.

No app's lifespan runs: the tests drive the relay (`Relay.run_once`) and the pull themselves.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sdgcities.federation import EventType
from sdgcities.federation.event_data import CredentialIssued
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine
from sdgcities.node.events.service import append_event
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.ingest.models import IngestAlarm, IngestedEvent, IngestedLog
from sdgcities.node.members.root_key import root_key_path
from sdgcities.node.membership.tasks import sync_once
from sdgcities.node.relay.service import HttpTransport, Relay
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from ...conftest import BACKENDS, POSTGRES_ADMIN_URL, TemporaryDatabases
from ..conftest import ROOT_KEY

GLOBAL_URL = "https://global.example.org"
KE_URL = "https://ke.example.org"

Unreachable = Callable[[httpx.Request], bool]


@dataclass
class Site:
    """One node: its app, its state, a client for its API and its administrator's headers."""

    app: FastAPI
    client: TestClient
    admin: dict[str, str]

    @property
    def state(self) -> NodeState:
        state: NodeState = self.app.state.node
        return state

    @property
    def engine(self) -> Engine:
        return self.state.engine


@dataclass
class Federation:
    global_node: Site
    ke: Site
    # Every request that crossed the network, in order, and hosts that are down.
    requests: list[httpx.Request] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    sites: dict[str, Site] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # PostgreSQL databases to drop

    def join(self) -> None:
        """KE joins (signed with its key), the global secretariat approves, KE syncs."""
        token = JoinRequest.sign(
            node_id="KE", base_url=KE_URL, name="Kenya", key=self.ke.state.signing_key
        )
        sent = self.global_node.client.post("/federation/join", json={"token": token})
        assert sent.status_code == 202, sent.text
        approved = self.global_node.client.post(
            f"/federation/join-requests/{sent.json()['id']}/approve",
            headers=self.global_node.admin,
        )
        assert approved.status_code == 200, approved.text
        sync_once(self.ke.state)
        # Reports carry their signing time to the second; a key is valid from its approval.
        time.sleep(1.0 - utcnow().microsecond / 1_000_000)

    def relay(self, **options: object) -> Relay:
        return self.relay_of(self.ke, **options)

    def relay_of(self, site: Site, **options: object) -> Relay:
        return Relay(site.state, HttpTransport(site.state), **options)  # type: ignore[arg-type]

    def backup_ke(self) -> Callable[[], Site]:
        """Copy KE's database now; the function returned starts KE again on that copy, as an
        operator restoring an old backup would (same folder, key and settings)."""
        settings = self.ke.state.settings
        url = settings.sqlalchemy_url
        if url.startswith("sqlite"):
            copy = str(settings.data_dir / "backup.db")
            with sqlite3.connect(url.removeprefix("sqlite:///")) as source:
                with sqlite3.connect(copy) as target:
                    source.backup(target)
            copy_url = f"sqlite:///{copy}"
        else:
            import psycopg

            self.ke.engine.dispose()  # a template database must have no other connection
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}_backup" TEMPLATE "{name}"')
            self.created.append(f"{name}_backup")
            copy_url = f"{url}_backup"

        def restore() -> Site:
            restored = settings.model_copy(update={"database_url": copy_url})
            engine = make_engine(copy_url)
            app = create_app(restored, engine=engine)
            site = Site(app, TestClient(app), self.ke.admin)
            self.connect("ke.example.org", site)
            return site

        return restore

    def connect(self, host: str, site: Site) -> None:
        """`site` answers for `host` from now on, and reaches the others through the network."""
        self.sites[host] = site
        site.state.http = httpx.Client(
            transport=httpx.MockTransport(self.network), follow_redirects=False
        )

    def network(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        answer = self.sites[request.url.host].client.request(
            request.method, str(request.url), content=request.read(), headers=request.headers
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def append(self, count: int) -> None:
        """Events in KE's log, as its workflow appends them (each in its own transaction)."""
        for n in range(count):
            with Session(self.ke.engine) as session:
                append_event(
                    session=session,
                    node_id="KE",
                    type=EventType.CREDENTIAL_ISSUED,
                    subject={"locode": "KE-NBO", "credential": f"urn:uuid:{n}"},
                    data=CredentialIssued(id=f"urn:uuid:{n}"),
                )
                session.commit()

    def held(self, node_id: str = "KE") -> list[IngestedEvent]:
        with Session(self.global_node.engine) as session:
            return list(
                session.exec(
                    select(IngestedEvent)
                    .where(IngestedEvent.node_id == node_id)
                    .order_by(col(IngestedEvent.sequence))
                ).all()
            )

    def log(self, node_id: str = "KE") -> IngestedLog | None:
        with Session(self.global_node.engine) as session:
            return session.get(IngestedLog, node_id)

    def alarms(self) -> list[IngestAlarm]:
        with Session(self.global_node.engine) as session:
            return list(session.exec(select(IngestAlarm).order_by(col(IngestAlarm.id))).all())


def _site(databases: TemporaryDatabases, backend: str, data_dir: Path, **settings: object) -> Site:
    config = Settings(
        data_dir=data_dir,
        database_url=databases.create_migrated(backend),
        root_keys=[ROOT_KEY.public_key.to_jwk()],
        relay_interval_seconds=0.05,
        key_passphrase="test-passphrase",  # the development one is for loopback nodes only
        _env_file=None,  # type: ignore[call-arg]
        **settings,  # type: ignore[arg-type]
    )
    if config.is_global:
        ROOT_KEY.save(root_key_path(config, ROOT_KEY.kid), config.key_passphrase.get_secret_value())
    engine = make_engine(config.sqlalchemy_url)
    check_durability(engine)
    with Session(engine) as session:
        create_signing_key(session=session, settings=config)
        user = create_user(
            session=session,
            data=UserCreate(
                name="Administrator", email="admin@example.org", role=Role.ADMINISTRATOR
            ),
            actor=SYSTEM,
        )
        _, token = issue_token(
            session=session, user=user, label="test", lifetime=timedelta(days=1), actor=SYSTEM
        )
        session.commit()
    app = create_app(config, engine=engine)
    return Site(app, TestClient(app), {"Authorization": f"Bearer {token}"})


@pytest.fixture(params=BACKENDS)
def federation(
    request: pytest.FixtureRequest, databases: TemporaryDatabases, tmp_path: Path
) -> Iterator[Federation]:
    backend: str = request.param
    global_node = _site(
        databases, backend, tmp_path / "global", node_id="global", base_url=GLOBAL_URL
    )
    ke = _site(
        databases, backend, tmp_path / "ke", node_id="KE", base_url=KE_URL, global_url=GLOBAL_URL
    )
    federation = Federation(global_node, ke)
    federation.connect("global.example.org", global_node)
    federation.connect("ke.example.org", ke)
    try:
        yield federation
    finally:
        for site in {id(s): s for s in [global_node, ke, *federation.sites.values()]}.values():
            site.state.http.close()
            site.client.close()
            site.engine.dispose()
        if federation.created:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                for name in federation.created:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
