"""The watch tables as migrated (0013watc) match the models, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, select

from sdgcities.node.events.service import log_head
from sdgcities.node.tables import metadata
from sdgcities.node.watches.models import WatchCursor

from ..conftest import Backend

TABLES = frozenset({"watch", "watch_delivery", "watch_cursor"})


def _table_of(diff: Any) -> str | None:
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
    assert [diff for diff in differences if _table_of(diff) in TABLES] == []


def test_the_cursor_starts_at_the_log_head(session: Session) -> None:
    cursor = session.exec(select(WatchCursor)).one()
    assert cursor.id == 1
    assert cursor.sequence <= log_head(session=session).sequence
