"""the discussion across countries: the global node's posts, a member node's newest posts

Revision ID: 0017xpost
Revises: 0016xcom
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0017xpost"
down_revision: str | None = "0016xcom"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("posts_across", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.alter_column("posts_across", server_default=None)
    op.create_table(
        "community_federation_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=True),
        sa.Column("city_locode", sa.String(length=6), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("community_federation_post", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_federation_post_community_id"), ["community_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("community_federation_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_federation_post_community_id"))
    op.drop_table("community_federation_post")
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_column("posts_across")
