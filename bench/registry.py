"""The public registry at scale: listings, city and certificate lookups, on SQLite and PostgreSQL.

Seeds cities in 50 countries and their certificates into a freshly migrated database twice: for
a national node's registry, with the parent rows every certificate's foreign keys need (an
awarded application and a decided agenda item each, one framework version, as many real signed
status lists of 131,072 entries as the certificates fill), and for the global node's registry of
the whole federation, in the projection its ingest keeps (`federation_city`,
`federation_certificate`); then times a mix of `GET /registry/cities?...`,
`GET /registry/cities/{locode}` and `GET /registry/credentials/{id}` through the node's full ASGI
stack, in process (httpx's ASGI transport: middleware, routing, access rule, read session,
serialisation; no socket). SQLite is a temporary file, loaded by Core bulk inserts; PostgreSQL a
temporary database on $SDGCITIES_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), loaded by COPY (psycopg 3's `cursor.copy`, the
foreign keys checked by one anti-join each after the load instead of a trigger per row), dropped
after, also when the run is stopped (SIGTERM, Ctrl-C), and skipped with a note when unreachable.

    .venv/bin/python bench/registry.py [--scale both|small|large] [--registry national|global]
        [--cities N] [--certificates N] [--large-cities N] [--large-certificates N]
        [--requests N]

Two scales: small, 10,000 cities and 100,000 certificates on SQLite and PostgreSQL; large,
100,000 cities and 1,000,000 certificates on PostgreSQL. `make bench` runs both (the default),
the small one as the same run's baseline; `--scale small` is the quick run.

Each city has a history: up to four stages, each renewed every three years, so most of its
certificates have expired; a fifth of the cities have let every certificate lapse, and a few per
cent of certificates are suspended or revoked. Tokens are a fixed dummy of a real token's size
and shape (JSON header and payload, not signed): the registry serves the stored text and never
verifies it.

The node serves listings from its snapshot of the certified cities (node/registry/cache.py),
taken again after every committee decision; the mix measures the node as it runs, where nothing
changes during the run, so the snapshot is taken once a minute. A separate line gives the listing
with a new snapshot for every request (what the first listing after a decision costs); it is not
in the mix.

Prints seeding seconds, p50 and p95 per request kind, backend and registry and, as its last
line, `registry p95 ms: X at <large scale> on PostgreSQL; same run at <small scale>: Y`: the p95
over the whole mix in the slowest registry of each scale. The target is X <= 10.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, exists, func, insert, select, text, update
from sqlmodel import Session, col

from sdgcities.credentials import MIN_ENTRIES
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
from sdgcities.node.status.models import StatusListRecord
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
# PostgreSQL stores it much as it would a real one). The dummy parses as one (its header and
# payload are JSON, as `GET /registry/credentials/{id}` decodes them) but is not signed: the
# registry serves the stored text and never verifies it.
_FILLER = random.Random(1_950)


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


DUMMY_TOKEN = ".".join(
    (
        _segment(
            json.dumps(
                {
                    "alg": "EdDSA",
                    "typ": "vc+jwt",
                    "kid": f"did:web:bench.example#{_segment(_FILLER.randbytes(32))}",
                }
            ).encode()
        ),
        _segment(
            json.dumps(
                {"type": ["VerifiableCredential"], "bench": _FILLER.randbytes(950).hex()}
            ).encode()
        ),
        _segment(_FILLER.randbytes(64)),
    )
)
YEAR = timedelta(days=365)
BATCH = 5_000
# Every so many certificates, one the mix asks for.
CERTIFICATE_SAMPLE = 97


@dataclass
class Seeded:
    locodes: list[str]
    names: list[str]
    certificate_ids: list[str]
    seconds: float
    # Of `seconds`: making the rows in Python, and writing them (COPY or inserts, with checks).
    generated: float
    written: float
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
    global node): the same cities and certificates in the projection the ingest keeps.

    PostgreSQL is loaded with COPY (a million certificates in well under a minute), SQLite with
    Core bulk inserts; the rows are the same."""
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
        # Real signed status lists of 131,072 indices each, as many as the certificates fill.
        lists = status_lists(session, app, now=now, count=-(-certificates // MIN_ENTRIES))
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
    issued: list[Issuance] = []
    certified = 0
    for position, city in enumerate(city_data):
        count = per_city + (1 if position < extra else 0)
        current = False
        for stage, valid_from, status in certificate_history(count, rng, now):
            current |= (
                status is CertificateStatus.ACTIVE and valid_from <= now < valid_from + 3 * YEAR
            )
            issued.append(
                Issuance(
                    id=f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                    locode=city["locode"],
                    stage=stage,
                    valid_from=valid_from,
                    status=status,
                )
            )
        certified += current
    certificate_ids = [issuance.id for issuance in issued[::CERTIFICATE_SAMPLE]]
    generated = time.perf_counter() - started

    with engine.begin() as connection:
        write = copy_rows if engine.dialect.name == "postgresql" else insert_rows
        if federation:
            write(
                connection, FederationCity, FEDERATION_CITY_COLUMNS, map(federation_city, city_data)
            )
            write(
                connection,
                FederationCertificate,
                FEDERATION_CERTIFICATE_COLUMNS,
                (reported(number, issuance, now) for number, issuance in enumerate(issued, 1)),
            )
        else:
            write(connection, City, CITY_COLUMNS, map(national_city, city_data))
            write(
                connection,
                Application,
                APPLICATION_COLUMNS,
                (
                    (
                        number,
                        issuance.locode,
                        issuance.stage,
                        framework_id,
                        ApplicationState.AWARDED.value,
                        issuance.valid_from - timedelta(days=90),
                        issuance.valid_from - timedelta(days=60),
                    )
                    for number, issuance in enumerate(issued, 1)
                ),
            )
            write(
                connection,
                AgendaItem,
                AGENDA_ITEM_COLUMNS,
                (
                    (
                        number,
                        meeting_id,
                        ItemKind.AWARD.value,
                        number,
                        ItemOutcome.APPROVED.value,
                        "",
                        issuance.valid_from - timedelta(days=7),
                        issuance.valid_from,
                    )
                    for number, issuance in enumerate(issued, 1)
                ),
            )
            write(
                connection,
                Certificate,
                CERTIFICATE_COLUMNS,
                (
                    national_certificate(number, issuance, now, framework_id, lists)
                    for number, issuance in enumerate(issued, 1)
                ),
            )
        written = time.perf_counter() - started - generated
        # Fresh statistics, as a database that has been running would have.
        connection.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # Index-only scans need the visibility map that (auto)vacuum keeps on a live database.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return Seeded(
        locodes=[c["locode"] for c in city_data],
        names=[c["name"] for c in city_data],
        certificate_ids=certificate_ids,
        seconds=time.perf_counter() - started,
        generated=generated,
        written=written,
        certified=certified,
    )


@dataclass(frozen=True, slots=True)
class Issuance:
    """One certificate of the seeded history, before it becomes a row of either registry."""

    id: str
    locode: str
    stage: StageKey
    valid_from: datetime
    status: CertificateStatus


CITY_COLUMNS = (
    "locode",
    "country",
    "name",
    "region",
    "population",
    "languages",
    "priorities",
    "created_at",
)
FEDERATION_CITY_COLUMNS = (
    "locode",
    "country",
    "name",
    "region",
    "population",
    "priorities",
    "node_id",
    "facts_issued_at",
)
APPLICATION_COLUMNS = (
    "id",
    "city_locode",
    "stage",
    "framework_version_id",
    "state",
    "created_at",
    "submitted_at",
)
AGENDA_ITEM_COLUMNS = (
    "id",
    "meeting_id",
    "kind",
    "application_id",
    "outcome",
    "reason",
    "created_at",
    "decided_at",
)
CERTIFICATE_COLUMNS = (
    "id",
    "city_locode",
    "stage",
    "level",
    "application_id",
    "agenda_item_id",
    "framework_version_id",
    "valid_from",
    "valid_until",
    "issued_at",
    "token",
    "status",
    "status_changed_at",
    "status_list_id",
    "status_index",
)
FEDERATION_CERTIFICATE_COLUMNS = (
    "id",
    "city_locode",
    "stage",
    "level",
    "valid_from",
    "valid_until",
    "issued_at",
    "token",
    "status",
    "status_changed_at",
    "node_id",
    "decision_item",
    "sequence",
    "projected_at",
)


def status_lists(session: Session, app: FastAPI, *, now: datetime, count: int) -> list[str]:
    """`count` new signed status lists, each marked full once created (the bench numbers the
    certificates' entries itself)."""
    created = []
    for _ in range(count):
        list_id, _entry = allocate_status_entry(session=session, state=app.state.node, now=now)
        session.exec(
            update(StatusListRecord)
            .where(col(StatusListRecord.list_id) == list_id)
            .values(next_position=StatusListRecord.size)
        )
        created.append(list_id)
    session.commit()
    return created


def national_city(city: dict[str, Any]) -> tuple[Any, ...]:
    return (
        *(city[key] for key in ("locode", "country", "name", "region", "population")),
        city["languages"],
        city["priorities"],
        city["created_at"],
    )


def federation_city(city: dict[str, Any]) -> tuple[Any, ...]:
    return (
        *(city[key] for key in ("locode", "country", "name", "region", "population")),
        city["priorities"],
        city["country"],
        city["created_at"],
    )


def national_certificate(
    number: int, issuance: Issuance, now: datetime, framework_id: int, lists: list[str]
) -> tuple[Any, ...]:
    list_number, index = divmod(number - 1, MIN_ENTRIES)
    return (
        issuance.id,
        issuance.locode,
        issuance.stage,
        LEVEL_BY_STAGE[issuance.stage],
        number,
        number,
        framework_id,
        issuance.valid_from,
        issuance.valid_from + 3 * YEAR,
        issuance.valid_from,
        DUMMY_TOKEN,
        issuance.status.value,
        None if issuance.status is CertificateStatus.ACTIVE else now,
        lists[list_number],
        index,
    )


def reported(number: int, issuance: Issuance, now: datetime) -> tuple[Any, ...]:
    """A national certificate as the global node's projection holds it."""
    return (
        issuance.id,
        issuance.locode,
        issuance.stage,
        LEVEL_BY_STAGE[issuance.stage],
        issuance.valid_from,
        issuance.valid_from + 3 * YEAR,
        issuance.valid_from,
        DUMMY_TOKEN,
        issuance.status.value,
        None if issuance.status is CertificateStatus.ACTIVE else now,
        issuance.locode[:2],
        number,
        number,
        issuance.valid_from,
    )


def copy_rows(
    connection: Connection, table: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """PostgreSQL: the rows through one COPY, in the connection's transaction.

    The foreign keys' per-row triggers are off for the COPY (`session_replication_role`, which
    the bench's superuser may set: they would cost more than the COPY itself); one anti-join per
    foreign key then checks every row at once, so the data still holds to every constraint."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    json_columns = {i for i, name in enumerate(columns) if name in ("languages", "priorities")}
    name = table.__tablename__
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_columns:
                row = tuple(
                    json.dumps(value) if i in json_columns else value for i, value in enumerate(row)
                )
            copy.write_row(row)
    connection.execute(text("SET LOCAL session_replication_role = origin"))
    for key in table.__table__.foreign_keys:
        target = key.column.table.alias("target")
        dangling = connection.execute(
            select(func.count())
            .select_from(table.__table__)
            .where(
                key.parent.is_not(None),
                ~exists().where(target.c[key.column.name] == key.parent),
            )
        ).scalar_one()
        assert dangling == 0, f"{dangling} rows of {name} break {key.target_fullname}"


def insert_rows(
    connection: Connection, table: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """SQLite: the rows by Core bulk inserts, a batch at a time."""
    rows = iter(rows)
    while batch := [dict(zip(columns, row, strict=True)) for row in itertools.islice(rows, BATCH)]:
        connection.execute(insert(table), batch)


def requests_mix(seeded: Seeded, rng: random.Random) -> Iterator[tuple[str, str]]:
    """(kind, path): what investors and the public would ask, in rough proportion."""
    levels = list(LEVEL_BY_STAGE.values())
    while True:
        draw = rng.random()
        if draw < 0.45:
            yield "city", f"/registry/cities/{rng.choice(seeded.locodes)}"
        elif draw < 0.5:
            yield "certificate", f"/registry/credentials/{rng.choice(seeded.certificate_ids)}"
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
            cold = asyncio.run(measure_cold(app, requests=max(10, requests // 100)))
        finally:
            engine.dispose()

    print(
        f"{backend}, {registry} registry: {cities:,} cities ({seeded.certified:,} certified now), "
        f"{certificates:,} certificates (seeded in {seeded.seconds:.1f} s: rows made in "
        f"{seeded.generated:.1f} s, written in {seeded.written:.1f} s); "
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
    parser.add_argument("--large-cities", type=int, default=100_000)
    parser.add_argument("--large-certificates", type=int, default=1_000_000)
    parser.add_argument(
        "--scale",
        choices=("both", "small", "large"),
        default="both",
        help="small: --cities/--certificates on SQLite and PostgreSQL; large: --large-* on "
        "PostgreSQL; both (the default): each, the small one as the large one's baseline",
    )
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument(
        "--registry", choices=("national", "global"), action="append", dest="registries"
    )
    args = parser.parse_args()
    registries = args.registries or ["national", "global"]
    # A stopped run (timeout, Ctrl-C) still drops its scratch database on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    reachable = postgres_reachable()
    if not reachable:
        print(f"postgresql: skipped, {POSTGRES_ADMIN_URL} is unreachable", file=sys.stderr)
    small: float | None = None
    large: float | None = None
    if args.scale in ("both", "small"):
        small = max(
            run(
                backend,
                registry,
                cities=args.cities,
                certificates=args.certificates,
                requests=args.requests,
            )
            for backend in ("sqlite", "postgresql")
            if backend == "sqlite" or reachable
            for registry in registries
        )
    if args.scale in ("both", "large") and reachable:
        large = max(
            run(
                "postgresql",
                registry,
                cities=args.large_cities,
                certificates=args.large_certificates,
                requests=args.requests,
            )
            for registry in registries
        )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    small_scale = f"{args.cities:,} cities / {args.certificates:,} certificates"
    if large is None:
        print(f"registry p95 ms: {small:.1f} at {small_scale}")
        return
    baseline = "" if small is None else f"; same run at {small_scale}: {small:.1f}"
    print(
        f"registry p95 ms: {large:.1f} at {args.large_cities:,} cities / "
        f"{args.large_certificates:,} certificates on PostgreSQL{baseline}"
    )


if __name__ == "__main__":
    main()
