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
postgresql://postgres@127.0.0.1:5432/postgres), loaded by binary COPY (psycopg 3's
`cursor.copy`) as PostgreSQL's "Populating a Database" advises: the tables' indexes and
constraints dropped for the load and made again after it (each foreign key checked by one join
instead of a trigger per row), the rows frozen as they are written, then VACUUM ANALYZE; dropped
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
over the whole mix in the slowest registry of each scale, Y on PostgreSQL too (on SQLite when no
PostgreSQL is reachable). The target is X <= 10.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psycopg
from _common import POSTGRES_ADMIN_URL, postgres_reachable, temporary_database
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, Table, exists, insert, select, text, update
from sqlmodel import Session, col

from sdgcities.credentials import MIN_ENTRIES
from sdgcities.node.app import create_app
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.cities.models import City
from sdgcities.node.committee.models import AgendaItem, ItemKind, ItemOutcome, Meeting
from sdgcities.node.config import Settings
from sdgcities.node.db import check_durability, make_engine, migrate, table_of
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
    # Of `seconds`: the status lists, the meeting and the cities' rows; making the certificates
    # and writing every row (COPY or inserts); making the indexes and constraints again and
    # checking the foreign keys (PostgreSQL); the commit and ANALYZE (VACUUM ANALYZE on
    # PostgreSQL).
    generated: float
    written: float
    indexed: float
    analysed: float
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


def random_urn_uuid(bits: int) -> str:
    """`f"urn:uuid:{uuid.UUID(int=bits, version=4)}"`, in a third of the time (no UUID object):
    the version and variant bits set, then the hex digits grouped."""
    bits = bits & ~(0xF000 << 64) | 4 << 76
    bits = bits & ~(0xC000 << 48) | 0x8000 << 48
    digits = f"{bits:032x}"
    return f"urn:uuid:{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def issuances(
    city_data: list[dict[str, Any]],
    certificates: int,
    rng: random.Random,
    now: datetime,
    *,
    into: list[Issuance],
) -> Iterator[Issuance]:
    """`certificates` certificates spread evenly over the cities, each city's history in turn
    (`certificate_history`), each also appended to `into`."""
    per_city, extra = divmod(certificates, len(city_data))
    for position, city in enumerate(city_data):
        count = per_city + (1 if position < extra else 0)
        for stage, valid_from, status in certificate_history(count, rng, now):
            issuance = Issuance(
                id=random_urn_uuid(rng.getrandbits(128)),
                locode=city["locode"],
                stage=stage,
                valid_from=valid_from,
                status=status,
            )
            into.append(issuance)
            yield issuance


