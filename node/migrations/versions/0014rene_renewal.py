"""renewal: an application renewing a certificate, answers carried over to confirm, and the
certificate a renewal award continues

Revision ID: 0014rene
Revises: 0014fees
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014rene"
down_revision: str | None = "0014fees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renews", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_application_renews"), ["renews"], unique=False)
    with op.batch_alter_table("criterion_answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("to_confirm", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Not a batch: on SQLite that copies the table, and the copy would lose the triggers that
    # keep a certificate's signed facts unchanged (0003com). ADD COLUMN keeps them; SQLite
    # takes the foreign key only inline.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE certificate ADD COLUMN renews VARCHAR(64) "
            "CONSTRAINT fk_certificate_renews_certificate REFERENCES certificate (id)"
        )
    else:
        op.add_column("certificate", sa.Column("renews", sa.String(length=64), nullable=True))
        op.create_foreign_key(
            "fk_certificate_renews_certificate", "certificate", "certificate", ["renews"], ["id"]
        )
    op.create_index(op.f("ix_certificate_renews"), "certificate", ["renews"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_certificate_renews"), table_name="certificate")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_certificate_renews_certificate", "certificate", type_="foreignkey")
    # SQLite (3.35+) drops the column in place, keeping the triggers.
    op.drop_column("certificate", "renews")
    with op.batch_alter_table("criterion_answer", schema=None) as batch_op:
        batch_op.drop_column("to_confirm")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_renews"))
        batch_op.drop_column("renews")
