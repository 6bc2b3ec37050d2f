"""What several benchmarks share: a scratch database on either backend, and a free port.

PostgreSQL is reached at $SDGCITIES_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres); each run creates its own database and drops it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POSTGRES_ADMIN_URL = os.environ.get(
    "SDGCITIES_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def temporary_database(backend: str, scratch: Path) -> Iterator[str]:
    """The URL of an empty database: a file in `scratch` (sqlite), or a new PostgreSQL one."""
    if backend == "sqlite":
        yield f"sqlite:///{scratch / 'bench.db'}"
        return
    import psycopg

    name = f"sdgcities_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
