"""Anomalies and quality reports (0009fedreg) are append-only, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..conftest import Backend

# Per table: a row, then the statements its triggers refuse.
STATEMENTS = {
    "federation_anomaly": (
        "INSERT INTO federation_anomaly (node_id, kind, sequence, event_type, detail, found_at) "
        "VALUES ('KE', 'decision_tally', 1, 'decision.recorded', 'x', "
        "'2026-01-01 00:00:00+00:00')",
        "UPDATE federation_anomaly SET node_id = 'GH'",
        "DELETE FROM federation_anomaly",
    ),
    "node_quality_report": (
        "INSERT INTO node_quality_report (node_id, period_until, score, checks) "
        "VALUES ('KE', '2026-01-01 00:00:00+00:00', 100, '[]')",
        "UPDATE node_quality_report SET score = 0",
        "DELETE FROM node_quality_report",
    ),
}


@pytest.mark.parametrize("table", sorted(STATEMENTS))
def test_findings_are_append_only(backend: Backend, table: str) -> None:
    row, *refused = STATEMENTS[table]
    with backend.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text(row))
            for statement in refused:
                with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
                    connection.execute(text(statement))
        finally:
            transaction.rollback()
