"""Global ingest throughput: 200 member nodes pushing signed reports over HTTP.

Starts a global node (`sdgcities node init` + `node serve`, uvicorn in its own process) on a
temporary PostgreSQL database ($SDGCITIES_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/postgres; dropped after), makes 200 members through the
real join/approve API (each with its own Ed25519 key), then runs rounds: every member signs its
next `--events` events as reports of `--batch` events (signing is not timed), and the reports
are POSTed to `/federation/reports` from `--concurrency` client threads, each member's reports
in order. A round's figure is the events stored (acknowledged by a receipt) per second of wall
time.

Each member's log is what its workflow writes (`SimulatedNode`): applications submitted,
reviewed and reported on, then at a committee meeting an approved award decision (a quorum and
votes that meet the default rule) and the certificate, a `vc+jwt` signed with the member's key
and carrying the city's public facts, a suspension with its decision at every second meeting,
and `meeting.held`. So the global registry's projection does its real work: after the rounds
the bench checks, in the global node's database, that every certificate and suspension sent is
held and that no anomaly was found, and prints what the registry holds.

    .venv/bin/python bench/ingest.py [--nodes 200] [--events 200] [--batch 100] [--rounds 3]

Then the registry lag: a real national node (`node serve` on SQLite, default relay settings)
joins, and `--lag-samples` times an approved award decision and its signed certificate are
appended to its log (as its committee's decision does); the lag is from that commit until the
global node's `GET /registry/cities` lists the city.

The global node ingests in `--ingest-processes` worker processes (`SDGCITIES_INGEST_PROCESSES`,
default one per core). The baseline, measured first in the same run, is one round against a
second global node (its own database and 200 members) that ingests in its server's process
(`--no-baseline` skips it).

The floor, measured after the rounds in the same database (`floor_rate`): the rows the rounds
stored (each report's `received_report` row and its `ingested_event` rows) written again by plain
inserts, one transaction per report from as many connections as ingest processes, with no
verification, chain or projection: what the ingest could approach if its checks cost nothing.

Prints the baseline, per round the events/s and the median request time, the registry's
contents, the floor, the median registry lag, the ratio of the rounds' median to the baseline,
`ingest/floor ratio`, then, as its last line, `ingest events/s: X`, the median over the rounds.
The target is X >= 12,000 on a quiet two-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine

from sdgcities.credentials import (
    STAGE_LEVELS,
    CertificateIssue,
    Decision,
    FrameworkRef,
    SigningKey,
    StatusEntry,
    did_web_from_base_url,
)
from sdgcities.credentials.canonical import content_digest
from sdgcities.federation import REPORT_MEDIA_TYPE, Event, EventType, sign_report
from sdgcities.federation.event_data import (
    ApplicationChanged,
    CityFacts,
    CredentialIssued,
    CredentialStatusChanged,
    DecisionRecorded,
    DecisionRef,
    EventData,
    FrameworkKey,
    MeetingHeld,
    ReportGenerated,
    ReviewCompleted,
    Votes,
)
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.certificates.service import validity_end
from sdgcities.node.committee.quorum import QuorumCount, QuorumRule
from sdgcities.node.config import get_settings
from sdgcities.node.countries import ISO_3166_ALPHA2
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.events.service import append_event
from sdgcities.node.frameworks.baseline import load_baseline
from sdgcities.node.frameworks.document import Stage
from sdgcities.node.identity.service import load_active_key

POSTGRES_URL = os.environ.get(
    "SDGCITIES_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SDGCITIES = Path(sys.executable).with_name("sdgcities")


BASELINE = load_baseline()
FRAMEWORK = FrameworkRef(BASELINE.id, BASELINE.version, BASELINE.digest)
FRAMEWORK_KEY = FrameworkKey(id=BASELINE.id, version=BASELINE.version, digest=BASELINE.digest)
# A committee of 7 with 5 attending, 2 of them from outside government: the default rule
# (`quorum_min_fraction` 0.5, `quorum_min_non_government` 1) is met.
RULE = QuorumRule(min_fraction=0.5, min_non_government=1)
QUORUM = QuorumCount(
    sitting=7,
    attending=5,
    required=RULE.required(7),
    non_government_attending=2,
    required_non_government=RULE.min_non_government,
)
VOTES = Votes(yes=4, no=0, abstain=1)
QUORUM_COUNTS = QUORUM.to_event()
CITIES_PER_NODE = 40
APPLICATIONS_PER_MEETING = 6
SUSPENSION_EVERY = 2  # meetings: one certificate suspended at every second meeting
_LOCODE_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"
PRIORITIES = ("Housing", "Clean water", "Transport", "Green spaces", "Waste", "Jobs")


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Issued:
    credential_id: str
    locode: str
    stage: str
    valid_from: datetime
    valid_until: datetime


@dataclass
class SimulatedNode:
    """A member node's log as its workflow writes it (the events' shapes are the node's own:
    `applications`, `review`, `reports`, `committee` and `certificates` services).

    Per meeting, `APPLICATIONS_PER_MEETING` applications are submitted, reviewed and reported
    on, then each gets an approved award decision and its certificate, a real `vc+jwt` signed
    with the node's key; every `SUSPENSION_EVERY` meetings the committee also suspends one
    earlier certificate; the meeting closes with `meeting.held`.
    """

    node_id: str
    key: SigningKey
    events: list[Event] = field(default_factory=list)
    planned: deque[tuple[EventType, dict[str, str | int], EventData]] = field(default_factory=deque)
    applications: int = 0
    items: int = 0
    meetings: int = 0
    status_index: int = 0
    certified: dict[str, int] = field(default_factory=dict)  # locode: stages certified
    issued: list[Issued] = field(default_factory=list)
    suspended: set[str] = field(default_factory=set)  # locodes

    @property
    def base_url(self) -> str:
        return f"https://{self.node_id.lower()}.bench.example.org"

    @property
    def did(self) -> str:
        return did_web_from_base_url(self.base_url)

    @property
    def name(self) -> str:
        return f"{self.node_id} bench node"

    def next_reports(self, count: int, batch: int) -> list[str]:
        now = datetime.now(UTC).replace(microsecond=0)
        while len(self.planned) < count:
            self._plan_meeting(now)
        fresh: list[Event] = []
        previous = self.events[-1] if self.events else None
        for _ in range(count):
            type_, subject, data = self.planned.popleft()
            previous = Event.create(
                previous,
                node_id=self.node_id,
                type=type_,
                occurred_at=now,
                subject=subject,
                data=data.to_data(),
            )
            fresh.append(previous)
        self.events += fresh
        return [
            sign_report(
                fresh[i : i + batch],
                key=self.key,
                node_id=self.node_id,
                issuer_did=self.did,
                issued_at=datetime.now(UTC),
            )
            for i in range(0, len(fresh), batch)
        ]

    def _city(self, number: int) -> str:
        first, rest = divmod(number, len(_LOCODE_LETTERS) ** 2)
        second, third = divmod(rest, len(_LOCODE_LETTERS))
        letters = (_LOCODE_LETTERS[first], _LOCODE_LETTERS[second], _LOCODE_LETTERS[third])
        return f"{self.node_id}-{''.join(letters)}"

    def _plan(self, type_: EventType, subject: dict[str, str | int], data: EventData) -> None:
        self.planned.append((type_, subject, data))

    def _plan_meeting(self, now: datetime) -> None:
        self.meetings += 1
        meeting = self.meetings
        title = f"meeting {meeting}: {self.name} committee"
        applications = []
        for _ in range(APPLICATIONS_PER_MEETING):
            city = self._city(self.applications % CITIES_PER_NODE)
            self.applications += 1
            if city in self.suspended:
                continue  # no next stage while the city's certificate is suspended
            # The city's next stage; past the last, a renewal of it.
            stage = BASELINE.stages[min(self.certified.get(city, 0), len(BASELINE.stages) - 1)]
            applications.append((self.applications, city, stage))
            self._apply(self.applications, city, stage)
        decision = Decision(f"{self.name} committee", title, now)
        for application, city, stage in applications:
            self._award(meeting, application, city, stage, decision)
        decided = len(applications)
        if meeting % SUSPENSION_EVERY == 0:
            decided += self._suspend(meeting, decision)
        outcomes = dict.fromkeys(("pending", "approved", "rejected", "deferred"), 0)
        self._plan(
            EventType.MEETING_HELD,
            {"meeting": meeting},
            MeetingHeld(
                title=title,
                opened_at=_moment(now),
                closed_at=_moment(now),
                attending=QUORUM.attending,
                items=decided,
                outcomes=outcomes | {"approved": decided},
            ),
        )

    def _apply(self, application: int, city: str, stage: Stage) -> None:
        subject: dict[str, str | int] = {"locode": city, "application": application}
        self._plan(EventType.APPLICATION_SUBMITTED, subject, ApplicationChanged(stage=stage.key))
        met, gaps = stage.codes[:-1], stage.codes[-1:]
        self._plan(
            EventType.REVIEW_COMPLETED,
            subject,
            ReviewCompleted(
                stage=stage.key,
                level=STAGE_LEVELS[stage.key],
                framework=FRAMEWORK_KEY,
                recommendation="recommended",
                verdicts={"met": len(met), "partly_met": len(gaps), "not_met": 0},
                reviewers=2,
            ),
        )
        document = {"application": application, "stage": stage.key, "gaps": list(gaps)}
        self._plan(
            EventType.REPORT_GENERATED,
            subject,
            ReportGenerated(
                stage=stage.key,
                version=1,
                digest=content_digest(document),
                recommendation="recommended",
                gaps=tuple(gaps),
            ),
        )

    def _award(
        self, meeting: int, application: int, city: str, stage: Stage, decision: Decision
    ) -> None:
        self.items += 1
        self._plan(
            EventType.DECISION_RECORDED,
            {"meeting": meeting, "item": self.items, "locode": city, "application": application},
            DecisionRecorded(
                kind="award",
                outcome="approved",
                quorum=QUORUM_COUNTS,
                votes=VOTES,
                stage=stage.key,
            ),
        )
        valid_from = decision.decided_at
        valid_until = validity_end(
            valid_from, years=stage.validity_years, framework_until=BASELINE.valid_until
        )
        self.status_index += 1
        lists = f"{self.base_url}/status"
        issue = CertificateIssue(
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issuer_did=self.did,
            issuer_name=self.name,
            locode=city,
            city_name=f"Bench city {city}",
            country=self.node_id,
            stage=stage.key,
            framework=FRAMEWORK,
            decision=decision,
            criteria=stage.codes,
            valid_from=valid_from,
            valid_until=valid_until,
            status=StatusEntry(f"{lists}/1", self.status_index),
        )
        certificate = Issued(issue.credential_id, city, stage.key, valid_from, valid_until)
        number = self.applications % len(PRIORITIES)
        self._plan(
            EventType.CREDENTIAL_ISSUED,
            {"locode": city, "credential": issue.credential_id},
            CredentialIssued(
                **self._public_facts(certificate),
                decision=DecisionRef(meeting=decision.meeting, item=self.items),
                jwt=issue.sign(self.key, issued_at=decision.decided_at),
                city=CityFacts(
                    region=f"Region {city[-1]}",
                    population=50_000 + 1_000 * self.applications,
                    priorities=PRIORITIES[number : number + 2],
                ),
            ),
        )
        self.issued.append(certificate)
        self.certified[city] = self.certified.get(city, 0) + 1

    def _suspend(self, meeting: int, decision: Decision) -> int:
        """Suspend the oldest certificate of a city not suspended yet (0: none left)."""
        certificate = next((c for c in self.issued if c.locode not in self.suspended), None)
        if certificate is None:
            return 0
        self.items += 1
        reason = "spot-check: the reported indicators could not be reproduced"
        subject: dict[str, str | int] = {
            "locode": certificate.locode,
            "credential": certificate.credential_id,
        }
        self._plan(
            EventType.DECISION_RECORDED,
            {"meeting": meeting, "item": self.items, **subject},
            DecisionRecorded(
                kind="suspension",
                outcome="approved",
                quorum=QUORUM_COUNTS,
                votes=VOTES,
                reason=reason,
            ),
        )
        self._plan(
            EventType.CREDENTIAL_SUSPENDED,
            subject,
            CredentialStatusChanged(
                **self._public_facts(certificate),
                status="suspended",
                reason=reason,
                decision=DecisionRef(meeting=decision.meeting, item=self.items),
            ),
        )
        self.suspended.add(certificate.locode)
        return 1

    @staticmethod
    def _public_facts(certificate: Issued) -> dict[str, Any]:
        return {
            "id": certificate.credential_id,
            "stage": certificate.stage,
            "level": STAGE_LEVELS[certificate.stage],
            "framework": FRAMEWORK_KEY,
            "valid_from": _moment(certificate.valid_from),
            "valid_until": _moment(certificate.valid_until),
        }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_global(
    data_dir: Path, database_url: str, ingest_processes: int
) -> tuple[subprocess.Popen[bytes], str, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    env |= {
        "SDGCITIES_DATA_DIR": str(data_dir),
        "SDGCITIES_DATABASE_URL": database_url,
        "SDGCITIES_INGEST_PROCESSES": str(ingest_processes),
        # 200 members join from one address: past the default 30 joins an hour.
        "SDGCITIES_RATE_LIMIT_JOIN_PER_HOUR": "0",
    }
    init = subprocess.run(
        [str(SDGCITIES), "node", "init", "--data-dir", str(data_dir), "--node-id", "global",
         "--base-url", f"http://127.0.0.1:{port}", "--json"],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    admin_token = json.loads(init.stdout)["admin_token"]
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(SDGCITIES), "node", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url, admin_token
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the global node did not start: see {data_dir / 'serve.log'}")


def _make_members(
    http: httpx.Client, url: str, admin_token: str, count: int
) -> list[SimulatedNode]:
    codes = sorted(ISO_3166_ALPHA2)[:count]
    if len(codes) < count:
        raise SystemExit(f"at most {len(codes)} simulated nodes (one per country code)")
    headers = {"Authorization": f"Bearer {admin_token}"}
    nodes = []
    for code in codes:
        node = SimulatedNode(code, SigningKey.generate())
        token = JoinRequest.sign(
            node_id=code, base_url=node.base_url, name=f"{code} bench node", key=node.key
        )
        joined = http.post(f"{url}/federation/join", json={"token": token})
        joined.raise_for_status()
        approved = http.post(
            f"{url}/federation/join-requests/{joined.json()['id']}/approve", headers=headers
        )
        approved.raise_for_status()
        nodes.append(node)
    time.sleep(1.1)  # member keys are valid from approval, to the second
    return nodes


def run_round(
    url: str, nodes: list[SimulatedNode], *, events: int, batch: int, concurrency: int
) -> tuple[float, float]:
    """(events/s, median request ms) for every node sending `events` more events."""
    reports = {node.node_id: node.next_reports(events, batch) for node in nodes}
    timings: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    with httpx.Client(timeout=120, limits=limits) as http:

        def send(node_id: str) -> int:
            stored = 0
            for token in reports[node_id]:
                began = time.perf_counter()
                response = http.post(
                    f"{url}/federation/reports",
                    content=token,
                    headers={"Content-Type": REPORT_MEDIA_TYPE},
                )
                timings.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise SystemExit(f"{node_id}: {response.status_code} {response.text[:300]}")
                stored += response.json()["added"]
            return stored

        began = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            stored = sum(pool.map(send, reports))
        elapsed = time.perf_counter() - began
    assert stored == events * len(nodes), stored
    return stored / elapsed, statistics.median(timings) * 1000


def check_projection(database_url: str, nodes: list[SimulatedNode]) -> str:
    """What the global registry holds after the rounds, checked against what the nodes sent:
    every certificate listed, every suspension applied, and no anomaly (the logs are clean)."""
    sent = Counter(event.type for node in nodes for event in node.events)
    with psycopg.connect(database_url) as db:
        anomalies = dict(
            db.execute("SELECT kind, count(*) FROM federation_anomaly GROUP BY kind").fetchall()
        )
        statuses = dict(
            db.execute(
                "SELECT status, count(*) FROM federation_certificate GROUP BY status"
            ).fetchall()
        )
        (cities,) = db.execute("SELECT count(*) FROM federation_city").fetchone() or (0,)
    certificates = sum(statuses.values())
    if (
        anomalies
        or certificates != sent[EventType.CREDENTIAL_ISSUED]
        or statuses.get("suspended", 0) != sent[EventType.CREDENTIAL_SUSPENDED]
    ):
        raise SystemExit(
            f"the projection is not what the nodes sent: anomalies {anomalies}, certificates "
            f"{statuses} for {sent[EventType.CREDENTIAL_ISSUED]} issued and "
            f"{sent[EventType.CREDENTIAL_SUSPENDED]} suspended"
        )
    return (
        f"global registry: {certificates:,} certificates ({statuses.get('suspended', 0):,} "
        f"suspended) of {cities:,} cities, as sent; 0 anomalies"
    )


def _start_national(
    root: Path, code: str, global_url: str, global_admin: str
) -> tuple[subprocess.Popen[bytes], Path, str]:
    """A national node on SQLite with the default relay settings, joined and synced."""
    port = _free_port()
    data_dir = root / code.lower()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    env["SDGCITIES_DATA_DIR"] = str(data_dir)
    init = subprocess.run(
        [str(SDGCITIES), "node", "init", "--data-dir", str(data_dir), "--node-id", code,
         "--base-url", f"http://127.0.0.1:{port}", "--json"],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_token']}"}
    root_jwk = json.loads((root / "root-key.json").read_text())
    with (data_dir / "node.env").open("a", encoding="utf-8") as node_env:
        node_env.write(f"SDGCITIES_ROOT_KEYS={json.dumps([root_jwk])}\n")
        node_env.write(f"SDGCITIES_GLOBAL_URL={global_url}\n")
    log = (data_dir / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(SDGCITIES), "node", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=30) as http:
        deadline = time.monotonic() + 120
        while True:
            try:
                if http.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"the national node did not start: see {data_dir / 'serve.log'}")
            time.sleep(0.3)
        sent = http.post(f"{url}/admin/federation/join", json={}, headers=admin)
        sent.raise_for_status()
        http.post(
            f"{global_url}/federation/join-requests/{sent.json()['request_id']}/approve",
            headers={"Authorization": f"Bearer {global_admin}"},
        ).raise_for_status()
        http.post(f"{url}/admin/federation/sync", headers=admin).raise_for_status()
    return process, data_dir, url


def _issue(engine: Engine, data_dir: Path, code: str, locode: str, item: int) -> None:
    """Append an approved award decision and its certificate, signed by the node's key.

    In one write transaction, as the node's own are: it takes SQLite's write lock at its start
    and waits for it (busy timeout). A deferred one, reading before it writes, could not take
    the lock once the running node (its relay, its tasks) had written in between, and failed
    at once with "database is locked"."""
    settings = get_settings(data_dir=data_dir)
    with transaction(engine) as session:
        key = load_active_key(session=session, settings=settings)
        now = datetime.now(UTC).replace(microsecond=0)
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        token = CertificateIssue(
            credential_id=credential_id,
            issuer_did=settings.did,
            issuer_name=settings.node_name,
            locode=locode,
            city_name=f"Bench city {item}",
            country=code,
            stage="qualification",
            framework=FRAMEWORK,
            decision=Decision("committee", "meeting 1: bench", now),
            criteria=("Q1",),
            valid_from=now,
            valid_until=now + timedelta(days=365),
            status=StatusEntry(f"{settings.base_url}/status/1", item),
        ).sign(key, issued_at=now)
        append_event(
            session=session,
            node_id=code,
            type=EventType.DECISION_RECORDED,
            subject={"meeting": 1, "item": item, "locode": locode, "application": item},
            data=DecisionRecorded(
                kind="award", outcome="approved", quorum=QUORUM_COUNTS, votes=VOTES
            ),
        )
        append_event(
            session=session,
            node_id=code,
            type=EventType.CREDENTIAL_ISSUED,
            subject={"locode": locode, "credential": credential_id},
            data=CredentialIssued(
                id=credential_id,
                decision=DecisionRef(meeting="meeting 1: bench", item=item),
                jwt=token,
                city=CityFacts(priorities=("Housing",)),
            ),
        )


def measure_registry_lag(global_url: str, data_dir: Path, code: str, samples: int) -> list[float]:
    """Seconds from each certificate's commit on the national node to its listing on the
    global registry. A first certificate, not counted, waits out the relay's back-off from
    before the node was on the trust list."""
    engine = make_engine(f"sqlite:///{data_dir / 'node.db'}")
    lags = []
    try:
        with httpx.Client(timeout=30) as http:
            for item in range(samples + 1):
                locode = f"{code}-{chr(65 + item // 26)}{chr(65 + item % 26)}A"
                _issue(engine, data_dir, code, locode, item + 1)
                began = time.perf_counter()
                while True:
                    listed = http.get(
                        f"{global_url}/registry/cities", params={"q": locode, "country": code}
                    )
                    listed.raise_for_status()
                    if listed.json()["count"]:
                        break
                    if time.perf_counter() - began > 600:
                        raise SystemExit(f"{locode} was not listed by the global node in 600 s")
                    time.sleep(0.02)
                lags.append(time.perf_counter() - began)
    finally:
        engine.dispose()
    return lags[1:]


def floor_rate(database_url: str, writers: int) -> float:
    """Events/s at which the rows the rounds stored are written again by plain inserts: each
    report's `received_report` row and its `ingested_event` rows, one transaction per report,
    from `writers` connections at once, into copies of the two tables (same columns and
    indexes, no foreign key) with no verification, chain or projection. The floor the ingest
    can approach: what remains is the cost of its checks."""
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("CREATE TABLE floor_report (LIKE received_report INCLUDING ALL)")
        db.execute("CREATE TABLE floor_event (LIKE ingested_event INCLUDING ALL)")
        reports = db.execute(
            "SELECT id, node_id, token_sha256, token, first, last, issued_at, source, "
            "received_at, added, head_sequence, head_hash, receipt FROM received_report"
        ).fetchall()
        events: dict[int, list[tuple[Any, ...]]] = {}
        for row in db.execute(
            "SELECT report_id, node_id, sequence, type, occurred_at, subject::text, data::text, "
            "prev_hash, hash, received_at FROM ingested_event ORDER BY node_id, sequence"
        ):
            events.setdefault(row[0], []).append(row[1:])
    total = sum(len(rows) for rows in events.values())
    # Each writer takes every `writers`-th node, so that a node's reports stay in order.
    nodes = sorted({report[1] for report in reports})
    shares = [set(nodes[i::writers]) for i in range(writers)]
    insert_report = (
        "INSERT INTO floor_report (node_id, token_sha256, token, first, last, issued_at, "
        "source, received_at, added, head_sequence, head_hash, receipt) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
    )
    insert_event = (
        "INSERT INTO floor_event (node_id, sequence, type, occurred_at, subject, data, "
        "prev_hash, hash, received_at, report_id) "
        "VALUES (%s, %s, %s, %s, %s::json, %s::json, %s, %s, %s, %s)"
    )

    def write(share: set[str]) -> None:
        with psycopg.connect(database_url) as db, db.cursor() as cursor:
            for report in reports:
                if report[1] not in share:
                    continue
                cursor.execute(insert_report, report[1:])
                row = cursor.fetchone()
                assert row is not None
                cursor.executemany(insert_event, [(*e, row[0]) for e in events[report[0]]])
                db.commit()

    began = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, shares))
    elapsed = time.perf_counter() - began
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("DROP TABLE floor_event")
        db.execute("DROP TABLE floor_report")
    return total / elapsed


def _database(name: str) -> str:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop(name: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def baseline(args: argparse.Namespace) -> float:
    """Events/s of one round with the ingest in the global node's own process."""
    name = f"sdgcities_bench_ingest_{uuid.uuid4().hex[:10]}"
    database_url = _database(name)
    process = None
    try:
        with tempfile.TemporaryDirectory() as scratch:
            process, url, admin_token = _start_global(Path(scratch), database_url, 0)
            with httpx.Client(timeout=60) as http:
                nodes = _make_members(http, url, admin_token, args.nodes)
            rate, median_ms = run_round(
                url, nodes, events=args.events, batch=args.batch, concurrency=args.concurrency
            )
            process.terminate()
            process.wait(timeout=30)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        _drop(name)
    print(
        f"baseline, ingest in the server's process: {rate:,.0f} events/s, "
        f"median request {median_ms:.1f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--events", type=int, default=200, help="events per node per round")
    parser.add_argument("--batch", type=int, default=100, help="events per report")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--ingest-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="the global node's ingest_processes (default: one per core)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the round with in-process ingest"
    )
    parser.add_argument("--lag-samples", type=int, default=9, help="certificates timed")
    args = parser.parse_args()

    reference = None if args.no_baseline or not args.ingest_processes else baseline(args)
    name = f"sdgcities_bench_ingest_{uuid.uuid4().hex[:10]}"
    database_url = _database(name)
    process = national = None
    lags: list[float] = []
    floor = 0.0
    try:
        with tempfile.TemporaryDirectory() as scratch:
            process, url, admin_token = _start_global(
                Path(scratch), database_url, args.ingest_processes
            )
            with httpx.Client(timeout=60) as http:
                began = time.perf_counter()
                nodes = _make_members(http, url, admin_token, args.nodes)
                print(f"{len(nodes)} members joined in {time.perf_counter() - began:.1f} s")
            rates = []
            for number in range(1, args.rounds + 1):
                rate, median_ms = run_round(
                    url, nodes, events=args.events, batch=args.batch, concurrency=args.concurrency
                )
                rates.append(rate)
                print(
                    f"round {number} ({args.ingest_processes} ingest processes): "
                    f"{args.events * len(nodes)} events in reports of {args.batch}: "
                    f"{rate:,.0f} events/s, median request {median_ms:.1f} ms"
                )
            print(check_projection(database_url, nodes))
            floor = floor_rate(database_url, max(args.ingest_processes, 1))
            print(
                f"floor, the same rows by plain inserts ({max(args.ingest_processes, 1)} "
                f"writers, no checks): {floor:,.0f} events/s"
            )
            used = {node.node_id for node in nodes}
            code = next(c for c in sorted(ISO_3166_ALPHA2, reverse=True) if c not in used)
            national, national_dir, _ = _start_national(Path(scratch), code, url, admin_token)
            lags = measure_registry_lag(url, national_dir, code, args.lag_samples)
            national.terminate()
            national.wait(timeout=30)
            process.terminate()
            process.wait(timeout=30)
    finally:
        for started in (national, process):
            if started is not None and started.poll() is None:
                started.kill()
        _drop(name)
    print(
        f"registry lag (issue on a national node to the global registry, default relay "
        f"settings): median {statistics.median(lags):.2f} s over {len(lags)} certificates, "
        f"max {max(lags):.2f} s"
    )
    if reference is not None:
        print(f"ratio to the baseline: {statistics.median(rates) / reference:.2f}")
    print(f"ingest/floor ratio: {statistics.median(rates) / floor:.2f}")
    print(f"ingest events/s: {statistics.median(rates):.0f}")


if __name__ == "__main__":
    main()
