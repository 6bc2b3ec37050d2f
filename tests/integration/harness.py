"""Starting real nodes for multi-process tests: what `sdgcities node init` does (in the test's
process) and `node serve` (uvicorn in a process of its own), each node with its own data folder
and SQLite database on a loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from sdgcities.cli.node_init import initialise_node
from sdgcities.credentials import CertificateIssue, Decision, FrameworkRef, SigningKey, StatusEntry
from sdgcities.federation import EventType
from sdgcities.federation.event_data import (
    CityFacts,
    CredentialIssued,
    DecisionRecorded,
    DecisionRef,
    QuorumCounts,
    Votes,
)
from sdgcities.node.config import get_settings
from sdgcities.node.db import make_engine
from sdgcities.node.events.service import append_event
from sdgcities.node.state import NodeState
from sdgcities.node.status.service import allocate_status_entry
from sdgcities.node.verification.service import VerifierCache

from .. import served
from ..conftest import TEST_PASSWORD_HASH_COST
from ..served import Process

SDGCITIES = Path(sys.executable).with_name("sdgcities")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    env["SDGCITIES_DATA_DIR"] = str(data_dir)
    return env


def init_node(
    data_dir: Path, node_id: str, port: int, database_url: str | None = None
) -> dict[str, str]:
    """What `sdgcities node init --json` does and answers (admin token, kid, did, root
    thumbprint ...), on SQLite in the folder unless `database_url`, with the command's defaults.

    Called in this process: a `node init` process of its own spent most of its time importing
    the node (this process has already), and every served node of the tests paid it.
    tests/cli/test_node_setup.py runs the command itself."""
    return initialise_node(
        data_dir=data_dir,
        node_id=node_id,
        name=f"SDG Cities node {node_id}",
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        admin_email="admin@example.org",
        admin_name="Node administrator",
    )


def wait_healthy(url: str, process: Process, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not become healthy: {log.read_text(errors='replace')[-2000:]}")


def stop_process(process: Process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every process a test starts; stopped (SIGTERM, then SIGKILL) when the test ends."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            stop_process(process)


def serve(data_dir: Path, port: int, processes: list[Process], *options: str) -> tuple[str, Path]:
    """Start `sdgcities node serve [options]` and wait until it answers; its URL and log file."""
    log = data_dir / "serve.log"
    process = served.start(
        ["node", "serve", "--data-dir", str(data_dir), "--port", str(port), *options],
        env=node_env(data_dir),
        log=log,
    )
    processes.append(process)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process, log)
    return url, log


@dataclass
class Node:
    """A node of a test federation: its folder, port, `node init` answer and process."""

    node_id: str
    data_dir: Path
    port: int
    init: dict[str, str]
    processes: list[Process]
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.init['admin_token']}"}

    @property
    def database(self) -> Path:
        return self.data_dir / "node.db"

    def add_env(self, **values: Any) -> None:
        with (self.data_dir / "node.env").open("a", encoding="utf-8") as env:
            for name, value in values.items():
                env.write(f"SDGCITIES_{name.upper()}={value}\n")

    def start(self, *options: str) -> None:
        serve(self.data_dir, self.port, self.processes, *options)
        self.process = self.processes[-1]

    def stop(self) -> None:
        assert self.process is not None
        stop_process(self.process)
        self.process = None


def make_node(
    root: Path,
    node_id: str,
    processes: list[Process],
    database_url: str | None = None,
) -> Node:
    port = free_port()
    data_dir = root / node_id.lower()
    init = init_node(data_dir, node_id, port, database_url)
    node = Node(node_id, data_dir, port, init, processes)
    # A test node's passwords are no one's (see TEST_PASSWORD_HASH_COST).
    node.add_env(password_hash_cost=TEST_PASSWORD_HASH_COST)
    return node


def federation(
    root: Path,
    processes: list[Process],
    national_ids: tuple[str, ...],
    **national_env: Any,
) -> tuple[Node, list[Node]]:
    """A running global node and national nodes that joined, were approved and synced."""
    global_node = make_node(root, "global", processes)
    root_jwk = json.loads((global_node.data_dir / "root-key.json").read_text())
    nationals = [make_node(root, node_id, processes) for node_id in national_ids]
    for node in nationals:
        node.add_env(
            root_keys=json.dumps([root_jwk]),
            global_url=global_node.url,
            trust_sync_seconds=3600,
            **national_env,
        )
    global_node.start()
    for node in nationals:
        node.start()
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        for node in nationals:
            approve(http, global_node, node)
        for node in nationals:
            synced = http.post(f"{node.url}/admin/federation/sync", headers=node.admin)
            assert synced.status_code == 200, synced.text
    return global_node, nationals


def national_node(
    root: Path,
    processes: list[Process],
    global_node: Node,
    node_id: str,
    **env: Any,
) -> Node:
    """A national node that joins a running federation later: started, approved and synced."""
    root_jwk = json.loads((global_node.data_dir / "root-key.json").read_text())
    node = make_node(root, node_id, processes)
    node.add_env(
        root_keys=json.dumps([root_jwk]),
        global_url=global_node.url,
        trust_sync_seconds=3600,
        **env,
    )
    node.start()
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        approve(http, global_node, node)
        synced = http.post(f"{node.url}/admin/federation/sync", headers=node.admin)
        assert synced.status_code == 200, synced.text
    return node


def approve(http: httpx.Client, global_node: Node, node: Node) -> None:
    """`node` asks to join and the global node's secretariat approves it."""
    sent = http.post(f"{node.url}/admin/federation/join", json={}, headers=node.admin)
    assert sent.status_code == 202, sent.text
    approved = http.post(
        f"{global_node.url}/federation/join-requests/{sent.json()['request_id']}/approve",
        headers=global_node.admin,
    )
    assert approved.status_code == 200, approved.text


