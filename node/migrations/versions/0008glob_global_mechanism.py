"""global mechanism: application language, planned meetings

Revision ID: 0008glob
Revises: 0005mem
Create Date: 2026-11-25 18:02:36

An application's UN language (the global node routes it to that language's technical team) and
the year and slot of a committee meeting scheduled by a year's plan (§26b).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008glob"
down_revision: str | None = "0005mem"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("application", sa.Column("language", sa.String(length=3), nullable=True))
    op.create_index("ix_application_language", "application", ["language"], unique=False)
    op.add_column("committee_meeting", sa.Column("plan_year", sa.Integer(), nullable=True))
    op.add_column("committee_meeting", sa.Column("plan_slot", sa.Integer(), nullable=True))
    op.create_index(
        "uq_committee_meeting_plan", "committee_meeting", ["plan_year", "plan_slot"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_committee_meeting_plan", table_name="committee_meeting")
    with op.batch_alter_table("committee_meeting") as batch_op:
        batch_op.drop_column("plan_slot")
        batch_op.drop_column("plan_year")
    op.drop_index("ix_application_language", table_name="application")
    with op.batch_alter_table("application") as batch_op:
        batch_op.drop_column("language")
