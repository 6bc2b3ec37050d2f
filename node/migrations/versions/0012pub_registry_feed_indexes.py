"""registry feed indexes

Revision ID: 0012pub
Revises: 0011web
Create Date: 2026-12-06 17:40:00

The public pages' feed of registry changes reads the latest awards and status decisions newest
first (declared in `node.registry.models`); written by hand.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012pub"
down_revision: str | None = "0011web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_certificate_issued_at", "certificate", "issued_at"),
    ("ix_certificate_status_changed_at", "certificate", "status_changed_at"),
    ("ix_federation_certificate_issued_at", "federation_certificate", "issued_at"),
    ("ix_federation_certificate_status_changed_at", "federation_certificate", "status_changed_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
