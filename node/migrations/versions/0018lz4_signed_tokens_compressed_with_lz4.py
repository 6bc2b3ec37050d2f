"""the signed tokens the global node ingests are compressed with lz4 on PostgreSQL

PostgreSQL compresses a long value with pglz unless a column says otherwise. On the base64url
text of a signed report (about 270 kB for 100 events) and of each certificate it holds, pglz took
about a third of the database's CPU during ingest: 97 µs an event, 66 µs with lz4, measured with
bench/ingest.py (issue 17). lz4 is PostgreSQL's other method (version 14 on, in a server built
with it, as Debian's and the official images are); a server without it keeps the default. Rows
already stored keep their compression until they are written again. SQLite compresses nothing.

Revision ID: 0018lz4
Revises: 0017xpost
Create Date: 2026-12-07 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018lz4"
down_revision: str | None = "0017xpost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN_COLUMNS = (("received_report", "token"), ("federation_certificate", "token"))


def _lz4_available() -> bool:
    offered = op.get_bind().execute(
        sa.text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    )
    return bool(offered.scalar())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql" or not _lz4_available():
        return
    for table, column in TOKEN_COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in TOKEN_COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION DEFAULT")
