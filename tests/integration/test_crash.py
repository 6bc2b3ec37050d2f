"""The node killed (SIGKILL) again and again while its committee issues and revokes.

A real node runs as `sdgcities node serve` (uvicorn in that process, so the PID we hold is the
server's). The test prepares cities, reviewers, a committee, an endorsed framework and
recommended applications through the API; then, round after round, it starts the node, fires a
burst of decisions (awards, suspensions and revocations of earlier certificates) from client
threads, kills the node at a random moment of the burst, and checks the database directly:
a decision is there with all its effects (certificate, events, status bits) or not at all.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sdgcities.credentials import (
    REVOKED_BIT,
    STATUS_SIZE,
    SUSPENDED_BIT,
    VC_JWT_TYP,
    Endorsement,
    FrameworkRef,
    JwsToken,
    PublicKey,
    SigningKey,
    StatusBitstring,
    StatusList,
)
from sdgcities.credentials.verify import MAX_STATUS_LIST_BYTES
from sdgcities.federation import GENESIS, verify_chain
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.certificates.models import Certificate
from sdgcities.node.committee.models import AgendaItem, ItemKind, ItemOutcome
from sdgcities.node.db import make_engine
from sdgcities.node.events.models import EventLogHead, EventRecord
from sdgcities.node.status.models import StatusListRecord

from .. import served
from ..conftest import TemporaryDatabases
from ..served import ServedProcess
from .harness import wait_healthy

pytestmark = pytest.mark.slow

ROOT_KEY = SigningKey.generate()
ROOT_DID = "did:web:global.example.org"
ROUNDS = 5
AWARDS_PER_ROUND = 2
CITIES = [f"KE-{letter * 3}" for letter in "ABCDEFGHJKLMNPRSTUVW"[: ROUNDS * AWARDS_PER_ROUND]]
CRITERIA = ("A.a", "A.b", "A.c")
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
CHANGE_EVENTS = {
    ItemKind.SUSPENSION: "credential.suspended",
    ItemKind.REVOCATION: "credential.revoked",
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# The node process -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class NodeProcess:
    data_dir: Path
    port: int
    database_url: str
    process: ServedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'node.db').resolve()}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
        env["SDGCITIES_DATA_DIR"] = str(self.data_dir)
        env["SDGCITIES_ROOT_KEYS"] = json.dumps([ROOT_KEY.public_key.to_jwk()])
        if self.database_url:
            env["SDGCITIES_DATABASE_URL"] = self.database_url
        return env

    def init(self) -> str:
        """`sdgcities node init --json`; the first administrator's token."""
        done = served.run(
            ["node", "init", "--data-dir", str(self.data_dir), "--base-url", self.url, "--json"],
            env=self.env(),
            folder=self.data_dir.parent / "init",
        )
        assert done.returncode == 0, done.stderr
        token: str = json.loads(done.stdout)["admin_token"]
        return token

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        log = self.data_dir / "serve.log"
        self.process = served.start(
            ["node", "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=self.env(),
            log=log,
        )
        wait_healthy(self.url, self.process, log)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no rollback."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def node(
    request: pytest.FixtureRequest, tmp_path: Path, databases: TemporaryDatabases
) -> Iterator[NodeProcess]:
    database_url = "" if request.param == "sqlite" else databases.create("postgresql")
    started = NodeProcess(tmp_path / "node", _free_port(), database_url)
    try:
        yield started
    finally:
        started.kill()


# Preparing through the API ----------------------------------------------------------------------


@dataclass
class Desk:
    """The node's people, by token, and what the test has asked of the node so far."""

    client: httpx.Client
    admin: dict[str, str]
    secretariat: dict[str, str] = field(default_factory=dict)
    reviewers: list[int] = field(default_factory=list)
    reviewer_headers: list[dict[str, str]] = field(default_factory=list)
    members: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    framework_id: int = 0
    node_key: PublicKey | None = None
    # Certificates a suspension or revocation was proposed for.
    proposed: set[str] = field(default_factory=set)

    def enrol(self, role: str, email: str, **fields: Any) -> tuple[int, dict[str, str]]:
        body = {"name": email, "email": email, "role": role, **fields}
        user = ok(self.client.post("/admin/users", headers=self.admin, json=body), 201)
        token = ok(
            self.client.post(f"/admin/users/{user['id']}/tokens", headers=self.admin, json={}),
            201,
        )
        return user["id"], {"Authorization": f"Bearer {token['token']}"}


