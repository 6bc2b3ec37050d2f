"""trust list copy

Revision ID: 0002c
Revises: 0001
Create Date: 2026-11-25 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0002c"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trust_list_copy",
        sa.Column("sequence", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("issued_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_update", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence"),
    )


def downgrade() -> None:
    op.drop_table("trust_list_copy")
