"""The account tables and columns as migrated (0012acct) match the models, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sdgcities.node.tables import metadata

from ..conftest import Backend

TABLES = frozenset(
    {"user", "web_session", "sign_in_failure", "one_time_link", "account_request", "mail_outbox"}
)


def _table_of(diff: Any) -> str | None:
    """The table a difference is about (Alembic nests changes to one column in a list)."""
    if isinstance(diff, list):
        return _table_of(diff[0])
    for part in diff[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str) and part in TABLES:
            return part
        if name in TABLES:
            return str(name)
    return None


def test_migration_matches_the_models(backend: Backend) -> None:
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    ours = [diff for diff in differences if _table_of(diff) in TABLES]
    assert ours == []
