"""The global node with reporting members (as tests/node/federation_registry)."""

from __future__ import annotations

from ..federation_registry.conftest import (  # noqa: F401 - fixtures
    backend,
    client,
    make_log,
    make_member,
    secretariat,
)
