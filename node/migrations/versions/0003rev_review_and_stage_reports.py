"""review and stage reports

Revision ID: 0003rev
Revises: 0002
Create Date: 2026-11-25 15:49:52.582168

The technical review's tables and the stage reports. A consolidation and every version of a
stage report are kept as they were written: triggers refuse to change or delete them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0003rev"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewer_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_by", sa.Integer(), nullable=True),
        sa.Column("declared_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["city_locode"], ["city.locode"]),
        sa.ForeignKeyConstraint(["declared_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reviewer_id", "city_locode", name="uq_reviewer_conflict_city"),
    )
    with op.batch_alter_table("reviewer_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviewer_conflict_city_locode"), ["city_locode"], unique=False
        )

    op.create_table(
        "clarification_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.Integer(), nullable=True),
        sa.Column("asked_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["answered_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.ForeignKeyConstraint(["asked_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clarification_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clarification_request_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "review_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.ForeignKeyConstraint(["assigned_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "reviewer_id", name="uq_review_assignment_reviewer"),
    )
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_assignment_reviewer_id"), ["reviewer_id"], unique=False
        )

    op.create_table(
        "criterion_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=18), nullable=False),
        sa.Column(
            "verdict",
            sa.Enum("met", "partly_met", "not_met", name="verdict", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["review_assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "assignment_id",
            "criterion_code",
            name="uq_criterion_assessment_assignment_criterion",
        ),
    )

    op.create_table(
        "review_consolidation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("lead_assignment_id", sa.Integer(), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column(
            "recommendation",
            sa.Enum(
                "recommended",
                "not_recommended",
                name="recommendation",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "consolidated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.ForeignKeyConstraint(["lead_assignment_id"], ["review_assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", name="uq_review_consolidation_application"),
    )
    make_append_only("review_consolidation")

    op.create_table(
        "stage_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("generated_by", sa.Integer(), nullable=True),
        sa.Column(
            "generated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.ForeignKeyConstraint(["generated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "application_id", "version", name="uq_stage_report_application_version"
        ),
    )
    make_append_only("stage_report")


def downgrade() -> None:
    drop_append_only("stage_report")
    op.drop_table("stage_report")
    drop_append_only("review_consolidation")
    op.drop_table("review_consolidation")
    op.drop_table("criterion_assessment")
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_assignment_reviewer_id"))
    op.drop_table("review_assignment")
    with op.batch_alter_table("clarification_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clarification_request_application_id"))
    op.drop_table("clarification_request")
    with op.batch_alter_table("reviewer_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_conflict_city_locode"))
    op.drop_table("reviewer_conflict")
