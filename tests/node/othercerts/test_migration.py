"""The other-certification tables as migrated (0015othr) match the models, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sdgcities.node.tables import metadata

from ..conftest import Backend

TABLES = ("other_certification", "esg_indicator")


def test_migration_matches_the_models(backend: Backend) -> None:
    with backend.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert [diff for diff in differences if any(name in str(diff) for name in TABLES)] == []
