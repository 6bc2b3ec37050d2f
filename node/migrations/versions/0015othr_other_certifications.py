"""other certifications: a city's results of other certifications and assessments, with their
document or credential, and the ESG indicators it declares (report §30d, §30e)

Revision ID: 0015othr
Revises: 0015fedr
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0015othr"
down_revision: str | None = "0015fedr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEDIA_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "text/plain",
)


def upgrade() -> None:
    op.create_table(
        "other_certification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("scheme", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=100), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("document_digest", sa.String(length=71), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column(
            "document_media_type",
            sa.Enum(
                *MEDIA_TYPES,
                name="mediatype",
                native_enum=False,
                create_constraint=False,
                length=100,
            ),
            nullable=True,
        ),
        sa.Column("document_filename", sa.String(length=120), nullable=True),
        sa.Column("credential", sa.Text(), nullable=True),
        sa.Column("credential_verified", sa.Boolean(), nullable=False),
        sa.Column("credential_issuer", sa.Text(), nullable=True),
        sa.Column("credential_valid_from", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("credential_valid_until", sdgcities.node.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("credential_note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["city_locode"], ["city.locode"]),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_other_certification_city_locode"),
        "other_certification",
        ["city_locode"],
        unique=False,
    )
    op.create_index(
        op.f("ix_other_certification_updated_at"),
        "other_certification",
        ["updated_at"],
        unique=False,
    )
    op.create_table(
        "esg_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["city_locode"], ["city.locode"]),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_locode", "code", "year", name="uq_esg_indicator_city_code_year"),
    )
    op.create_index(
        op.f("ix_esg_indicator_city_locode"), "esg_indicator", ["city_locode"], unique=False
    )
    op.create_index(
        op.f("ix_esg_indicator_updated_at"), "esg_indicator", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_esg_indicator_updated_at"), table_name="esg_indicator")
    op.drop_index(op.f("ix_esg_indicator_city_locode"), table_name="esg_indicator")
    op.drop_table("esg_indicator")
    op.drop_index(op.f("ix_other_certification_updated_at"), table_name="other_certification")
    op.drop_index(op.f("ix_other_certification_city_locode"), table_name="other_certification")
    op.drop_table("other_certification")
