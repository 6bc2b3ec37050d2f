"""Migration 0004reg creates the registry's index as `node.registry.models` declares it."""

from __future__ import annotations

from sqlalchemy import inspect

from sdgcities.node.registry.models import CURRENT_CERTIFICATES

from ..conftest import Backend

OURS = {CURRENT_CERTIFICATES.name}


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
