"""federation registry and monitoring

Revision ID: 0009fedreg
Revises: 0006ing
Create Date: 2026-11-25 18:23:52.873194

The global node's projection of the ingested logs (`node/federation_registry`: the global
registry's certificates and cities, each node's decisions, the anomalies found, append-only)
and the data-quality reports per node (`node/monitoring`, append-only).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0009fedreg"
down_revision: str | None = "0006ing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("federation_anomaly", "node_quality_report")


def upgrade() -> None:
    op.create_table(
        "federation_anomaly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "certificate_without_decision",
                "status_without_decision",
                "decision_without_quorum",
                "decision_tally",
                "unverifiable_certificate",
                "unknown_certificate",
                name="anomalykind",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("found_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("federation_anomaly", schema=None) as batch_op:
        batch_op.create_index(
            "ix_federation_anomaly_node_found", ["node_id", "found_at"], unique=False
        )

    op.create_table(
        "federation_certificate",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "revoked",
                name="certificatestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status_changed_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("decision_item", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "projected_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("federation_certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_certificate_city_locode"), ["city_locode"], unique=False
        )
        batch_op.create_index(
            "ix_federation_certificate_current",
            ["status", "valid_until", "valid_from", "city_locode", "level"],
            unique=False,
        )
        batch_op.create_index(
            "ix_federation_certificate_node_item", ["node_id", "decision_item"], unique=False
        )

    op.create_table(
        "federation_city",
        sa.Column("locode", sa.String(length=6), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column(
            "facts_issued_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("locode"),
    )
    with op.batch_alter_table("federation_city", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_city_country"), ["country"], unique=False)

    op.create_table(
        "federation_decision",
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("item", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("meeting", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("locode", sa.String(length=6), nullable=False),
        sa.Column("quorum_met", sa.Boolean(), nullable=False),
        sa.Column("tally_consistent", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("decided_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id", "item"),
    )
    op.create_table(
        "federation_registry_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "node_quality_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("period_from", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "period_until", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("node_quality_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_node_quality_report_node_id"), ["node_id"], unique=False
        )

    for table in APPEND_ONLY:
        make_append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        drop_append_only(table)
    with op.batch_alter_table("node_quality_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_node_quality_report_node_id"))

    op.drop_table("node_quality_report")
    op.drop_table("federation_registry_head")
    op.drop_table("federation_decision")
    with op.batch_alter_table("federation_city", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_city_country"))

    op.drop_table("federation_city")
    with op.batch_alter_table("federation_certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_certificate_node_item")
        batch_op.drop_index("ix_federation_certificate_current")
        batch_op.drop_index(batch_op.f("ix_federation_certificate_city_locode"))

    op.drop_table("federation_certificate")
    with op.batch_alter_table("federation_anomaly", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_anomaly_node_found")

    op.drop_table("federation_anomaly")
