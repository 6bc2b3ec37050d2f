"""federation: the assistance requests nodes report, by gap, and the renewal link of a
reported certificate (report §25, §37, §18)

Revision ID: 0015fedr
Revises: 0014rene
Create Date: 2026-12-07 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0015fedr"
down_revision: str | None = "0014rene"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "federation_assistance_request",
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("request", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("locode", sa.String(length=6), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("criterion", sa.String(length=32), nullable=False),
        sa.Column("national", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("framework_version", sa.String(length=32), nullable=False),
        sa.Column(
            "requested_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("closure", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", "request"),
    )
    op.create_index(
        "ix_federation_assistance_gap",
        "federation_assistance_request",
        ["national", "criterion"],
        unique=False,
    )
    with op.batch_alter_table("federation_certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renews", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_federation_certificate_renews"), ["renews"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("federation_certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_certificate_renews"))
        batch_op.drop_column("renews")
    op.drop_index("ix_federation_assistance_gap", table_name="federation_assistance_request")
    op.drop_table("federation_assistance_request")
