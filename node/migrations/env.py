"""Alembic environment: the engine comes from the node (`db.migrate`), never from an ini file."""

from __future__ import annotations

from alembic import context

from sdgcities.node.migrations import include_name
from sdgcities.node.tables import metadata

engine = context.config.attributes["engine"]


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    context.run_migrations()
