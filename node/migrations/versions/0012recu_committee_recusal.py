"""committee recusal: a member stands aside from an agenda item for a conflict of interest

Revision ID: 0012recu
Revises: 0011web
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0012recu"
down_revision: str | None = "0011web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "committee_recusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["agenda_item.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "member_id", name="uq_committee_recusal_member"),
    )
    with op.batch_alter_table("committee_recusal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committee_recusal_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("committee_recusal")
