"""The catalogue's migration: its full-text objects on each database, and its downgrade."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from sdgcities.node.db import alembic_config, make_engine

from ...conftest import BACKENDS, TemporaryDatabases

MIGRATION = importlib.import_module("sdgcities.node.migrations.versions.0003cat_tool_catalogue")


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, databases: TemporaryDatabases) -> Iterator[Engine]:
    """A database migrated up to the catalogue's revision: later tables refer to the catalogue
    (technical assistance names a tool), so its own downgrade runs before theirs exist."""
    engine = make_engine(databases.create(request.param))
    command.upgrade(alembic_config(engine), MIGRATION.revision)
    yield engine
    engine.dispose()


def _run(engine: Engine, step: str) -> None:
    with engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            getattr(MIGRATION, step)()


def _fts_objects(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'catalogue_tool' "
                    "UNION SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'catalogue_tool' AND data_type = 'tsvector'"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE tbl_name = 'catalogue_tool' OR name = 'catalogue_tool_fts'"
                )
            )
        return {row[0] for row in rows}


def test_migration_builds_the_index_and_takes_it_down(fresh_engine: Engine) -> None:
    expected = (
        {
            "catalogue_tool_pkey",
            "ix_catalogue_tool_active",
            "ix_catalogue_tool_kind",
            "ix_catalogue_tool_search_vector",
            "search_vector",
        }
        if fresh_engine.dialect.name == "postgresql"
        else {
            "catalogue_tool",
            "catalogue_tool_fts",
            "catalogue_tool_fts_insert",
            "catalogue_tool_fts_update",
            "catalogue_tool_fts_delete",
            "ix_catalogue_tool_active",
            "ix_catalogue_tool_kind",
        }
    )
    assert _fts_objects(fresh_engine) == expected

    _run(fresh_engine, "downgrade")
    assert "catalogue_tool" not in inspect(fresh_engine).get_table_names()
    assert not {"catalogue_tool", "catalogue_tool_fts"} & _fts_objects(fresh_engine)

    _run(fresh_engine, "upgrade")
    assert _fts_objects(fresh_engine) == expected
