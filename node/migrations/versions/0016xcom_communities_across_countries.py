"""communities across countries: the global node's members and deliveries, a member node's
invitations from the global node

Revision ID: 0016xcom
Revises: 0015comm
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0016xcom"
down_revision: str | None = "0015comm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.alter_column("formed_by", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("global_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("joined_elsewhere", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.create_unique_constraint(batch_op.f("uq_community_global_id"), ["global_id"])
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.alter_column("revision", server_default=None)
        batch_op.alter_column("joined_elsewhere", server_default=None)
    with op.batch_alter_table("community_event", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("global_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("cancelled_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "community_federation_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "consent", _enum("invited", "joined", "declined", name="consent"), nullable=False
        ),
        sa.Column("invited_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("answered_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "city_locode", name="uq_community_federation_member"),
    )
    with op.batch_alter_table("community_federation_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_federation_member_community_id"),
            ["community_id"],
            unique=False,
        )
    op.create_table(
        "community_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("delivered_revision", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "node_id", name="uq_community_delivery_node"),
    )
    with op.batch_alter_table("community_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_community_delivery_community_id"), ["community_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("community_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_delivery_community_id"))
    op.drop_table("community_delivery")
    with op.batch_alter_table("community_federation_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_federation_member_community_id"))
    op.drop_table("community_federation_member")
    with op.batch_alter_table("community_event", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("global_id")
        batch_op.alter_column("created_by", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_community_global_id"), type_="unique")
        batch_op.drop_column("joined_elsewhere")
        batch_op.drop_column("revision")
        batch_op.drop_column("global_id")
        batch_op.alter_column("formed_by", existing_type=sa.Integer(), nullable=False)
