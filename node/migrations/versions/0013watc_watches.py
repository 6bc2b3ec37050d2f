"""watches: investors watch a city, a country or a certificate (email or signed webhook)

Revision ID: 0013watc
Revises: 0013endo
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0013watc"
down_revision: str | None = "0013endo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    op.create_table(
        "watch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "target_kind", _enum("watchtarget", "city", "country", "certificate"), nullable=False
        ),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("channel", _enum("watchchannel", "email", "webhook"), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("confirmation_hash", sa.String(length=64), nullable=True),
        sa.Column("confirmation_expires_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("from_sequence", sa.Integer(), nullable=True),
        sa.Column("cancel_secret", sa.String(length=64), nullable=False),
        sa.Column("cancelled_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("failing_since", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cancel_secret"),
        sa.UniqueConstraint("confirmation_hash"),
    )
    with op.batch_alter_table("watch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_client"), ["client"], unique=False)
    op.create_table(
        "watch_delivery",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("event_sequence", sa.Integer(), nullable=False),
        sa.Column("channel", _enum("watchchannel", "email", "webhook"), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("given_up_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["watch_id"], ["watch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("watch_id", "event_sequence", name="uq_watch_delivery"),
    )
    with op.batch_alter_table("watch_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_delivery_watch_id"), ["watch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_watch_delivery_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_watch_delivery_delivered_at"), ["delivered_at"], unique=False
        )
    op.create_table(
        "watch_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The fan-out starts at the log's head: no watch exists yet that earlier events concern.
    op.execute("INSERT INTO watch_cursor (id, sequence) SELECT 1, sequence FROM event_log_head")


def downgrade() -> None:
    op.drop_table("watch_cursor")
    with op.batch_alter_table("watch_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_delivery_delivered_at"))
        batch_op.drop_index(batch_op.f("ix_watch_delivery_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_watch_delivery_watch_id"))
    op.drop_table("watch_delivery")
    with op.batch_alter_table("watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_client"))
        batch_op.drop_index(batch_op.f("ix_watch_email"))
    op.drop_table("watch")