def seed(
    engine: Engine, app: FastAPI, *, cities: int, certificates: int, federation: bool
) -> Seeded:
    """National: cities and certificates with their applications and decisions. Federation (the
    global node): the same cities and certificates in the projection the ingest keeps.

    PostgreSQL is loaded by COPY into tables stripped of their indexes and constraints for the
    load (`bulk_load`), SQLite by Core bulk inserts; the rows are the same."""
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
    generated = time.perf_counter() - started

    # On PostgreSQL the certificates are made while their COPY streams them (PostgreSQL stores
    # each while Python makes the next), first: the foreign keys are checked after the load.
    # SQLite checks each row's as it is inserted, so there they are all made first and the
    # parent rows go in before them. Either way they are kept for the other tables.
    issued: list[Issuance] = []
    postgresql = engine.dialect.name == "postgresql"
    made: Iterable[Issuance] = issuances(city_data, certificates, rng, now, into=issued)
    if not postgresql:
        made = list(made)
    with engine.begin() as connection:
        write = copy_rows if postgresql else insert_rows
        if postgresql:
            assert stored_uncompressed(connection, DUMMY_TOKEN)
        tables: list[tuple[Any, tuple[str, ...], Iterable[tuple[Any, ...]]]] = (
            [
                (
                    FederationCertificate,
                    FEDERATION_CERTIFICATE_COLUMNS,
                    (reported(number, issuance, now) for number, issuance in enumerate(made, 1)),
                ),
                (FederationCity, FEDERATION_CITY_COLUMNS, map(federation_city, city_data)),
            ]
            if federation
            else [
                (
                    Certificate,
                    CERTIFICATE_COLUMNS,
                    (
                        national_certificate(number, issuance, now, framework_id, lists)
                        for number, issuance in enumerate(made, 1)
                    ),
                ),
                (City, CITY_COLUMNS, map(national_city, city_data)),
                (
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
                ),
                (
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
                ),
            ]
        )
        if not postgresql:
            tables.append(tables.pop(0))
        loading = (
            bulk_load(
                connection,
                [table_of(table) for table, _, _ in tables],
                incompressible=("token",),
            )
            if postgresql
            else contextlib.nullcontext()
        )
        with loading:
            for table, columns, rows in tables:
                write(connection, table, columns, rows)
            written = time.perf_counter() - started - generated
        indexed = time.perf_counter() - started - generated - written
        if not postgresql:
            connection.execute(text("ANALYZE"))
    if postgresql:
        # Fresh statistics, as a database that has been running would have, and the visibility
        # map that (auto)vacuum keeps on a live database, which index-only scans need.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    seconds = time.perf_counter() - started
    current = {
        issuance.locode
        for issuance in issued
        if issuance.status is CertificateStatus.ACTIVE
        and issuance.valid_from <= now < issuance.valid_from + 3 * YEAR
    }
    return Seeded(
        locodes=[c["locode"] for c in city_data],
        names=[c["name"] for c in city_data],
        certificate_ids=[issuance.id for issuance in issued[::CERTIFICATE_SAMPLE]],
        seconds=seconds,
        generated=generated,
        written=written,
        indexed=indexed,
        analysed=seconds - generated - written - indexed,
        certified=len(current),
    )


class Issuance(NamedTuple):
    """One certificate of the seeded history, before it becomes a row of either registry (a
    named tuple: a million are made, and a tuple is made fastest)."""

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
    """PostgreSQL: the rows through one binary COPY, in the connection's transaction, frozen (the
    table was truncated in it: see `bulk_load`).

    Binary: psycopg writes each value in the column's own binary form (a list as JSON text for a
    `json` column), which PostgreSQL stores without parsing text."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    name = table.__tablename__
    types: dict[str, int] = dict(
        connection.execute(
            text(
                "SELECT attname, CAST(atttypid AS integer) FROM pg_attribute"
                " WHERE attrelid = CAST(:table AS regclass) AND attnum > 0"
            ),
            {"table": name},
        ).all()
    )
    with (
        driver.cursor() as cursor,
        cursor.copy(
            f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY, FREEZE)"
        ) as copy,
    ):
        copy.set_types([types[column] for column in columns])
        for row in rows:
            copy.write_row(row)


# What `bulk_load` changes for the load and restores: every index and primary key, unique and
# exclusion constraint of the loaded tables and every foreign key from or to them (each with its
# definition), and how each of the tables' columns is stored.
SCHEMA_OF_TABLES = """
SELECT 'constraint' AS kind, con.conrelid::regclass::text AS on_table,
       quote_ident(con.conname) AS name, pg_get_constraintdef(con.oid) AS definition,
       con.contype = 'f' AS foreign_key
  FROM pg_constraint con
 WHERE con.contype IN ('p', 'u', 'x') AND con.conrelid = ANY(CAST(:tables AS regclass[]))
    OR con.contype = 'f' AND (con.conrelid = ANY(CAST(:tables AS regclass[]))
                              OR con.confrelid = ANY(CAST(:tables AS regclass[])))
