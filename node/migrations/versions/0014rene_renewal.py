"""renewal: an application renewing a certificate, answers carried over to confirm, and the
certificate a renewal award continues

Revision ID: 0014rene
Revises: 0013note
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014rene"
down_revision: str | None = "0013note"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renews", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_application_renews"), ["renews"], unique=False)
        batch_op.create_foreign_key(
            "fk_application_renews_certificate", "certificate", ["renews"], ["id"]
        )
    with op.batch_alter_table("criterion_answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("to_confirm", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renews", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_certificate_renews"), ["renews"], unique=True)
        batch_op.create_foreign_key(
            "fk_certificate_renews_certificate", "certificate", ["renews"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint("fk_certificate_renews_certificate", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_certificate_renews"))
        batch_op.drop_column("renews")
    with op.batch_alter_table("criterion_answer", schema=None) as batch_op:
        batch_op.drop_column("to_confirm")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint("fk_application_renews_certificate", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_application_renews"))
        batch_op.drop_column("renews")
