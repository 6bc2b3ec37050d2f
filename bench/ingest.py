"""Global ingest throughput: 200 member nodes pushing signed reports over HTTP.

Starts a global node (`sdgcities node init` + `node serve`, uvicorn in its own process) on a
temporary PostgreSQL database ($SDGCITIES_BENCH_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/postgres; dropped after), makes 200 members through the
real join/approve API (each with its own Ed25519 key), then runs rounds: every member signs its
next `--events` events as reports of `--batch` events (signing is not timed), and the reports
are POSTed to `/federation/reports` from `--concurrency` client threads, each member's reports
in order. A round's figure is the events stored (acknowledged by a receipt) per second of wall
time.

    .venv/bin/python bench/ingest.py [--nodes 200] [--events 200] [--batch 100] [--rounds 3]

Prints per round the events/s and the median request time, then, as its last line,
`ingest events/s: X`, the median over the rounds. The target is X >= 2,000.

Lag (a certificate's issue to its appearance in the global registry with the default relay
settings) is for when the global registry reads the ingested events: add it as
`measure_registry_lag(global_url, nationals)` beside `run_round`, started after the rounds.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from sdgcities.credentials import SigningKey
from sdgcities.federation import REPORT_MEDIA_TYPE, Event, EventType, sign_report
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.countries import ISO_3166_ALPHA2

POSTGRES_URL = os.environ.get(
    "SDGCITIES_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SDGCITIES = Path(sys.executable).with_name("sdgcities")


@dataclass
class SimulatedNode:
    node_id: str
    key: SigningKey
    events: list[Event] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"https://{self.node_id.lower()}.bench.example.org"

    @property
    def did(self) -> str:
        return f"did:web:{self.node_id.lower()}.bench.example.org"

    def next_reports(self, count: int, batch: int) -> list[str]:
        start = datetime.now(UTC).replace(microsecond=0)
        fresh: list[Event] = []
        previous = self.events[-1] if self.events else None
        for n in range(count):
            previous = Event.create(
                previous,
                node_id=self.node_id,
                type=EventType.CREDENTIAL_ISSUED if n % 4 else EventType.DECISION_RECORDED,
                occurred_at=start - timedelta(seconds=count - n),
                subject={"locode": f"{self.node_id}-ABC", "credential": f"urn:uuid:{uuid.uuid4()}"},
                data={"stage": "qualification", "level": 1, "n": len(self.events) + n},
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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_global(data_dir: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    env |= {"SDGCITIES_DATA_DIR": str(data_dir), "SDGCITIES_DATABASE_URL": database_url}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--events", type=int, default=200, help="events per node per round")
    parser.add_argument("--batch", type=int, default=100, help="events per report")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    name = f"sdgcities_bench_ingest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    process = None
    try:
        with tempfile.TemporaryDirectory() as scratch:
            process, url, admin_token = _start_global(Path(scratch), database_url)
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
                    f"round {number}: {args.events * len(nodes)} events in reports of "
                    f"{args.batch}: {rate:,.0f} events/s, median request {median_ms:.1f} ms"
                )
            process.terminate()
            process.wait(timeout=30)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"ingest events/s: {statistics.median(rates):.0f}")


if __name__ == "__main__":
    main()
