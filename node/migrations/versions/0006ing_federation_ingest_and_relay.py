"""federation ingest and relay

Revision ID: 0006ing
Revises: 0005mem
Create Date: 2026-11-25 18:03:59.493035

The global node's federation store (every node's log as reported: `ingested_event`, its head per
node, the signed reports and the alarms; append-only but for the head rows) and a node's relay
receipts (the proof that the global node holds its log).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0006ing"
down_revision: str | None = "0005mem"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("ingested_event", "received_report", "ingest_alarm")


def upgrade() -> None:
    op.create_table(
        "ingest_alarm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "fork",
                "rollback",
                "chain",
                "impersonation",
                "gap",
                name="alarmkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("raised_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ingest_alarm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_alarm_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_ingest_alarm_node_id"), ["node_id"], unique=False)

    op.create_table(
        "ingested_log",
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("head_sequence", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=71), nullable=False),
        sa.Column(
            "last_issued_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_report_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("missing_from", sa.Integer(), nullable=True),
        sa.Column("missing_to", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("node_id"),
    )
    op.create_table(
        "received_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("issued_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum("pushed", "pulled", "local", name="reportsource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("head_sequence", sa.Integer(), nullable=True),
        sa.Column("head_hash", sa.String(length=71), nullable=True),
        sa.Column("receipt", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("received_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_report_node_id"), ["node_id"], unique=False)

    op.create_table(
        "relay_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("head_sequence", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=71), nullable=False),
        sa.Column("report_sha256", sa.String(length=71), nullable=False),
        sa.Column("receipt", sa.String(), nullable=False),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relay_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_receipt_last"), ["last"], unique=False)

    op.create_table(
        "ingested_event",
        sa.Column("node_id", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=71), nullable=False),
        sa.Column("hash", sa.String(length=71), nullable=False),
        sa.Column("received_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["received_report.id"],
        ),
        sa.PrimaryKeyConstraint("node_id", "sequence"),
    )
    with op.batch_alter_table("ingested_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingested_event_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ingested_event_type"), ["type"], unique=False)

    for table in APPEND_ONLY:
        make_append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        drop_append_only(table)
    with op.batch_alter_table("ingested_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingested_event_type"))
        batch_op.drop_index(batch_op.f("ix_ingested_event_report_id"))

    op.drop_table("ingested_event")
    with op.batch_alter_table("relay_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_receipt_last"))

    op.drop_table("relay_receipt")
    with op.batch_alter_table("received_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_report_node_id"))

    op.drop_table("received_report")
    op.drop_table("ingested_log")
    with op.batch_alter_table("ingest_alarm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_alarm_node_id"))
        batch_op.drop_index(batch_op.f("ix_ingest_alarm_kind"))

    op.drop_table("ingest_alarm")
