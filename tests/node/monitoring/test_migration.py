"""The projection and monitoring tables as migrated (0009fedreg) match the models, on both
backends; anomalies and quality reports are append-only."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sdgcities.node.tables import metadata

from ..conftest import Backend

TABLES = frozenset(
    {
        "federation_certificate",
        "federation_city",
        "federation_decision",
        "federation_anomaly",
        "federation_registry_head",
        "node_quality_report",
    }
)
# Per table: a row, then the statements its triggers refuse.
STATEMENTS = {
    "federation_anomaly": (
        "INSERT INTO federation_anomaly (node_id, kind, sequence, event_type, detail, found_at) "
        "VALUES ('KE', 'decision_tally', 1, 'decision.recorded', 'x', "
        "'2026-01-01 00:00:00+00:00')",
        "UPDATE federation_anomaly SET node_id = 'GH'",
        "DELETE FROM federation_anomaly",
    ),
    "node_quality_report": (
        "INSERT INTO node_quality_report (node_id, period_until, score, checks) "
        "VALUES ('KE', '2026-01-01 00:00:00+00:00', 100, '[]')",
        "UPDATE node_quality_report SET score = 0",
        "DELETE FROM node_quality_report",
    ),
}


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


@pytest.mark.parametrize("table", sorted(STATEMENTS))
def test_findings_are_append_only(backend: Backend, table: str) -> None:
    row, *refused = STATEMENTS[table]
    with backend.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text(row))
            for statement in refused:
                with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
                    connection.execute(text(statement))
        finally:
            transaction.rollback()