def allocate_status_entries(node: Node, key: SigningKey, count: int = 1) -> list[StatusEntry]:
    """`count` status entries `node` allocates in its own database (so it serves their list),
    signed with `key` when a list is created."""
    settings = get_settings(data_dir=node.data_dir)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with httpx.Client() as client, Session(engine) as session:
            state = NodeState(
                settings=settings,
                engine=engine,
                signing_key=key,
                http=client,
                verifiers=VerifierCache(settings=settings, engine=engine, client=client),
            )
            entries = [
                allocate_status_entry(session=session, state=state).entry for _ in range(count)
            ]
            session.commit()
    finally:
        engine.dispose()
    return entries


def sign_certificate(
    ke: Node,
    key: SigningKey,
    framework: FrameworkRef,
    n: int,
    *,
    status: StatusEntry | None = None,
    issued_at: datetime | None = None,
) -> str:
    """Certificate number `n`, signed with `key` (KE's, or one it held) and dated `issued_at`
    (now by default), with `status` or a status index KE allocates (and serves)."""
    if status is None:
        [status] = allocate_status_entries(ke, key)
    issued_at = issued_at or datetime.now(UTC)
    return CertificateIssue(
        credential_id=certificate_id(n),
        issuer_did=ke.init["did"],
        issuer_name="Kenya",
        locode="KE-NBO",
        city_name="Nairobi",
        country="KE",
        stage="qualification",
        framework=framework,
        decision=Decision("KE national committee", f"2026-{n}", issued_at),
        criteria=("A.a", "A.b", "A.c"),
        valid_from=issued_at,
        valid_until=issued_at + timedelta(days=365),
        status=status,
    ).sign(key, issued_at=issued_at)


def certificate_id(n: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{n:012d}"


def endorsed_framework(http: httpx.Client, global_node: Node, ke: Node) -> FrameworkRef:
    """KE derives and publishes its framework, the global committee endorses it, KE syncs."""
    versions = http.get(f"{ke.url}/frameworks", headers=ke.admin).json()
    baseline = next(v for v in versions["data"] if v["status"] == "published")
    derived = http.post(
        f"{ke.url}/frameworks/{baseline['id']}/derive",
        json={"framework_id": "sdgcities-ke", "version": "1", "title": "SDG Cities: Kenya"},
        headers=ke.admin,
    )
    assert derived.status_code == 201, derived.text
    version_id = derived.json()["id"]
    published = http.post(f"{ke.url}/frameworks/{version_id}/publish", headers=ke.admin)
    assert published.status_code == 200, published.text
    asked = http.post(
        f"{ke.url}/admin/frameworks/{version_id}/request-endorsement", headers=ke.admin
    )
    assert asked.status_code == 202, asked.text
    [item] = global_committee_decides(
        http, global_node.url, global_node.admin, "Global committee: Kenya's framework"
    )
    assert item["kind"] == "endorsement"
    assert item["endorsement_request_id"] == asked.json()["request_id"]
    assert http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin).status_code == 200
    version = published.json()
    return FrameworkRef(version["framework_id"], version["version"], version["digest"])


