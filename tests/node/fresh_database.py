"""A migrated database of its own, for tests that need real commits across connections.

The savepoint fixtures share one connection per test, so they cannot show what two concurrent
transactions do, nor what a background task commits; these tests use a new database instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from sdgcities.node.db import make_engine
from sdgcities.node.state import NodeState

from ..conftest import TemporaryDatabases
from .conftest import Backend


@contextmanager
def fresh_state(backend: Backend, databases: TemporaryDatabases) -> Iterator[NodeState]:
    """The backend's node state (settings, signing key) on a new, migrated, empty database."""
    engine = make_engine(databases.create_migrated(backend.name))
    try:
        yield dataclasses.replace(backend.app.state.node, engine=engine)
    finally:
        engine.dispose()
