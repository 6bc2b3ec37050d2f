"""web sessions: people signed in through the pages

Revision ID: 0011web
Revises: 0010join, 0010stat
Create Date: 2026-12-06 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0011web"
# After every earlier head: the migrations that follow it may touch any older table.
down_revision: tuple[str, ...] = ("0010join", "0010stat")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_web_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("web_session")
