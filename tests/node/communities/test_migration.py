"""The community tables as migrated (0015comm) match the models, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sdgcities.node.tables import metadata

from ..conftest import Backend

TABLES = frozenset(
    {"community", "community_member", "community_event", "community_post", "community_sharing"}
)


def _table_of(diff: Any) -> str | None:
    """The table a difference is about (Alembic nests changes to one column in a list)."""
    if isinstance(diff, list):
        return _table_of(diff[0])
    for part in diff[1:]:
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str) and part in TABLES:
            return part
        name = getattr(part, "name", None)
        if name in TABLES:
            return str(name)
    return None


def test_migration_matches_the_models(backend: Backend) -> None:
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert [diff for diff in differences if _table_of(diff) in TABLES] == []
