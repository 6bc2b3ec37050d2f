"""committee endorsement: the global committee endorses a member's framework as an agenda item

Revision ID: 0013endo
Revises: 0012acct, 0012pub, 0012recu
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013endo"
down_revision: str | tuple[str, ...] | None = ("0012acct", "0012pub", "0012recu")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "outcome = 'pending' AND endorsement_request_id IS NOT NULL"


def upgrade() -> None:
    op.add_column("agenda_item", sa.Column("endorsement_request_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_agenda_item_endorsement_request_id",
        "agenda_item",
        ["endorsement_request_id"],
        unique=False,
    )
    op.create_index(
        "uq_agenda_item_pending_endorsement",
        "agenda_item",
        ["endorsement_request_id"],
        unique=True,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("uq_agenda_item_pending_endorsement", table_name="agenda_item")
    op.drop_index("ix_agenda_item_endorsement_request_id", table_name="agenda_item")
    with op.batch_alter_table("agenda_item") as batch_op:
        batch_op.drop_column("endorsement_request_id")
