"""The public registry at scale: listings (with filters) and city lookups, on SQLite and PostgreSQL.

Seeds 10,000 cities in 50 countries and 100,000 certificates (SQLAlchemy Core bulk inserts into a
freshly migrated database) twice: for a national node's registry, with the parent rows every
certificate's foreign keys need (an awarded application and a decided agenda item each, one
framework version, one status-list pair), and for the global node's registry of the whole
federation, in the projection its ingest keeps (`federation_city`, `federation_certificate`); then
times a mix of `GET /registry/cities?...` and `GET /registry/cities/{locode}` through the node's
full ASGI stack, in process (httpx's ASGI transport: middleware, routing, access rule, read
session, serialisation; no socket). SQLite is a temporary file; PostgreSQL a temporary database
on $SDGCITIES_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
dropped after, and skipped with a note when unreachable.

    .venv/bin/python bench/registry.py [--cities N] [--certificates N] [--requests N]

Each city has a history: up to four stages, each renewed every three years, so most of its
certificates have expired; a fifth of the cities have let every certificate lapse, and a few per
cent of certificates are suspended or revoked. Tokens are a fixed dummy string of a real token's
size: the registry serves the stored text and never verifies it.

The node serves listings from its snapshot of the certified cities (node/registry/cache.py),
taken again after every committee decision; the mix measures the node as it runs, where nothing
changes during the run, so the snapshot is taken once a minute. A separate line gives the listing
with a new snapshot for every request (what the first listing after a decision costs); it is not
in the mix.

Prints p50 and p95 per request kind, backend and registry and, as its last line,
`registry p95 ms: X`, the p95 over the whole mix in the slowest of the four runs. The target is
X <= 50.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from sdgcities.node.app import create_app
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.cities.models import City
from sdgcities.node.committee.models import AgendaItem, ItemKind, ItemOutcome, Meeting
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate
from sdgcities.node.federation_registry.models import FederationCertificate, FederationCity
from sdgcities.node.frameworks import LEVEL_BY_STAGE, STAGE_ORDER, StageKey, load_baseline
from sdgcities.node.frameworks.service import find_version
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.registry.cache import RegistryCache
from sdgcities.node.status.service import allocate_status_entry
from sdgcities.node.timeutil import utcnow

COUNTRIES = (
    "KE UG TZ RW BI ET SO SS SD EG MA DZ TN LY NG GH CI SN ML BF NE TD CM GA CG "
    "CD AO ZM ZW MW MZ MG NA BW ZA LS SZ BR AR CL CO PE EC MX IN BD PK ID PH VN"
).split()
PRIORITIES = (
    "housing",
    "transport",
    "water",
    "sanitation",
    "energy",
    "climate adaptation",
    "public space",
    "waste",
    "jobs",
    "health",
    "education",
    "digital services",
)
SYLLABLES = "ka ri mo na se lu to ba di ge po zu vi ne la ma ko sa ti ru".split()
LOCATION = "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"
# A real certificate token is about 2.7 KB of base64url text, which compresses poorly (so
# PostgreSQL stores it much as it would a real one).
DUMMY_TOKEN = ".".join(
    base64.urlsafe_b64encode(random.Random(size).randbytes(size)).decode().rstrip("=")
    for size in (75, 1_950, 64)
)
YEAR = timedelta(days=365)
BATCH = 5_000


@dataclass
class Seeded:
    locodes: list[str]
    names: list[str]
    seconds: float
    certified: int


def city_rows(count: int, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    per_country = -(-count // len(COUNTRIES))
    codes = [
        "".join(c) for c in itertools.islice(itertools.product(LOCATION, repeat=3), per_country)
    ]
    rows = []
    for country, code in itertools.islice(itertools.product(COUNTRIES, codes), count):
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        rows.append(
            {
                "locode": f"{country}-{code}",
                "country": country,
                "name": name,
                "region": f"Region {rng.randrange(30)}",
                "population": rng.randrange(20_000, 8_000_000),
                "languages": ["en"],
                "priorities": rng.sample(PRIORITIES, rng.randint(1, 3)),
                "created_at": now - 12 * YEAR,
            }
        )
    return rows


def certificate_history(
    count: int, rng: random.Random, now: datetime
) -> Iterator[tuple[StageKey, datetime, CertificateStatus]]:
    """`count` certificates of one city, newest first: its stages up to the highest it reached,
    each renewed every three years; a lapsed city's newest ended years ago."""
    top = rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
    end = now - rng.uniform(3.1, 6) * YEAR if rng.random() < 0.2 else now
    for number in range(count):
        stage = STAGE_ORDER[top - 1 - number % top]
        valid_from = end - rng.uniform(0.05, 2.9) * YEAR - (number // top) * 3 * YEAR
        draw = rng.random()
        status = (
            CertificateStatus.REVOKED
            if draw < 0.03
            else CertificateStatus.SUSPENDED
            if draw < 0.06
            else CertificateStatus.ACTIVE
        )
        yield stage, valid_from.replace(microsecond=0), status


def seed(
    engine: Engine, app: FastAPI, *, cities: int, certificates: int, federation: bool
) -> Seeded:
    """National: cities and certificates with their applications and decisions. Federation (the
    global node): the same cities and certificates in the projection the ingest keeps."""
    rng = random.Random(7)
    now = utcnow()
    started = time.perf_counter()
    with Session(engine) as session:
        baseline = load_baseline()
        framework = find_version(
            session=session, framework_id=baseline.id, version=baseline.version
        )
        assert framework is not None
        assert framework.id is not None
        framework_id = framework.id
        # One real signed status list (131,072 indices): every certificate points at it.
        status_list_id, _ = allocate_status_entry(session=session, state=app.state.node, now=now)
        meeting = Meeting(
            title="Bench awards",
            scheduled_for=now - 12 * YEAR,
            quorum_min_fraction=0.5,
            quorum_min_non_government=1,
        )
        session.add(meeting)
        session.commit()
        meeting_id = meeting.id

    city_data = city_rows(cities, rng, now)
    per_city, extra = divmod(certificates, cities)
    applications: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    issued: list[dict[str, Any]] = []
    certified = 0
    with engine.begin() as connection:
        for start in range(0, len(city_data), BATCH):
            batch = city_data[start : start + BATCH]
            if federation:
                connection.execute(insert(FederationCity), [federation_city(c) for c in batch])
            else:
                connection.execute(insert(City), batch)
        serial = itertools.count(1)
        for position, city in enumerate(city_data):
            count = per_city + (1 if position < extra else 0)
            current = False
            for stage, valid_from, status in certificate_history(count, rng, now):
                number = next(serial)
                valid_until = valid_from + 3 * YEAR
                current |= status is CertificateStatus.ACTIVE and valid_from <= now < valid_until
                applications.append(
                    {
                        "id": number,
                        "city_locode": city["locode"],
                        "stage": stage,
                        "framework_version_id": framework_id,
                        "state": ApplicationState.AWARDED,
                        "created_at": valid_from - timedelta(days=90),
                        "submitted_at": valid_from - timedelta(days=60),
                    }
                )
                items.append(
                    {
                        "id": number,
                        "meeting_id": meeting_id,
                        "kind": ItemKind.AWARD,
                        "application_id": number,
                        "outcome": ItemOutcome.APPROVED,
                        "reason": "",
                        "created_at": valid_from - timedelta(days=7),
                        "decided_at": valid_from,
                    }
                )
                issued.append(
                    {
                        "id": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                        "city_locode": city["locode"],
                        "stage": stage,
                        "level": LEVEL_BY_STAGE[stage],
                        "application_id": number,
                        "agenda_item_id": number,
                        "framework_version_id": framework_id,
                        "valid_from": valid_from,
                        "valid_until": valid_until,
                        "issued_at": valid_from,
                        "token": DUMMY_TOKEN,
                        "status": status,
                        "status_changed_at": None if status is CertificateStatus.ACTIVE else now,
                        "status_list_id": status_list_id,
                        "status_index": number - 1,
                    }
                )
            certified += current
            if len(issued) >= BATCH:
                flush(connection, applications, items, issued, federation=federation)
        flush(connection, applications, items, issued, federation=federation)
        # Fresh statistics, as a database that has been running would have.
        connection.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # Index-only scans need the visibility map that (auto)vacuum keeps on a live database.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return Seeded(
        locodes=[c["locode"] for c in city_data],
        names=[c["name"] for c in city_data],
        seconds=time.perf_counter() - started,
        certified=certified,
    )


