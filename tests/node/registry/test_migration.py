"""Migration 0004reg creates the registry's index as `node.registry.models` declares it."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sdgcities.node import tables
from sdgcities.node.registry.models import CURRENT_CERTIFICATES

from ..conftest import Backend

OURS = {CURRENT_CERTIFICATES.name}


def _index_name(diff: Any) -> str | None:
    index = diff[1] if isinstance(diff, tuple) and len(diff) > 1 else None
    return getattr(index, "name", None) if diff[0] in ("add_index", "remove_index") else None


def test_the_indexes_exist_with_their_columns(backend: Backend) -> None:
    inspector = inspect(backend.engine)
    found = {index["name"]: index["column_names"] for index in inspector.get_indexes("certificate")}
    assert found[CURRENT_CERTIFICATES.name] == [
        "status",
        "valid_until",
        "valid_from",
        "city_locode",
        "level",
    ]


def test_the_migration_matches_the_declarations(backend: Backend) -> None:
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, tables.metadata)
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    assert [diff for diff in flat if _index_name(diff) in OURS] == []