def staff(desk: Desk) -> None:
    client = desk.client
    today = date.today()
    term = {"term_start": str(today - timedelta(days=9)), "term_end": str(today + timedelta(9))}
    _, desk.secretariat = desk.enrol("secretariat", "secretariat@example.org")
    for n in range(2):
        user_id, headers = desk.enrol("reviewer", f"reviewer{n}@example.org")
        desk.reviewers.append(user_id)
        desk.reviewer_headers.append(headers)
    for category in ("government", "civil_society", "academia"):
        desk.members.append(
            desk.enrol(
                "committee_member",
                f"{category}@example.org",
                stakeholder_category=category,
                **term,
            )
        )
    baseline = ok(client.get("/frameworks", params={"framework_id": "sdgcities-baseline"}))
    body = {"framework_id": "sdgcities-ke", "version": "1", "title": "Kenya framework"}
    draft = ok(
        client.post(
            f"/frameworks/{baseline['data'][0]['id']}/derive", headers=desk.admin, json=body
        ),
        201,
    )
    published = ok(client.post(f"/frameworks/{draft['id']}/publish", headers=desk.admin))
    endorsement = Endorsement.sign(
        framework=FrameworkRef("sdgcities-ke", "1", published["digest"]),
        node_id="KE",
        root_key=ROOT_KEY,
        issuer_did=ROOT_DID,
        endorsed_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    ok(
        client.put(
            f"/frameworks/{draft['id']}/endorsement",
            headers=desk.admin,
            json={"jws": endorsement.token},
        )
    )
    desk.framework_id = draft["id"]
    (method,) = ok(client.get("/.well-known/did.json"))["verificationMethod"]
    desk.node_key = PublicKey.from_jwk(method["publicKeyJwk"])


def recommended_application(desk: Desk, locode: str) -> int:
    """A city registered, its applicant's qualification application submitted, reviewed by two
    reviewers and recommended: all through the API."""
    client = desk.client
    ok(client.post("/cities", headers=desk.admin, json={"locode": locode, "name": locode}), 201)
    _, city = desk.enrol("city_applicant", f"{locode.lower()}@example.org", city_locode=locode)
    body = {"stage": "qualification", "framework_version_id": desk.framework_id}
    application_id = ok(client.post("/applications", headers=city, json=body), 201)["id"]
    base = f"/applications/{application_id}"
    for code in CRITERIA:
        ok(client.put(f"{base}/criteria/{code}", headers=city, json={"narrative": f"On {code}."}))
    evidence = ok(
        client.post(
            f"{base}/criteria/A.a/evidence",
            params={"filename": "plan.pdf"},
            headers={**city, "Content-Type": "application/octet-stream"},
            content=PDF,
        ),
        201,
    )["id"]
    ok(client.post(f"{base}/submit", headers=city))
    assignment = {"reviewer_ids": desk.reviewers, "lead_id": desk.reviewers[0]}
    ok(client.post(f"{base}/reviewers", headers=desk.admin, json=assignment), 201)
    for reviewer in desk.reviewer_headers:
        for code in CRITERIA:
            assessment = {
                "verdict": "met",
                "reasons": f"{code} is met on the plan (evidence {evidence}).",
                "evidence_ids": [evidence] if code == "A.a" else [],
            }
            ok(client.put(f"{base}/review/assessments/{code}", headers=reviewer, json=assessment))
        ok(client.post(f"{base}/review/submit", headers=reviewer))
    consolidation = {"recommendation": "recommended", "summary": "All met.", "verdicts": []}
    ok(
        client.post(
            f"{base}/review/consolidate", headers=desk.reviewer_headers[0], json=consolidation
        )
    )
    return int(application_id)


def put_to_the_committee(desk: Desk, certificates: list[Certificate]) -> list[int]:
    """Proposals on earlier certificates, a meeting with its agenda, every member's yes vote:
    the ids of the items ready to be decided."""
    client = desk.client
    active = [c for c in certificates if c.status == "active" and c.id not in desk.proposed]
    for certificate, kind in zip(active, ("suspension", "revocation"), strict=False):
        body = {"kind": kind, "reason": "the spot-check found the plan unfunded"}
        ok(
            client.post(
                f"/certificates/{certificate.id}/proposals", headers=desk.secretariat, json=body
            ),
            201,
        )
        desk.proposed.add(certificate.id)
    scheduled_for = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    meeting = ok(
        client.post(
            "/committee/meetings",
            headers=desk.secretariat,
            json={"title": "Crash round", "scheduled_for": scheduled_for},
        ),
        201,
    )["id"]
    for member_id, _ in desk.members:
        ok(
            client.post(
                f"/committee/meetings/{meeting}/attendance",
                headers=desk.secretariat,
                json={"member_id": member_id},
            ),
            201,
        )
    ok(client.post(f"/committee/meetings/{meeting}/open", headers=desk.secretariat))
    added = ok(
        client.post(f"/committee/meetings/{meeting}/agenda/generate", headers=desk.secretariat)
    )["added"]
    for item in added:
        for _, member in desk.members:
            ok(
                client.post(
                    f"/committee/items/{item['id']}/votes", headers=member, json={"choice": "yes"}
                ),
                201,
            )
    return [item["id"] for item in added]


# The burst and the kill -------------------------------------------------------------------------


@dataclass
class Burst:
    """Decisions fired at the node from two client threads; what each one was answered.

    `reached` is set when the `kill_at`-th request is about to be sent, so the kill lands
    within the burst."""

    url: str
    headers: dict[str, str]
    items: list[int]
    kill_at: int
    answers: dict[int, int | str] = field(default_factory=dict)
    reached: threading.Event = field(default_factory=threading.Event)
    _sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        threads = [
            threading.Thread(target=self._decide, args=(self.items[n::2],), daemon=True)
            for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.reached.set()

    def _decide(self, items: list[int]) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for item_id in items:
                with self._lock:
                    self._sent += 1
                    if self._sent > self.kill_at:
                        self.reached.set()
                try:
                    response = client.post(
                        f"/committee/items/{item_id}/decide", headers=self.headers
                    )
                    self.answers[item_id] = response.status_code
                except httpx.HTTPError as exc:  # the node died under the request
                    self.answers[item_id] = type(exc).__name__


def burst_and_kill(node: NodeProcess, desk: Desk, items: list[int], rng: random.Random) -> Burst:
    """Fire the decisions and SIGKILL the node while the `kill_at`-th one is on its way or
    being carried out (a random request, then a random few milliseconds)."""
    burst = Burst(node.url, desk.secretariat, items, kill_at=rng.randrange(len(items)))
    runner = threading.Thread(target=burst.run, daemon=True)
    runner.start()
    assert burst.reached.wait(timeout=120)
    done = threading.Event()  # never set: a bounded random pause, not a condition
    done.wait(timeout=rng.uniform(0.0, 0.08))
    node.kill()
    runner.join(timeout=120)
    assert not runner.is_alive()
    return burst


# The invariants, read from the database ---------------------------------------------------------


@contextmanager
def database(node: NodeProcess) -> Iterator[Session]:
    engine: Engine = make_engine(node.sqlalchemy_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def status_bits(session: Session, key: PublicKey) -> dict[str, StatusBitstring]:
    """Each stored list's bits as its signed token says, after checking they match the column."""
    lists: dict[str, StatusBitstring] = {}
    for record in session.exec(select(StatusListRecord)).all():
        payload = JwsToken.parse(record.token, typ=VC_JWT_TYP, max_bytes=MAX_STATUS_LIST_BYTES)
        signed = StatusList.from_payload(payload.verify(key)).bits
        assert signed.to_bytes() == record.bits, f"{record.list_id}: token and bits disagree"
        lists[record.list_id] = signed
    return lists


def check_invariants(node: NodeProcess, desk: Desk) -> list[Certificate]:
    """Every decision with all its effects or none; returns the certificates."""
    assert desk.node_key is not None
    with database(node) as session:
        items = {item.id: item for item in session.exec(select(AgendaItem)).all()}
        certificates = list(session.exec(select(Certificate)).all())
        by_item = Counter(c.agenda_item_id for c in certificates)
        by_id = {c.id: c for c in certificates}
        records = list(session.exec(select(EventRecord).order_by(col(EventRecord.sequence))).all())
        events = [record.to_event() for record in records]
        head = session.exec(select(EventLogHead)).one()
        applications = {a.id: a for a in session.exec(select(Application)).all()}
        bits = status_bits(session, desk.node_key)

    # The log is one unbroken hash chain, and its head row names its last event.
    assert verify_chain(events, after=GENESIS) == (head.sequence, head.hash)
    decisions = Counter(e.subject["item"] for e in events if e.type == "decision.recorded")
    credential_events = [e for e in events if e.type.startswith("credential.")]
    changes = Counter((e.type, e.data["decision"]["item"]) for e in credential_events)

    # No event lacks its decision, nor its certificate.
    for item_id in decisions:
        assert items[item_id].outcome in (ItemOutcome.APPROVED, ItemOutcome.REJECTED)
    for event in credential_events:
        assert items[event.data["decision"]["item"]].outcome is ItemOutcome.APPROVED, event
        assert event.subject["credential"] in by_id, event

    set_bits: dict[tuple[str, int], int] = {}
    for item in items.values():
        decided = item.outcome in (ItemOutcome.APPROVED, ItemOutcome.REJECTED)
        assert decisions[item.id] == (1 if decided else 0), f"item {item.id}: {item.outcome}"
        if item.kind is ItemKind.AWARD:
            application = applications[item.application_id]
            if item.outcome is ItemOutcome.APPROVED:
                assert by_item[item.id] == 1, f"award item {item.id} without one certificate"
                assert changes[("credential.issued", item.id)] == 1
                assert application.state is ApplicationState.AWARDED
            else:
                assert by_item[item.id] == 0, f"certificate for undecided item {item.id}"
                assert changes[("credential.issued", item.id)] == 0
                assert application.state is ApplicationState.RECOMMENDED
        elif item.outcome is ItemOutcome.APPROVED:
            certificate = by_id[item.certificate_id]
            assert changes[(CHANGE_EVENTS[item.kind], item.id)] == 1, f"item {item.id}"
            entry = (certificate.status_list_id, certificate.status_index)
            bit = REVOKED_BIT if item.kind is ItemKind.REVOCATION else SUSPENDED_BIT
            value = bits[entry[0]].get_entry(entry[1], status_size=STATUS_SIZE)
            assert value & bit, f"item {item.id}: bit not set"
            set_bits[entry] = set_bits.get(entry, 0) | bit
        else:
            assert not any(key[1] == item.id for key in changes), f"item {item.id}"

    # No bit set without its decision, no index handed out twice.
    for certificate in certificates:
        entry = (certificate.status_list_id, certificate.status_index)
        value = bits[entry[0]].get_entry(entry[1], status_size=STATUS_SIZE)
        assert value == set_bits.get(entry, 0), entry
    entries = Counter((c.status_list_id, c.status_index) for c in certificates)
    assert max(entries.values(), default=1) == 1, entries
    return certificates


# The test ---------------------------------------------------------------------------------------


def test_every_decision_survives_a_kill_whole_or_not_at_all(node: NodeProcess) -> None:
    seed = random.randrange(2**32)
    print(f"crash test seed: {seed}")  # to replay a failing run's kill moments
    rng = random.Random(seed)
    admin_token = node.init()
    node.start()
    with httpx.Client(base_url=node.url, timeout=30) as client:
        desk = Desk(client, {"Authorization": f"Bearer {admin_token}"})
        staff(desk)

    certificates: list[Certificate] = []
    pending: list[int] = []
    acknowledged: set[int] = set()
    for round_ in range(ROUNDS):
        if node.process is None or node.process.poll() is not None:
            node.start()
        with httpx.Client(base_url=node.url, timeout=30) as client:
            desk.client = client
            for locode in CITIES[round_ * AWARDS_PER_ROUND :][:AWARDS_PER_ROUND]:
                recommended_application(desk, locode)
            # Items the last kill left undecided go into this burst again, with the new ones.
            pending += put_to_the_committee(desk, certificates)
        burst = burst_and_kill(node, desk, pending, rng)
        print(f"round {round_}: {len(pending)} items, answers {sorted(burst.answers.items())}")
        acknowledged |= {item for item, answer in burst.answers.items() if answer == 200}
        certificates = check_invariants(node, desk)
        with database(node) as session:
            decided = {
                item.id
                for item in session.exec(select(AgendaItem)).all()
                if item.outcome is not ItemOutcome.PENDING
            }
        # What the node acknowledged, it kept.
        assert acknowledged <= decided
        pending = [item for item in pending if item not in decided]

    # After the last kill the node starts again and finishes what was left.
    node.start()
    with httpx.Client(base_url=node.url, timeout=30) as client:
        for item_id in pending:
            ok(client.post(f"/committee/items/{item_id}/decide", headers=desk.secretariat))
    node.kill()
    certificates = check_invariants(node, desk)
    assert len({c.application_id for c in certificates}) == len(CITIES)
