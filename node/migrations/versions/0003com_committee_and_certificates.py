"""committee and certificates

Revision ID: 0003com
Revises: 0002, 0002b
Create Date: 2026-11-25 15:35:00.757240

Merges the applications branch (0002) and the event log and status lists branch (0002b): a
certificate names its application and its status lists, and its issue is an event.

Triggers back up what the service promises: votes are never changed or deleted; a certificate is
never deleted, what it was signed with never changes, and a revoked one stays revoked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes
from sdgcities.node.migrations.append_only import drop_append_only, make_append_only

revision: str = "0003com"
down_revision: tuple[str, ...] = ("0002", "0002b")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# What a certificate was signed with; the status and when it changed are all that may change.
_FROZEN_COLUMNS = (
    "id",
    "city_locode",
    "stage",
    "level",
    "application_id",
    "agenda_item_id",
    "framework_version_id",
    "valid_from",
    "valid_until",
    "issued_at",
    "token",
    "status_pair_id",
    "status_index",
    "revocation_list_id",
    "suspension_list_id",
)
_FROZEN_MESSAGE = "a certificate is never deleted and what it was signed with never changes"
_REVOKED_MESSAGE = "a revocation can never be undone"


def _guard_certificates() -> None:
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FROZEN_COLUMNS)
        op.execute(
            "CREATE OR REPLACE FUNCTION sdgcities_certificate_guard() RETURNS trigger AS $$ "
            "BEGIN "
            f"IF TG_OP = 'DELETE' OR {changed} THEN RAISE EXCEPTION '{_FROZEN_MESSAGE}'; END IF; "
            "IF OLD.status = 'revoked' AND NEW.status <> 'revoked' THEN "
            f"RAISE EXCEPTION '{_REVOKED_MESSAGE}'; END IF; "
            "RETURN NEW; "
            "END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER certificate_guard BEFORE UPDATE OR DELETE ON certificate "
            "FOR EACH ROW EXECUTE FUNCTION sdgcities_certificate_guard()"
        )
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN_COLUMNS)
    op.execute(
        f"CREATE TRIGGER certificate_frozen BEFORE UPDATE ON certificate WHEN {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{_FROZEN_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER certificate_revoked BEFORE UPDATE ON certificate "
        "WHEN OLD.status = 'revoked' AND NEW.status IS NOT 'revoked' "
        f"BEGIN SELECT RAISE(ABORT, '{_REVOKED_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER certificate_kept BEFORE DELETE ON certificate "
        f"BEGIN SELECT RAISE(ABORT, '{_FROZEN_MESSAGE}'); END"
    )


def _unguard_certificates() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS certificate_guard ON certificate")
        op.execute("DROP FUNCTION IF EXISTS sdgcities_certificate_guard()")
        return
    for name in ("certificate_frozen", "certificate_revoked", "certificate_kept"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "committee_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "scheduled_for", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled", "open", "closed", name="meetingstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("quorum_min_fraction", sa.Float(), nullable=False),
        sa.Column("quorum_min_non_government", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("committee_meeting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committee_meeting_scheduled_for"), ["scheduled_for"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_committee_meeting_status"), ["status"], unique=False)

    op.create_table(
        "committee_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["committee_meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_committee_attendance_member"),
    )
    with op.batch_alter_table("committee_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committee_attendance_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "award",
                "suspension",
                "reinstatement",
                "revocation",
                name="itemkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.String(length=64), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "deferred",
                name="itemoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("quorum", sa.JSON(), nullable=True),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("deferral_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["committee_meeting.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agenda_item_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agenda_item_certificate_id"), ["certificate_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agenda_item_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_item_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            "uq_agenda_item_pending_application",
            ["application_id"],
            unique=True,
            sqlite_where=sa.text("outcome = 'pending' AND application_id IS NOT NULL"),
            postgresql_where=sa.text("outcome = 'pending' AND application_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_agenda_item_pending_proposal",
            ["proposal_id"],
            unique=True,
            sqlite_where=sa.text("outcome = 'pending' AND proposal_id IS NOT NULL"),
            postgresql_where=sa.text("outcome = 'pending' AND proposal_id IS NOT NULL"),
        )

    op.create_table(
        "certificate",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("city_locode", sa.String(length=6), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("framework_version_id", sa.Integer(), nullable=False),
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
        sa.Column("status_pair_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("revocation_list_id", sa.String(length=64), nullable=False),
        sa.Column("suspension_list_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_locode"],
            ["city.locode"],
        ),
        sa.ForeignKeyConstraint(
            ["framework_version_id"],
            ["framework_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revocation_list_id"],
            ["status_list.list_id"],
        ),
        sa.ForeignKeyConstraint(
            ["status_pair_id"],
            ["status_pair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["suspension_list_id"],
            ["status_list.list_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agenda_item_id"),
        sa.UniqueConstraint("application_id"),
        sa.UniqueConstraint("status_pair_id", "status_index", name="uq_certificate_status_entry"),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_city_locode"), ["city_locode"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certificate_framework_version_id"),
            ["framework_version_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_certificate_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certificate_valid_until"), ["valid_until"], unique=False
        )

    op.create_table(
        "committee_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "choice",
            sa.Enum("yes", "no", "abstain", name="votechoice", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("cast_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["agenda_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "member_id", name="uq_committee_vote_member"),
    )
    with op.batch_alter_table("committee_vote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_committee_vote_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "certificate_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "suspension",
                "reinstatement",
                "revocation",
                name="proposalkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "approved",
                "rejected",
                "superseded",
                name="proposalstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("certificate_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_proposal_certificate_id"), ["certificate_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_certificate_proposal_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_certificate_proposal_open",
            ["certificate_id", "kind"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    make_append_only("committee_vote")
    _guard_certificates()


def downgrade() -> None:
    _unguard_certificates()
    drop_append_only("committee_vote")
    with op.batch_alter_table("certificate_proposal", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_certificate_proposal_open",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_certificate_proposal_state"))
        batch_op.drop_index(batch_op.f("ix_certificate_proposal_certificate_id"))

    op.drop_table("certificate_proposal")
    with op.batch_alter_table("committee_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_vote_member_id"))

    op.drop_table("committee_vote")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_valid_until"))
        batch_op.drop_index(batch_op.f("ix_certificate_status"))
        batch_op.drop_index(batch_op.f("ix_certificate_framework_version_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_city_locode"))

    op.drop_table("certificate")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_agenda_item_pending_proposal",
            sqlite_where=sa.text("outcome = 'pending' AND proposal_id IS NOT NULL"),
            postgresql_where=sa.text("outcome = 'pending' AND proposal_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_agenda_item_pending_application",
            sqlite_where=sa.text("outcome = 'pending' AND application_id IS NOT NULL"),
            postgresql_where=sa.text("outcome = 'pending' AND application_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_agenda_item_outcome"))
        batch_op.drop_index(batch_op.f("ix_agenda_item_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_item_certificate_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_item_application_id"))

    op.drop_table("agenda_item")
    with op.batch_alter_table("committee_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_attendance_member_id"))

    op.drop_table("committee_attendance")
    with op.batch_alter_table("committee_meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_meeting_status"))
        batch_op.drop_index(batch_op.f("ix_committee_meeting_scheduled_for"))

    op.drop_table("committee_meeting")
