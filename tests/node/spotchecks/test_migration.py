"""A published spot-check round (0007spot) cannot be changed, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..conftest import Backend


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
