"""registry indexes

Revision ID: 0004reg
Revises: 0002c, 0003cat, 0003com, 0003rev
Create Date: 2026-11-25 17:00:00

The public registry's read index (declared in `node.registry.models`); written by hand. Also
the merge point of the branches open when it was written.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004reg"
down_revision: tuple[str, ...] = ("0002c", "0003cat", "0003com", "0003rev")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_certificate_registry_current",
        "certificate",
        ["status", "valid_until", "valid_from", "city_locode", "level"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_certificate_registry_current", table_name="certificate")
