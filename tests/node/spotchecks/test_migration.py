"""The spot-check tables as migrated (0007spot) match the models, on both backends, and a
published round cannot be changed."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sdgcities.node.tables import metadata

from ..conftest import Backend

TABLES = frozenset({"spotcheck_round", "spotcheck", "spotcheck_seen_message", "spotcheck_outcome"})


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


def test_a_published_round_is_append_only(backend: Backend) -> None:
    with backend.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                text(
                    "INSERT INTO spotcheck_round (id, rate, window_from, window_until, "
                    "log_sequence, log_hash, candidates, document, digest, drawn_at) VALUES "
                    "(1, 0.1, '2026-01-01 00:00:00+00:00', '2026-02-01 00:00:00+00:00', 0, "
                    "'sha256:0', 0, '{}', 'sha256:0', '2026-02-01 00:00:00+00:00')"
                )
            )
            for statement in (
                "UPDATE spotcheck_round SET rate = 1.0",
                "DELETE FROM spotcheck_round",
            ):
                with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
                    connection.execute(text(statement))
        finally:
            transaction.rollback()
