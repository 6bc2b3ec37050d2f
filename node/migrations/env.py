"""Alembic environment: the engine comes from the node (`db.migrate`), never from an ini file."""

from __future__ import annotations

from alembic import context

from sdgcities.node.tables import metadata

engine = context.config.attributes["engine"]


def _include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    # Full-text search tables (SQLite FTS5 and its shadow tables) are created by hand in their
    # migration, not from the models: autogenerate must not propose to drop them.
    return not (type_ == "table" and name is not None and name.startswith("catalogue_tool_fts"))


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )
    context.run_migrations()
