"""event log and status lists

Revision ID: 0002b
Revises: 0001
Create Date: 2026-11-25 15:31:33.119301
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0002b"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The prevHash of a log's first event (sdgcities.federation.GENESIS_HASH), written out so that
# this migration keeps its meaning whatever the code becomes.
GENESIS_HASH = "sha256:" + "0" * 64


def upgrade() -> None:
    event_log_head = op.create_table(
        "event_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=71), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one head row exists from the start: appends lock it, and two first appends racing to
    # insert it would otherwise both believe they write event 1.
    op.bulk_insert(event_log_head, [{"id": 1, "sequence": 0, "hash": GENESIS_HASH}])

    op.create_table(
        "event_record",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "application.submitted",
                "application.withdrawn",
                "review.completed",
                "report.generated",
                "meeting.held",
                "decision.recorded",
                "credential.issued",
                "credential.suspended",
                "credential.reinstated",
                "credential.revoked",
                "framework.adapted",
                "framework.endorsed",
                "key.rotated",
                "spotcheck.selected",
                "spotcheck.result",
                "node.joined",
                name="eventtype",
                native_enum=False,
                length=64,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=71), nullable=False),
        sa.Column("hash", sa.String(length=71), nullable=False),
        sa.PrimaryKeyConstraint("sequence"),
        sa.UniqueConstraint("hash"),
    )
    make_append_only("event_record")

    op.create_table(
        "status_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allocator_key", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "status_list",
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("revocation", "suspension", name="statuspurpose", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("valid_from", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["status_pair.id"],
        ),
        sa.PrimaryKeyConstraint("list_id"),
        sa.UniqueConstraint("pair_id", "purpose", name="uq_status_list_pair_purpose"),
    )
    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_list_pair_id"), ["pair_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_list_pair_id"))

    op.drop_table("status_list")
    op.drop_table("status_pair")
    drop_append_only("event_record")
    op.drop_table("event_record")
    op.drop_table("event_log_head")
