"""Migration 0008glob adds exactly what the models describe to `application` and
`committee_meeting`."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sdgcities.node import tables

from ..conftest import Backend

TOUCHED_TABLES = {"application", "committee_meeting"}


def _table_of(diff: tuple) -> str | None:
    for item in diff[1:]:
        name = getattr(item, "name", None) if not hasattr(item, "table") else item.table.name
        if isinstance(name, str):
            return name
    return None


def test_the_migrated_tables_match_the_models(backend: Backend) -> None:
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, tables.metadata)
        columns = {
            table: {column["name"] for column in inspect(connection).get_columns(table)}
            for table in TOUCHED_TABLES
        }
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    assert [diff for diff in flat if _table_of(diff) in TOUCHED_TABLES] == []
    assert "language" in columns["application"]
    assert {"plan_year", "plan_slot"} <= columns["committee_meeting"]
