"""Shared fixtures: the database backends every database test runs on, and the standards check
that every certificate the suite issues passes.

SQLite is the embedded default; PostgreSQL (127.0.0.1:5432, user postgres) is what ministries run.
PostgreSQL tests skip only when no server is reachable and CI is not set; under CI they fail.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import make_url

from sdgcities.credentials import CertificateIssue, SigningKey
from sdgcities.node.config import PasswordHashCost
from tests.standards.conformance import check_certificate

# The machines are shared and noisy: a property is about correctness, never about time, so no
# per-example deadline and no "too slow" health check (they made runs flaky under load).
settings.register_profile("sdgcities", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sdgcities")

POSTGRES_ADMIN_URL = os.environ.get(
    "SDGCITIES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")
# Argon2id at its standard cost is a quarter of a CPU second per password hashed or checked: over
# half the time of the web pages' tests went to it. The tests' apps, served nodes and accounts
# hash at the least cost; tests/node/test_passwords.py, which is about the hashes, does not.
TEST_PASSWORD_HASH_COST = PasswordHashCost.MINIMAL
# Connections the session's last clean-up opens at once (the server is shared; 100 by default).
DROPS_AT_ONCE = 8


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests but {POSTGRES_ADMIN_URL} is unreachable")
    pytest.skip("PostgreSQL is not reachable (set CI=true to make this a failure)")


class TemporaryDatabases:
    """Creates throwaway databases (a SQLite file, or a PostgreSQL database) and drops them."""

    def __init__(self, tmp_root: Path) -> None:
        self._tmp_root = tmp_root
        self._postgres: list[str] = []
        self._migrated: dict[str, str] = {}

    def create(self, backend: str, *, template: str | None = None) -> str:
        if backend == "sqlite":
            path = self._tmp_root / f"{uuid.uuid4().hex}.db"
            if template is not None:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        require_postgres()
        import psycopg

        name = f"sdgcities_test_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template is not None else ""
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"{copy}')
        self._postgres.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def create_migrated(self, backend: str) -> str:
        """A new database at the newest revision, empty but for what the migrations insert.

        Migrating from empty takes seconds; the first call per backend does it (so the
        migrations still run in every session), later ones copy that database: its SQLite file,
        or PostgreSQL's `CREATE DATABASE ... TEMPLATE`, which wants no one connected to it."""
        if backend not in self._migrated:
            from sdgcities.node.db import make_engine, migrate

            url = self.create(backend)
            engine = make_engine(url)
            try:
                migrate(engine)
                if backend == "sqlite":  # the whole database in its file, none in the WAL
                    with engine.connect() as connection:
                        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            self._migrated[backend] = make_url(url).database or ""
        return self.create(backend, template=self._migrated[backend])

    def drop_all(self) -> None:
        """Drops them side by side: each DROP DATABASE waits for a checkpoint, and drops that
        wait together share one (one at a time they took over a second each on a busy disk)."""
        if not self._postgres:
            return
        import psycopg

        def drop(name: str) -> None:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        with ThreadPoolExecutor(max_workers=DROPS_AT_ONCE) as pool:
            list(pool.map(drop, self._postgres))


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporaryDatabases]:
    created = TemporaryDatabases(tmp_path_factory.mktemp("databases"))
    yield created
    created.drop_all()


@pytest.fixture(scope="session", autouse=True)
def issued_certificates_conform() -> Iterator[None]:
    """Every certificate signed in this process, by a node or a test, through
    `CertificateIssue.sign`, is checked before the token is handed back: the OB 3.0 JSON Schema
    and a JSON-LD expansion that must drop nothing (`tests/standards/conformance.py`). Nodes
    started as separate processes (tests/integration) are not covered; the same code issues
    their certificates."""
    sign = CertificateIssue.sign

    @cache  # many tests sign the very same payload (the vectors' fixed federation)
    def check_payload(segment: str) -> None:
        check_certificate(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))

    def checked_sign(issue: CertificateIssue, key: SigningKey, *, issued_at: datetime) -> str:
        token = sign(issue, key, issued_at=issued_at)
        check_payload(token.split(".")[1])
        return token

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CertificateIssue, "sign", checked_sign)
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, each group in its files' order (so module and session fixtures are
    still set up once per worker in a row). In file order the browser tests came last, the
    federation journey among them: minutes on one worker while the other had nothing left to
    take. Long tasks first, short ones to even out the end, is what keeps both workers busy.

    This needs `--dist worksteal` (the Makefile's): xdist's default `load` hands each worker a
    first chunk of a quarter of its share, so the first worker got every slow test and ran them
    alone for minutes after the other had finished. Work stealing splits the list in halves and
    lets an idle worker take the tail of the other's, so only the last test can run alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
