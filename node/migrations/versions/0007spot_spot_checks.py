"""spot-checks: rounds and checks (global node), outcomes received and message ids seen

Revision ID: 0007spot
Revises: 0005mem
Create Date: 2026-11-25 18:05:03.086435
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0007spot"
down_revision: str | None = "0005mem"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spotcheck_seen_message",
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("typ", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_table(
        "spotcheck_round",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("window_from", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "window_until", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("log_sequence", sa.Integer(), nullable=False),
        sa.Column("log_hash", sa.String(length=71), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("drawn_by", sa.Integer(), nullable=True),
        sa.Column("drawn_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drawn_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "spotcheck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("locode", sa.String(length=16), nullable=False),
        sa.Column("credential_id", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "selected",
                "dossier_fetched",
                "confirmed",
                "not_confirmed",
                name="checkstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("dossier", sa.JSON(), nullable=True),
        sa.Column("dossier_digest", sa.String(length=71), nullable=True),
        sa.Column("fetched_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome_token", sa.Text(), nullable=True),
        sa.Column("delivered_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["spotcheck_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "node_id", "application_id", name="uq_spotcheck_selection"),
    )
    with op.batch_alter_table("spotcheck", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spotcheck_round_id"), ["round_id"], unique=False)

    op.create_table(
        "spotcheck_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum("confirmed", "not_confirmed", name="outcome", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["certificate_proposal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "application_id", name="uq_spotcheck_outcome_round"),
    )
    with op.batch_alter_table("spotcheck_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spotcheck_outcome_application_id"), ["application_id"], unique=False
        )

    # A published round is what anyone recomputes: it never changes.
    make_append_only("spotcheck_round")


def downgrade() -> None:
    drop_append_only("spotcheck_round")
    with op.batch_alter_table("spotcheck_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spotcheck_outcome_application_id"))

    op.drop_table("spotcheck_outcome")
    with op.batch_alter_table("spotcheck", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spotcheck_round_id"))

    op.drop_table("spotcheck")
    op.drop_table("spotcheck_round")
    op.drop_table("spotcheck_seen_message")
