"""The node refuses to start on database settings that could lose a committed decision."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from sdgcities.node.db import check_durability, make_engine
from sdgcities.node.errors import UnsafeDatabaseSettings

from ..conftest import TemporaryDatabases


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    check_durability(engine)
    engine.dispose()


def test_sqlite_without_wal_is_refused(tmp_path: Path) -> None:
    # A plain engine, as an operator's own tooling might build: rollback journal, NORMAL sync.
    engine = create_engine(f"sqlite:///{tmp_path / 'node.db'}")
    with pytest.raises(UnsafeDatabaseSettings, match="journal_mode=WAL and synchronous=FULL"):
        check_durability(engine)
    engine.dispose()


def test_postgresql_with_synchronous_commit_on_is_accepted(databases: TemporaryDatabases) -> None:
    engine = make_engine(databases.create("postgresql"))
    check_durability(engine)
    engine.dispose()


def test_postgresql_without_synchronous_commit_is_refused(databases: TemporaryDatabases) -> None:
    url = databases.create("postgresql")
    engine = make_engine(url, connect_args={"options": "-c synchronous_commit=off"})
    with pytest.raises(UnsafeDatabaseSettings, match="found synchronous_commit=off"):
        check_durability(engine)
    engine.dispose()