UNION ALL
SELECT 'index', ind.indrelid::regclass::text, ind.indexrelid::regclass::text,
       pg_get_indexdef(ind.indexrelid), false
  FROM pg_index ind
 WHERE ind.indrelid = ANY(CAST(:tables AS regclass[]))
   AND NOT EXISTS (SELECT FROM pg_constraint con
                    WHERE con.conindid = ind.indexrelid AND con.conrelid = ind.indrelid
                      AND con.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'storage', att.attrelid::regclass::text, quote_ident(att.attname),
       att.attstorage::text, false
  FROM pg_attribute att
 WHERE att.attrelid = ANY(CAST(:tables AS regclass[])) AND att.attnum > 0
   AND NOT att.attisdropped
 ORDER BY 1, 2, 3
"""
STORAGE = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}


@contextlib.contextmanager
def bulk_load(
    connection: Connection, tables: list[Table], *, incompressible: tuple[str, ...] = ()
) -> Iterator[None]:
    """PostgreSQL: the empty `tables` without indexes and constraints while they are loaded, as
    PostgreSQL's "Populating a Database" advises; all of them made again after.

    An index built once over a million rows costs a fraction of a million insertions into it,
    and a foreign key added to a full table is checked by one join instead of a trigger per row.
    The tables are truncated (they are empty) in the loading transaction, so that COPY may write
    its rows frozen (`COPY ... FREEZE`) and the VACUUM after it has no page to rewrite. The
    `incompressible` columns are stored out of line uncompressed for the load (`STORAGE
    EXTERNAL`), as PostgreSQL's compression (pglz) would leave them after trying in vain for
    every row. What the catalogue holds after the load is asserted to be what it held before."""
    parameters = {"tables": [table.name for table in tables]}
    schema = connection.execute(text(SCHEMA_OF_TABLES), parameters).all()
    # Generous memory for the sorts of the index builds and the joins of the foreign keys' checks.
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    connection.execute(text("SET LOCAL work_mem = '256MB'"))
    for kind, on_table, name, _definition, _foreign_key in sorted(
        schema, key=lambda row: not row.foreign_key
    ):
        if kind == "constraint":
            connection.execute(text(f"ALTER TABLE {on_table} DROP CONSTRAINT {name}"))
        elif kind == "index":
            connection.execute(text(f"DROP INDEX {name}"))
        elif name in incompressible:
            connection.execute(text(f"ALTER TABLE {on_table} ALTER {name} SET STORAGE EXTERNAL"))
    for table in tables:
        assert not connection.execute(select(exists().select_from(table))).scalar_one()
    connection.execute(text(f"TRUNCATE {', '.join(table.name for table in tables)}"))
    yield
    for kind, on_table, name, definition, _foreign_key in sorted(
        schema, key=lambda row: (row.kind == "constraint", row.foreign_key)
    ):
        if kind == "constraint":
            connection.execute(text(f"ALTER TABLE {on_table} ADD CONSTRAINT {name} {definition}"))
        elif kind == "index":
            connection.execute(text(definition))
        elif name in incompressible:
            connection.execute(
                text(f"ALTER TABLE {on_table} ALTER {name} SET STORAGE {STORAGE[definition]}")
            )
    restored = connection.execute(text(SCHEMA_OF_TABLES), parameters).all()
    assert restored == schema, "the load left other indexes, constraints or storage than it found"


def stored_uncompressed(connection: Connection, value: str) -> bool:
    """Whether PostgreSQL stores `value` in a text column uncompressed (compression would not
    shrink it enough to keep), as it then does every row's `DUMMY_TOKEN`."""
    connection.execute(text("CREATE TEMPORARY TABLE probe (value text)"))
    connection.execute(text("INSERT INTO probe VALUES (:value)"), {"value": value})
    compression = connection.execute(
        text("SELECT pg_column_compression(value) FROM probe")
    ).scalar_one()
    connection.execute(text("DROP TABLE probe"))
    return compression is None


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

    rebuilt = (
        f"indexes and constraints {seeded.indexed:.1f} s, VACUUM "
        if backend == "postgresql"
        else ""
    )
    print(
        f"{backend}, {registry} registry: {cities:,} cities ({seeded.certified:,} certified now), "
        f"{certificates:,} certificates (seeded in {seeded.seconds:.1f} s: status lists and "
        f"cities {seeded.generated:.1f} s, certificates made and all rows written "
        f"{seeded.written:.1f} s, {rebuilt}ANALYZE {seeded.analysed:.1f} s); "
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
        small_by_backend = {
            backend: max(
                run(
                    backend,
                    registry,
                    cities=args.cities,
                    certificates=args.certificates,
                    requests=args.requests,
                )
                for registry in registries
            )
            for backend in ("sqlite", "postgresql")
            if backend == "sqlite" or reachable
        }
        # The large scale runs on PostgreSQL only, so its baseline is PostgreSQL's small scale.
        small = small_by_backend.get("postgresql", small_by_backend["sqlite"])
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
