"""trust registry

Revision ID: 0005mem
Revises: 0004reg
Create Date: 2026-11-25 16:24:33.821146
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0005mem"
down_revision: str | None = "0004reg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "join_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                name="joinrequeststate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_join_request_node_id"), ["node_id"], unique=False)

    op.create_table(
        "member_node",
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("did", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_url", sa.String(length=512), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "suspended", "withdrawn", name="nodestatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status_since", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("joined_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id"),
        sa.UniqueConstraint("did"),
    )
    op.create_table(
        "published_trust_list",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("issued_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_update", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence"),
    )
    op.create_table(
        "member_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("jwk", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "retired", "compromised", name="keystatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("valid_from", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_since", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["member_node.node_id"],
        ),
        sa.PrimaryKeyConstraint("kid"),
    )
    with op.batch_alter_table("member_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_key_node_id"), ["node_id"], unique=False)

    op.create_table(
        "member_node_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "suspended", "withdrawn", name="nodestatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["member_node.node_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_node_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_node_history_node_id"), ["node_id"], unique=False
        )
    make_append_only("member_node_history")

    op.create_table(
        "endorsement_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("document", sa.String(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "endorsed",
                "refused",
                name="endorsementstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("endorsement_jws", sa.String(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["member_node.node_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("endorsement_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_endorsement_request_node_id"), ["node_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("endorsement_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endorsement_request_node_id"))
    op.drop_table("endorsement_request")
    drop_append_only("member_node_history")
    with op.batch_alter_table("member_node_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_node_history_node_id"))

    op.drop_table("member_node_history")
    with op.batch_alter_table("member_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_key_node_id"))

    op.drop_table("member_key")
    op.drop_table("published_trust_list")
    op.drop_table("member_node")
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_join_request_node_id"))

    op.drop_table("join_request")
