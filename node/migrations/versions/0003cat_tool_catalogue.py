"""tool catalogue

Revision ID: 0003cat
Revises: 0001
Create Date: 2026-11-25 16:30:00

The table, and its full-text index in each database's own engine (see `node.catalogue.search`):
on PostgreSQL a generated, weighted `tsvector` column with a GIN index; on SQLite an FTS5 table
kept in step by triggers. Either way the index cannot drift from the rows, whoever writes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sdgcities.node.dbtypes

revision: str = "0003cat"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 'simple': lower-cased words, no stemming and no stop words, the same in every language the
# catalogue holds. json_to_tsvector reads the themes' strings, so a theme is indexed by its words
# and not by the JSON text, where a non-ASCII letter may be written as a \u escape.
_SEARCH_VECTOR = (
    "setweight(to_tsvector('simple', title), 'A') || "
    "setweight(to_tsvector('simple', summary), 'B') || "
    "setweight(json_to_tsvector('simple', themes, '[\"string\"]'), 'C')"
)

# A regular (not external-content) FTS5 table: the index keeps its own copy of the few words of
# each tool, so a row is removed by its rowid alone and can never be unindexed with stale values.
# remove_diacritics 0 keeps accents as PostgreSQL's 'simple' does.
_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE catalogue_tool_fts USING fts5("
    "title, summary, themes, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE TRIGGER catalogue_tool_fts_insert AFTER INSERT ON catalogue_tool BEGIN "
    "INSERT INTO catalogue_tool_fts (rowid, title, summary, themes) "
    "SELECT new.id, new.title, new.summary, "
    "(SELECT group_concat(value, ' ') FROM json_each(new.themes)); END",
    "CREATE TRIGGER catalogue_tool_fts_update AFTER UPDATE OF id, title, summary, themes "
    "ON catalogue_tool BEGIN "
    "DELETE FROM catalogue_tool_fts WHERE rowid = old.id; "
    "INSERT INTO catalogue_tool_fts (rowid, title, summary, themes) "
    "SELECT new.id, new.title, new.summary, "
    "(SELECT group_concat(value, ' ') FROM json_each(new.themes)); END",
    "CREATE TRIGGER catalogue_tool_fts_delete AFTER DELETE ON catalogue_tool BEGIN "
    "DELETE FROM catalogue_tool_fts WHERE rowid = old.id; END",
)


def upgrade() -> None:
    op.create_table(
        "catalogue_tool",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "tool",
                "case_study",
                "service",
                "training",
                name="toolkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2048), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sdgcities.node.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("catalogue_tool", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogue_tool_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalogue_tool_kind"), ["kind"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE catalogue_tool ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({_SEARCH_VECTOR}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_catalogue_tool_search_vector ON catalogue_tool "
            "USING gin (search_vector)"
        )
    else:
        for statement in _SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalogue_tool_search_vector")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_tool_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS catalogue_tool_fts")

    with op.batch_alter_table("catalogue_tool", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogue_tool_kind"))
        batch_op.drop_index(batch_op.f("ix_catalogue_tool_active"))

    op.drop_table("catalogue_tool")
