"""assistance: cities' requests for technical assistance with their gaps, and their notes

Revision ID: 0014assi
Revises: 0013note
Create Date: 2026-12-06 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0014assi"
down_revision: str | None = "0013note"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistance_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("report_version", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "advice",
                "consultation",
                "tool",
                name="helpkind",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("tool_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "assigned",
                "closed",
                name="requeststate",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("assignee_tool_id", sa.Integer(), nullable=True),
        sa.Column(
            "closure",
            sa.Enum(
                "resolved",
                "declined",
                name="closure",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("closure_reason", sa.Text(), nullable=True),
        sa.Column("asked_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("closed_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["asked_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["assignee_tool_id"],
            ["catalogue_tool.id"],
        ),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_locode"],
            ["city.locode"],
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["catalogue_tool.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assistance_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_request_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assistance_request_city_locode"), ["city_locode"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assistance_request_criterion_code"), ["criterion_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assistance_request_state"), ["state"], unique=False)

    op.create_table(
        "assistance_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["assistance_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("assistance_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_note_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assistance_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_note_request_id"))

    op.drop_table("assistance_note")
    with op.batch_alter_table("assistance_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_request_state"))
        batch_op.drop_index(batch_op.f("ix_assistance_request_criterion_code"))
        batch_op.drop_index(batch_op.f("ix_assistance_request_city_locode"))
        batch_op.drop_index(batch_op.f("ix_assistance_request_application_id"))

    op.drop_table("assistance_request")
