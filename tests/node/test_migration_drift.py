"""The database the migrations build is the one the models describe: the whole metadata against
the migrated database, on SQLite and on PostgreSQL. A table, column, index or type that a model
declares and no migration creates (or the reverse) fails here, whichever area it belongs to."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from sdgcities.node.migrations import include_name
from sdgcities.node.tables import metadata

from .conftest import Backend


def _differences(backend: Backend, models: MetaData) -> list[Any]:
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return list(compare_metadata(context, models))


def test_the_migrated_database_matches_the_models(backend: Backend) -> None:
    assert _differences(backend, metadata) == []


def test_a_column_no_migration_creates_is_a_difference(backend: Backend) -> None:
    models = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(models)
    models.tables["certificate"].append_column(sa.Column("unmigrated", sa.Integer))
    differences = _differences(backend, models)
    assert [(kind, table, column.name) for kind, _, table, column in differences] == [
        ("add_column", "certificate", "unmigrated")
    ]