def flush(
    connection: Any,
    applications: list[dict[str, Any]],
    items: list[dict[str, Any]],
    issued: list[dict[str, Any]],
    *,
    federation: bool,
) -> None:
    if federation:
        if issued:
            connection.execute(insert(FederationCertificate), [reported(c) for c in issued])
    else:
        for table, rows in (
            (Application, applications),
            (AgendaItem, items),
            (Certificate, issued),
        ):
            if rows:
                connection.execute(insert(table), rows)
    for rows in (applications, items, issued):
        rows.clear()


def federation_city(city: dict[str, Any]) -> dict[str, Any]:
    facts = {key: city[key] for key in ("locode", "country", "name", "region", "population")}
    return {
        **facts,
        "priorities": city["priorities"],
        "node_id": city["country"],
        "facts_issued_at": city["created_at"],
    }


def reported(certificate: dict[str, Any]) -> dict[str, Any]:
    """A national certificate row as the global node's projection holds it."""
    facts = ("id", "city_locode", "stage", "level", "valid_from", "valid_until", "issued_at")
    return {
        **{key: certificate[key] for key in facts},
        "token": certificate["token"],
        "status": certificate["status"],
        "status_changed_at": certificate["status_changed_at"],
        "node_id": certificate["city_locode"][:2],
        "decision_item": certificate["agenda_item_id"],
        "sequence": certificate["agenda_item_id"],
        "projected_at": certificate["issued_at"],
    }


