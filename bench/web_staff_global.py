"""The global node's monitoring dashboard over 200 member nodes and 100,000 certificates.

Seeds a fresh, migrated global node's database with 200 members (each with its ingested log,
a last report some minutes to hours ago, and a data-quality report), 100,000 certificates
spread over the members, the four stages, the four levels and the last twelve months, and a
few anomalies and alarms. Then times, through the node's full ASGI stack (httpx's ASGI
transport: middleware, routing, the session cookie, the page's access rule, the services,
the SVG charts, Jinja2 rendering), interleaved in the same run:

- the page: `GET /en/global`, signed in as the secretariat;
- its baselines: `GET /healthz`, and the JSON API's same read (`GET /federation/monitoring`).

    .venv/bin/python bench/web_staff_global.py [--requests N] [--backend sqlite|postgresql|both]

Prints p50 and p95 of each per backend; the last line is `web staff p95 ms: X`, X the worst
backend's p95 of the dashboard (the target is X <= 100). PostgreSQL is reached at
$SDGCITIES_BENCH_POSTGRES_URL, and skipped, said so, when unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI, Response
from sqlalchemy import insert
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.certificates.models import CertificateStatus
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.federation_registry.models import (
    AnomalyKind,
    FederationAnomaly,
    FederationCertificate,
)
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.ingest.models import IngestedLog
from sdgcities.node.members.models import MemberNode
from sdgcities.node.monitoring.models import QualityReport
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web.session import SESSION_COOKIE, start_session

MEMBERS = 200
CERTIFICATES = 100_000
STAGES = ("qualification", "evidence-based-processes", "enabling-environment", "impact")
LEVELS = ("silver", "gold", "platinum", "diamond")
BATCH = 5_000


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def _node_id(index: int) -> str:
    return f"{chr(65 + index // 26)}{chr(65 + index % 26)}"


def seed(session: Session, settings: Settings) -> tuple[str, str]:
    """The secretariat's session cookie and API token."""
    rng = random.Random(14)
    now = utcnow()
    nodes = [_node_id(index) for index in range(MEMBERS)]
    for node_id in nodes:
        session.add(
            MemberNode(
                node_id=node_id,
                did=f"did:web:{node_id.lower()}.example.org",
                name=f"{node_id} node",
                base_url=f"https://{node_id.lower()}.example.org",
                joined_at=now - timedelta(days=400),
                status_since=now - timedelta(days=400),
            )
        )
        session.add(
            IngestedLog(
                node_id=node_id,
                head_sequence=rng.randint(100, 5000),
                head_hash="sha256:" + "0" * 64,
                last_report_at=now - timedelta(minutes=rng.randint(1, 600)),
            )
        )
        session.add(
            QualityReport(
                node_id=node_id,
                period_until=now - timedelta(hours=1),
                score=rng.uniform(60, 100),
                checks=[],
            )
        )
    session.flush()
    rows = []
    for number in range(CERTIFICATES):
        issued = now - timedelta(days=rng.uniform(0, 365))
        rows.append(
            {
                "id": f"urn:uuid:bench-{number}",
                "node_id": nodes[number % MEMBERS],
                "city_locode": f"{nodes[number % MEMBERS]}{number % 1000:03d}",
                "stage": STAGES[rng.randrange(4)],
                "level": LEVELS[rng.randrange(4)],
                "valid_from": issued,
                "valid_until": issued + timedelta(days=3 * 365),
                "issued_at": issued,
                "token": "x",
                "status": CertificateStatus.ACTIVE,
                "sequence": number,
                "projected_at": issued,
            }
        )
        if len(rows) == BATCH:
            session.execute(insert(FederationCertificate), rows)
            rows = []
    for number in range(50):
        session.add(
            FederationAnomaly(
                node_id=nodes[number],
                kind=AnomalyKind.CERTIFICATE_WITHOUT_DECISION,
                sequence=number,
                event_type="credential.issued",
                detail="no decision was reported before it",
                found_at=now - timedelta(hours=number),
            )
        )
    secretariat = create_user(
        session=session,
        data=UserCreate(
            name="Global secretariat",
            email="secretariat@example.org",
            role=Role.SECRETARIAT,
            languages=["en"],
        ),
        actor=SYSTEM,
    )
    response = Response()
    start_session(session=session, user=secretariat, response=response, settings=settings)
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    _, token = issue_token(
        session=session, user=secretariat, label="bench", lifetime=timedelta(days=1), actor=SYSTEM
    )
    session.commit()
    return cookie, token


async def measure(
    app: FastAPI, *, cookie: str, token: str, requests: int
) -> dict[str, list[float]]:
    """Milliseconds per request of each, interleaved, after a warm-up of a tenth as many."""
    timings: dict[str, list[float]] = {"page": [], "healthz": [], "api": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={SESSION_COOKIE: cookie}
    ) as client:
        for round_number in range(requests + requests // 10):
            t0 = time.perf_counter()
            shown = await client.get("/en/global")
            t1 = time.perf_counter()
            health = await client.get("/healthz")
            t2 = time.perf_counter()
            read = await client.get(
                "/federation/monitoring", headers={"Authorization": f"Bearer {token}"}
            )
            t3 = time.perf_counter()
            assert shown.status_code == 200, shown.text[:500]
            assert shown.text.count('role="img"') == 4
            assert health.status_code == 200, health.text
            assert read.status_code == 200, read.text
            if round_number < requests // 10:
                continue  # warm-up: connections, template compilation, first-call imports
            timings["page"].append((t1 - t0) * 1000)
            timings["healthz"].append((t2 - t1) * 1000)
            timings["api"].append((t3 - t2) * 1000)
    return timings


def run(backend: str, *, requests: int) -> float:
    with (
        tempfile.TemporaryDirectory() as scratch,
        temporary_database(backend, Path(scratch)) as url,
    ):
        settings = Settings(
            node_id="global",
            data_dir=Path(scratch) / "node",
            database_url=url,
            rate_limit_verify_per_minute=0,
            _env_file=None,  # type: ignore[call-arg]
        )
        engine = make_engine(url)
        try:
            check_durability(engine)
            migrate(engine)
            with Session(engine) as session:
                create_signing_key(session=session, settings=settings)
                session.commit()
            app = create_app(settings, engine=engine)
            with Session(engine, expire_on_commit=False) as session:
                cookie, token = seed(session, settings)
            timings = asyncio.run(measure(app, cookie=cookie, token=token, requests=requests))
        finally:
            engine.dispose()
    print(
        f"{backend}: monitoring dashboard, {MEMBERS} members, {CERTIFICATES:,} certificates, "
        f"{requests:,} requests ({datetime.now(UTC):%Y-%m-%d})"
    )
    for label, key in (
        ("GET /en/global", "page"),
        ("GET /healthz (baseline)", "healthz"),
        ("GET /federation/monitoring (API)", "api"),
    ):
        p50, p95 = percentiles(timings[key])
        print(f"  {label:<38} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    return percentiles(timings["page"])[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    worst = 0.0
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        if backend == "postgresql" and not postgres_reachable():
            print(f"postgresql: skipped, {POSTGRES_ADMIN_URL} is unreachable", file=sys.stderr)
            continue
        worst = max(worst, run(backend, requests=args.requests))
    print(f"web staff p95 ms: {worst:.1f}")


if __name__ == "__main__":
    main()
