"""one message status list per former pair

Revision ID: 0010stat
Revises: 0007spot, 0008glob, 0009fedreg
Create Date: 2026-12-06 14:40:00

A certificate's status is now one two-bit entry (`statusPurpose` "message", `statusSize` 2) in one
list instead of one bit in each of a revocation and a suspension list (docs/architecture.md,
"Certificate status"). Each former pair becomes one list: entry i holds the pair's revocation bit
i as its high bit and its suspension bit i as its low bit, so every certificate keeps its state,
and the pair's allocator (key, size, next position) moves into the list's row, so no index is
ever handed out twice. `status_pair` is gone; a certificate names its list (`status_list_id`).

The new lists are stored unsigned and already lapsed: the node re-signs every such list when it
starts, before it serves one (`status.service.refresh_due_status_lists`).

SQLite cannot drop a column that has a foreign key, so the certificate table is rebuilt (Alembic's
batch mode); the tables that reference certificates point at the rebuilt copy, and their foreign
keys are checked when the migration commits (`PRAGMA defer_foreign_keys`).
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0010stat"
down_revision: tuple[str, ...] = ("0007spot", "0008glob", "0009fedreg")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MIN_ENTRIES = 131_072
_LAPSED = datetime(2000, 1, 1, tzinfo=UTC)

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
    "status_list_id",
    "status_index",
)
_FROZEN_MESSAGE = "a certificate is never deleted and what it was signed with never changes"
_REVOKED_MESSAGE = "a revocation can never be undone"


def _guard_certificates() -> None:
    """The triggers of 0003com, over the new columns."""
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


def _bit(bits: bytes, index: int) -> int:
    return (bits[index >> 3] >> (7 - (index & 7))) & 1 if index >> 3 < len(bits) else 0


def merged_bits(revocation: bytes, suspension: bytes, *, entries: int) -> bytes:
    """Entry i of the message list: revocation bit i (high), then suspension bit i (low)."""
    merged = bytearray(entries * 2 // 8)
    for source, offset in ((revocation, 0), (suspension, 1)):
        for byte_index, byte in enumerate(source):
            if not byte:
                continue
            for bit in range(8):
                if byte & (0x80 >> bit):
                    position = 2 * (byte_index * 8 + bit) + offset
                    merged[position >> 3] |= 0x80 >> (position & 7)
    return bytes(merged)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")
    _unguard_certificates()

    moment = sdgcities.node.dbtypes.UTCDateTime(timezone=True)
    status_pair = sa.table(
        "status_pair",
        sa.column("id", sa.Integer()),
        sa.column("allocator_key", sa.LargeBinary()),
        sa.column("size", sa.Integer()),
        sa.column("next_position", sa.Integer()),
        sa.column("created_at", moment),
    )
    old_list = sa.table(
        "status_list",
        sa.column("pair_id", sa.Integer()),
        sa.column("purpose", sa.String()),
        sa.column("bits", sa.LargeBinary()),
        sa.column("updated_at", moment),
    )
    pairs = bind.execute(sa.select(status_pair)).all()
    old_lists = {
        (pair_id, purpose): (bytes(bits), updated_at)
        for pair_id, purpose, bits, updated_at in bind.execute(sa.select(old_list)).all()
    }
    list_ids = {pair.id: secrets.token_hex(8) for pair in pairs}

    op.add_column("certificate", sa.Column("status_list_id", sa.String(length=64), nullable=True))
    for pair_id, list_id in list_ids.items():
        bind.execute(
            sa.text(
                "UPDATE certificate SET status_list_id = :list_id WHERE status_pair_id = :pair"
            ),
            {"list_id": list_id, "pair": pair_id},
        )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint("uq_certificate_status_entry", type_="unique")
        batch_op.drop_column("revocation_list_id")
        batch_op.drop_column("suspension_list_id")
        batch_op.drop_column("status_pair_id")

    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_list_pair_id"))
    op.drop_table("status_list")
    op.drop_table("status_pair")
    status_list = op.create_table(
        "status_list",
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("allocator_key", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("valid_from", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("list_id"),
    )
    rows = []
    for pair in pairs:
        revocation, updated = old_lists.get((pair.id, "revocation"), (b"", pair.created_at))
        suspension, _ = old_lists.get((pair.id, "suspension"), (b"", pair.created_at))
        entries = max(_MIN_ENTRIES, len(revocation) * 8, len(suspension) * 8)
        rows.append(
            {
                "list_id": list_ids[pair.id],
                "allocator_key": bytes(pair.allocator_key),
                "size": pair.size,
                "next_position": pair.next_position,
                "bits": merged_bits(revocation, suspension, entries=entries),
                "token": "",
                "etag": "",
                "valid_from": _LAPSED,
                "valid_until": _LAPSED,
                "created_at": pair.created_at,
                "updated_at": updated,
            }
        )
    if rows:
        op.bulk_insert(status_list, rows)

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.alter_column("status_list_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            "uq_certificate_status_entry", ["status_list_id", "status_index"]
        )
        batch_op.create_foreign_key(
            "fk_certificate_status_list_id_status_list",
            "status_list",
            ["status_list_id"],
            ["list_id"],
        )
    _guard_certificates()


def downgrade() -> None:
    raise NotImplementedError(
        "0010stat is one-way: the old two-list format is no longer issued or verified"
    )
