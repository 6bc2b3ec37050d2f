"""The review's migration (0003rev) creates exactly the tables its models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sdgcities.node import tables

from ..conftest import Backend

OWN_TABLES = {
    "reviewer_conflict",
    "review_assignment",
    "criterion_assessment",
    "clarification_request",
    "review_consolidation",
    "stage_report",
}


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
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    ours = [diff for diff in flat if _table_of(diff) in OWN_TABLES]
    assert ours == []
    present = set(tables.metadata.tables)
    assert present >= OWN_TABLES
