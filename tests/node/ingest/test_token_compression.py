"""The signed tokens the global node ingests are compressed with lz4 on PostgreSQL (migration
0018lz4), where the server offers it: pglz took a third of the database's CPU at ingest."""

from __future__ import annotations

import base64
import os

from sqlalchemy import Connection, text
from sqlmodel import Session

from sdgcities.node.db import make_engine
from sdgcities.node.ingest.models import ReceivedReport, ReportSource
from sdgcities.node.timeutil import utcnow

from ...conftest import TemporaryDatabases

TOKEN_COLUMNS = {"received_report", "federation_certificate"}


def _lz4_offered(connection: Connection) -> bool:
    offered = connection.execute(
        text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    )
    return bool(offered.scalar())


def test_a_stored_reports_token_is_compressed_with_lz4(databases: TemporaryDatabases) -> None:
    engine = make_engine(databases.create_migrated("postgresql"))
    # A report's text: base64url of JSON that repeats itself, as a report's events do.
    token = base64.urlsafe_b64encode(b'{"type":"credential.issued","sequence":1}' * 4000).decode()
    try:
        with Session(engine) as session:
            session.add(
                ReceivedReport(
                    node_id="KE",
                    token_sha256=os.urandom(32).hex(),
                    token=token,
                    first=1,
                    last=100,
                    issued_at=utcnow(),
                    source=ReportSource.PUSHED,
                )
            )
            session.commit()
        with engine.connect() as connection:
            expected = "l" if _lz4_offered(connection) else ""
            columns = connection.execute(
                text(
                    "SELECT attrelid::regclass::text, attcompression FROM pg_attribute "
                    "WHERE attname = 'token' AND attrelid::regclass::text = ANY(:tables)"
                ),
                {"tables": sorted(TOKEN_COLUMNS)},
            ).all()
            stored = connection.execute(
                text("SELECT pg_column_compression(token) FROM received_report")
            ).scalar()
    finally:
        engine.dispose()

    assert dict(columns) == dict.fromkeys(TOKEN_COLUMNS, expected)
    assert stored == ("lz4" if expected else "pglz")