def global_committee_decides(
    http: httpx.Client, url: str, admin: dict[str, str], title: str, choice: str = "yes"
) -> list[dict[str, Any]]:
    """The node's committee (one civil-society member, enrolled the first time) meets, puts
    everything waiting on the agenda, votes `choice` on each item and decides it."""
    member_id, member = _committee_member(http, url, admin)
    scheduled_for = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    answer = http.post(
        f"{url}/committee/meetings",
        headers=admin,
        json={"title": title, "scheduled_for": scheduled_for},
    )
    assert answer.status_code == 201, answer.text
    meeting = f"{url}/committee/meetings/{answer.json()['id']}"
    attended = http.post(f"{meeting}/attendance", headers=admin, json={"member_id": member_id})
    assert attended.status_code == 201, attended.text
    assert http.post(f"{meeting}/open", headers=admin).status_code == 200
    agenda = http.post(f"{meeting}/agenda/generate", headers=admin)
    assert agenda.status_code == 200, agenda.text
    decided = []
    for item in agenda.json()["added"]:
        item_url = f"{url}/committee/items/{item['id']}"
        voted = http.post(f"{item_url}/votes", headers=member, json={"choice": choice})
        assert voted.status_code == 201, voted.text
        outcome = http.post(f"{item_url}/decide", headers=admin)
        assert outcome.status_code == 200, outcome.text
        decided.append(outcome.json())
    assert http.post(f"{meeting}/close", headers=admin).status_code == 200
    return decided


def _committee_member(
    http: httpx.Client, url: str, admin: dict[str, str]
) -> tuple[int, dict[str, str]]:
    name = "Harness committee member"
    found = http.get(f"{url}/committee/members", headers=admin)
    assert found.status_code == 200, found.text
    known = [m for m in found.json()["data"] if m["name"] == name]
    if known:
        user_id = known[0]["id"]
    else:
        today = date.today()
        created = http.post(
            f"{url}/admin/users",
            headers=admin,
            json={
                "name": name,
                "email": "harness-committee@example.org",
                "role": "committee_member",
                "stakeholder_category": "civil_society",
                "term_start": str(today - timedelta(days=1)),
                "term_end": str(today + timedelta(days=365)),
            },
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
    token = http.post(f"{url}/admin/users/{user_id}/tokens", headers=admin, json={})
    assert token.status_code == 201, token.text
    return user_id, {"Authorization": f"Bearer {token.json()['token']}"}


AWARD_QUORUM = QuorumCounts(
    sitting=3,
    attending=3,
    required=2,
    non_government_attending=2,
    required_non_government=1,
    met=True,
)


def append_award(
    session: Session,
    *,
    node_id: str,
    item: int,
    locode: str,
    credential_id: str,
    token: str,
    city: CityFacts,
    renews: str | None = None,
) -> None:
    """Append to a node's own log what its committee's award writes: the approved decision and
    the `credential.issued` event carrying `token` (its relay signs and reports them), naming
    the certificate it `renews` if any."""
    append_event(
        session=session,
        node_id=node_id,
        type=EventType.DECISION_RECORDED,
        subject={"meeting": 1, "item": item, "locode": locode, "application": item},
        data=DecisionRecorded(
            kind="award",
            outcome="approved",
            quorum=AWARD_QUORUM,
            votes=Votes(yes=3, no=0, abstain=0),
        ),
    )
    append_event(
        session=session,
        node_id=node_id,
        type=EventType.CREDENTIAL_ISSUED,
        subject={"locode": locode, "credential": credential_id},
        data=CredentialIssued(
            id=credential_id,
            decision=DecisionRef(meeting="meeting 1: Q1", item=item),
            jwt=token,
            city=city,
            renews=renews,
        ),
    )
