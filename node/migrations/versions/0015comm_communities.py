"""communities: learning communities of cities sharing gaps, consent, events, posts, sharing

Revision ID: 0015comm
Revises: 0015othr
Create Date: 2026-12-07 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0015comm"
down_revision: str | None = "0015othr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("gap_texts", sa.JSON(), nullable=False),
        sa.Column("formed_by", sa.Integer(), nullable=False),
        sa.Column("formed_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["formed_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "community_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column(
            "consent", _enum("invited", "joined", "declined", name="consent"), nullable=False
        ),
        sa.Column("invited_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("answered_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["answered_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["city_locode"], ["city.locode"]),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "city_locode", name="uq_community_member_city"),
    )
    with op.batch_alter_table("community_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_member_city_locode"), ["city_locode"], unique=False
        )
    op.create_table(
        "community_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("webinar", "peer_exchange", name="eventkind"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("community_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_event_community_id"), ["community_id"], unique=False
        )
    op.create_table(
        "community_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["city_locode"], ["city.locode"]),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("community_post", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_post_community_id"), ["community_id"], unique=False
        )
    op.create_table(
        "community_sharing",
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("share", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["city_locode"], ["city.locode"]),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("city_locode"),
    )


def downgrade() -> None:
    op.drop_table("community_sharing")
    with op.batch_alter_table("community_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_post_community_id"))
    op.drop_table("community_post")
    with op.batch_alter_table("community_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_event_community_id"))
    op.drop_table("community_event")
    with op.batch_alter_table("community_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_member_city_locode"))
    op.drop_table("community_member")
    op.drop_table("community")
