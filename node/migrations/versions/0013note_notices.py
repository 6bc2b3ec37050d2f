"""notices: people's notice preferences, the periodic notices sent, the outbox's invitations

Revision ID: 0013note
Revises: 0013watc
Create Date: 2026-12-06 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0013note"
down_revision: str | None = "0013watc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.Text(), nullable=True))
    op.create_table(
        "notice_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("muted", sa.JSON(), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "notice_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "clarification_asked",
                "clarification_answered",
                "review_assigned",
                "meeting_scheduled",
                "decision_taken",
                "certificate_changed",
                "certificate_expiring",
                "node_silent",
                "node_alarm",
                name="noticekind",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject", name="uq_notice_sent_kind_subject"),
    )


def downgrade() -> None:
    op.drop_table("notice_sent")
    op.drop_table("notice_preference")
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_column("calendar")
