"""Registry-style reads at scale, in process: a city, then the city's applications.

Seeds 10,000 cities and 50,000 applications (SQLAlchemy Core bulk inserts) into a fresh, migrated
database, then times `GET /cities/{locode}` and `GET /cities/{locode}/applications` through the
node's full ASGI stack (httpx's ASGI transport, in one event loop: middleware, routing, token
lookup, access rule, session, serialisation) for random cities, on SQLite (a temporary file) and
PostgreSQL (a temporary database, dropped after).

    .venv/bin/python bench/registry_reads.py [--cities N] [--applications N] [--requests N]

PostgreSQL is reached at $SDGCITIES_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1/
postgres); it is skipped, and said so, when unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import UserCreate
from sdgcities.node.accounts.service import create_user, issue_token
from sdgcities.node.actor import SYSTEM
from sdgcities.node.app import create_app
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.cities.models import City
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.frameworks import load_baseline
from sdgcities.node.frameworks.service import find_version
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.timeutil import utcnow

LOCATION_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"
BATCH = 5_000


def locodes(count: int) -> list[str]:
    codes = ("".join(chars) for chars in itertools.product(LOCATION_CHARACTERS, repeat=3))
    return [f"KE-{code}" for code in itertools.islice(codes, count)]


def seed(engine: Engine, *, cities: list[str], applications: int, framework_id: int) -> None:
    """Bulk rows: every city has the same share of applications, all but its newest withdrawn."""
    rng = random.Random(7)
    now = utcnow()
    per_city, extra = divmod(applications, len(cities))
    with engine.begin() as connection:
        for start in range(0, len(cities), BATCH):
            connection.execute(
                insert(City),
                [
                    {
                        "locode": locode,
                        "country": "KE",
                        "name": f"City {locode[3:]}",
                        "region": f"Region {rng.randrange(47)}",
                        "population": rng.randrange(10_000, 5_000_000),
                        "languages": ["en", "sw"],
                        "priorities": ["housing", "transport"],
                        "created_at": now,
                    }
                    for locode in cities[start : start + BATCH]
                ],
            )
        rows = []
        for index, locode in enumerate(cities):
            count = per_city + (1 if index < extra else 0)
            for number in range(count):
                newest = number == count - 1
                state = (
                    rng.choice([ApplicationState.DRAFT, ApplicationState.SUBMITTED])
                    if newest
                    else ApplicationState.WITHDRAWN
                )
                rows.append(
                    {
                        "city_locode": locode,
                        "stage": "qualification",
                        "framework_version_id": framework_id,
                        "state": state,
                        "created_at": now - timedelta(days=30 * (count - number)),
                        "submitted_at": None if state is ApplicationState.DRAFT else now,
                        "withdrawn_at": now if state is ApplicationState.WITHDRAWN else None,
                    }
                )
            if len(rows) >= BATCH:
                connection.execute(insert(Application), rows)
                rows = []
        if rows:
            connection.execute(insert(Application), rows)
        # Fresh statistics, as a database that has been running would have.
        connection.execute(text("ANALYZE"))


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


async def measure(
    app: FastAPI, *, codes: list[str], token: str, requests: int, at_least: int
) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per request for random cities, after a warm-up of a tenth as many."""
    rng = random.Random(42)
    headers = {"Authorization": f"Bearer {token}"}
    city_ms: list[float] = []
    list_ms: list[float] = []
    both_ms: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for round_number in range(requests + requests // 10):
            locode = rng.choice(codes)
            t0 = time.perf_counter()
            city = await client.get(f"/cities/{locode}", headers=headers)
            t1 = time.perf_counter()
            listed = await client.get(f"/cities/{locode}/applications", headers=headers)
            t2 = time.perf_counter()
            assert city.status_code == 200, city.text
            assert listed.status_code == 200, listed.text
            assert listed.json()["count"] >= at_least
            if round_number < requests // 10:
                continue  # warm-up: connections, caches, first-call imports
            city_ms.append((t1 - t0) * 1000)
            list_ms.append((t2 - t1) * 1000)
            both_ms.append((t2 - t0) * 1000)
    return city_ms, list_ms, both_ms


def run(backend: str, *, cities: int, applications: int, requests: int) -> None:
    with (
        tempfile.TemporaryDirectory() as scratch,
        temporary_database(backend, Path(scratch)) as url,
    ):
        settings = Settings(
            node_id="KE",
            data_dir=Path(scratch) / "node",
            database_url=url,
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
            with Session(engine) as session:
                baseline = load_baseline()
                framework = find_version(
                    session=session, framework_id=baseline.id, version=baseline.version
                )
                assert framework is not None
                assert framework.id is not None
                framework_id = framework.id
                user = create_user(
                    session=session,
                    data=UserCreate(name="Bench", email="bench@example.org", role=Role.SECRETARIAT),
                    actor=SYSTEM,
                )
                _, token = issue_token(
                    session=session,
                    user=user,
                    label="bench",
                    lifetime=timedelta(days=1),
                    actor=SYSTEM,
                )
                session.commit()

            codes = locodes(cities)
            started = time.perf_counter()
            seed(engine, cities=codes, applications=applications, framework_id=framework_id)
            seeded = time.perf_counter() - started

            city_ms, list_ms, both_ms = asyncio.run(
                measure(
                    app,
                    codes=codes,
                    token=token,
                    requests=requests,
                    at_least=applications // cities,
                )
            )
        finally:
            engine.dispose()

    print(
        f"{backend}: {cities:,} cities, {applications:,} applications "
        f"(seeded in {seeded:.1f} s), {requests:,} random cities"
    )
    for label, samples in (
        ("GET /cities/{locode}", city_ms),
        ("GET /cities/{locode}/applications", list_ms),
        ("city + its applications", both_ms),
    ):
        p50, p95 = percentiles(samples)
        print(f"  {label:<36} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=10_000)
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql"):
        if backend == "postgresql" and not postgres_reachable():
            print(f"postgresql: skipped, {POSTGRES_ADMIN_URL} is unreachable", file=sys.stderr)
            continue
        run(backend, cities=args.cities, applications=args.applications, requests=args.requests)


if __name__ == "__main__":
    main()
