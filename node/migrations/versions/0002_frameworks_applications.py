"""frameworks and applications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:23:20.395192
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A published framework version never changes (certificates name its digest) and is never
# deleted; only its endorsement may be added. The service refuses such changes, and these
# triggers make sure nothing else makes them either.
_FROZEN_COLUMNS = ("framework_id", "version", "title", "country", "status", "document", "digest")
_FROZEN_MESSAGE = "a published framework version cannot change"


def _freeze_published() -> None:
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FROZEN_COLUMNS)
        op.execute(
            "CREATE OR REPLACE FUNCTION sdgcities_framework_version_frozen() RETURNS trigger AS $$ "
            "BEGIN "
            "IF OLD.status = 'published' AND (TG_OP = 'DELETE' OR " + changed + ") THEN "
            f"RAISE EXCEPTION '{_FROZEN_MESSAGE}'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; "
            "END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER framework_version_frozen BEFORE UPDATE OR DELETE ON framework_version "
            "FOR EACH ROW EXECUTE FUNCTION sdgcities_framework_version_frozen()"
        )
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN_COLUMNS)
    op.execute(
        "CREATE TRIGGER framework_version_frozen BEFORE UPDATE ON framework_version "
        f"WHEN OLD.status = 'published' AND ({changed}) "
        f"BEGIN SELECT RAISE(ABORT, '{_FROZEN_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER framework_version_kept BEFORE DELETE ON framework_version "
        "WHEN OLD.status = 'published' "
        f"BEGIN SELECT RAISE(ABORT, '{_FROZEN_MESSAGE}'); END"
    )


def _unfreeze_published() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS framework_version_frozen ON framework_version")
        op.execute("DROP FUNCTION IF EXISTS sdgcities_framework_version_frozen()")
        return
    op.execute("DROP TRIGGER IF EXISTS framework_version_frozen")
    op.execute("DROP TRIGGER IF EXISTS framework_version_kept")


def upgrade() -> None:
    op.create_table(
        "framework_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "published", name="frameworkstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=True),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("endorsement_jws", sa.Text(), nullable=True),
        sa.Column("endorsed_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["framework_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("framework_id", "version", name="uq_framework_version_id_version"),
    )
    with op.batch_alter_table("framework_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_framework_version_framework_id"), ["framework_id"], unique=False
        )
    _freeze_published()

    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("framework_version_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "withdrawn",
                name="applicationstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["city_locode"],
            ["city.locode"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["framework_version_id"],
            ["framework_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_city_locode"), ["city_locode"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_framework_version_id"),
            ["framework_version_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_application_state"), ["state"], unique=False)

    op.create_table(
        "criterion_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("criterion_code", sa.String(length=18), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("indicator_values", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "application_id", "criterion_code", name="uq_criterion_answer_application_criterion"
        ),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("criterion_code", sa.String(length=18), nullable=False),
        sa.Column("digest", sa.String(length=71), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "media_type",
            sa.Enum(
                "application/pdf",
                "image/png",
                "image/jpeg",
                "text/csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.oasis.opendocument.text",
                "text/plain",
                name="mediatype",
                native_enum=False,
                length=100,
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_locode"],
            ["city.locode"],
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evidence_city_locode"), ["city_locode"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_digest"), ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_digest"))
        batch_op.drop_index(batch_op.f("ix_evidence_city_locode"))
        batch_op.drop_index(batch_op.f("ix_evidence_application_id"))

    op.drop_table("evidence")
    op.drop_table("criterion_answer")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_state"))
        batch_op.drop_index(batch_op.f("ix_application_framework_version_id"))
        batch_op.drop_index(batch_op.f("ix_application_city_locode"))

    op.drop_table("application")
    with op.batch_alter_table("framework_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_framework_version_framework_id"))

    _unfreeze_published()

    op.drop_table("framework_version")
