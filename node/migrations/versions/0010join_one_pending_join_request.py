"""one pending join request per node id

Revision ID: 0010join
Revises: 0005mem
Create Date: 2026-12-06 14:50:00

At most one pending join request per node id (a partial unique index): a second one waits until
the secretariat has decided the first. Pending duplicates left by earlier versions are refused
(the newest first), with the reason kept, so that the index can be built.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010join"
down_revision: str | None = "0005mem"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE join_request SET state = 'refused', decided_by = 'migration 0010join', "
            "reason = 'another join request for this node id was already pending' "
            "WHERE state = 'pending' AND id NOT IN ("
            "SELECT MIN(id) FROM join_request WHERE state = 'pending' GROUP BY node_id)"
        )
    )
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.create_index(
            "uq_join_request_pending",
            ["node_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.drop_index("uq_join_request_pending")