def requests_mix(seeded: Seeded, rng: random.Random) -> Iterator[tuple[str, str]]:
    """(kind, path): what investors and the public would ask, in rough proportion."""
    levels = list(LEVEL_BY_STAGE.values())
    while True:
        draw = rng.random()
        if draw < 0.5:
            yield "city", f"/registry/cities/{rng.choice(seeded.locodes)}"
        elif draw < 0.6:
            yield "list", f"/registry/cities?offset={rng.randrange(0, 400) * 20}&limit=20"
        elif draw < 0.7:
            yield "list country", f"/registry/cities?country={rng.choice(COUNTRIES)}"
        elif draw < 0.8:
            yield "list level", f"/registry/cities?level={rng.choice(levels)}&limit=20"
        elif draw < 0.9:
            prefix = rng.choice(seeded.names)[: rng.randint(3, 5)].lower()
            yield "list q", f"/registry/cities?q={prefix}"
        else:
            country, priority = rng.choice(COUNTRIES), rng.choice(PRIORITIES)
            yield (
                "list country+priority+level",
                (
                    f"/registry/cities?country={country}&priority={priority}"
                    f"&level={rng.choice(levels)}"
                ),
            )


async def measure_cold(app: FastAPI, *, requests: int) -> list[float]:
    """Milliseconds per listing when every request takes a new snapshot, as the first listing
    after each committee decision does."""
    state = app.state.node
    kept = state.registry
    state.registry = RegistryCache(max_age=timedelta(0), source=kept.source)
    samples = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for number in range(requests + 3):
                started = time.perf_counter()
                response = await client.get("/registry/cities?limit=20")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                if number >= 3:
                    samples.append(elapsed)
    finally:
        state.registry = kept
    return samples


async def measure(app: FastAPI, seeded: Seeded, *, requests: int) -> dict[str, list[float]]:
    """Milliseconds per request by kind (and "all"), after a warm-up of a tenth as many."""
    rng = random.Random(42)
    samples: dict[str, list[float]] = {"all": []}
    mix = requests_mix(seeded, rng)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for number in range(requests + requests // 10):
            kind, path = next(mix)
            started = time.perf_counter()
            response = await client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.text)
            if number < requests // 10:
                continue  # warm-up: connections, caches, first-call imports
            samples.setdefault(kind, []).append(elapsed)
            samples["all"].append(elapsed)
    return samples


def percentiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94]


def run(backend: str, registry: str, *, cities: int, certificates: int, requests: int) -> float:
    """Seed, measure and print one backend and registry (national or global); its p95 over
    the whole mix."""
    with (
        tempfile.TemporaryDirectory() as scratch,
        temporary_database(backend, Path(scratch)) as url,
    ):
        settings = Settings(
            node_id="global" if registry == "global" else "KE",
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
            seeded = seed(
                engine,
                app,
                cities=cities,
                certificates=certificates,
                federation=registry == "global",
            )
            samples = asyncio.run(measure(app, seeded, requests=requests))
            cold = asyncio.run(measure_cold(app, requests=max(20, requests // 20)))
        finally:
            engine.dispose()

    print(
        f"{backend}, {registry} registry: {cities:,} cities ({seeded.certified:,} certified now), "
        f"{certificates:,} certificates (seeded in {seeded.seconds:.1f} s); "
        f"{requests:,} requests"
    )
    for kind in sorted(samples, key=lambda k: (k == "all", k)):
        p50, p95 = percentiles(samples[kind])
        print(f"  {kind:<30} n={len(samples[kind]):>5}   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    p50, p95 = percentiles(cold)
    print(
        f"  (listing with a new snapshot each time, as after a decision: n={len(cold)}, "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms; not in the mix)"
    )
    return percentiles(samples["all"])[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=10_000)
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    worst = 0.0
    for backend in ("sqlite", "postgresql"):
        if backend == "postgresql" and not postgres_reachable():
            print(f"postgresql: skipped, {POSTGRES_ADMIN_URL} is unreachable", file=sys.stderr)
            continue
        for registry in ("national", "global"):
            worst = max(
                worst,
                run(
                    backend,
                    registry,
                    cities=args.cities,
                    certificates=args.certificates,
                    requests=args.requests,
                ),
            )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"registry p95 ms: {worst:.1f}")


if __name__ == "__main__":
    main()
