"""fees: the fee schedule, countries' income groups, fee decisions and records

Revision ID: 0014fees
Revises: 0014assi
Create Date: 2026-12-06 21:21:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0014fees"
down_revision: str | None = "0014assi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "country_income_group",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column(
            "income_group",
            sa.Enum(
                "low",
                "lower-middle",
                "upper-middle",
                "high",
                name="incomegroup",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("country"),
    )
    op.create_table(
        "fee_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column(
            "income_group",
            sa.Enum(
                "low",
                "lower-middle",
                "upper-middle",
                "high",
                name="incomegroup",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("min_population", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stage", "income_group", "min_population", name="uq_fee_rate_band"),
    )
    op.create_table(
        "fee_decision",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("waived", "reduced", name="feedecisionkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "fee_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("invoice", "payment", name="feerecordkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fee_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fee_record_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fee_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fee_record_application_id"))

    op.drop_table("fee_record")
    op.drop_table("fee_decision")
    op.drop_table("fee_rate")
    op.drop_table("country_income_group")
