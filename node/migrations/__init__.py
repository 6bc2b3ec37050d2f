"""The node's Alembic migrations (`versions/`), and what autogenerate must leave out."""

from __future__ import annotations

from alembic.runtime.environment import NameFilterParentNames, NameFilterType

# The catalogue's full-text search (0003cat) is built by hand, not from the models: on SQLite an
# FTS5 table and its shadow tables, on PostgreSQL a generated tsvector column and its index.
_FULL_TEXT_TABLE_PREFIX = "catalogue_tool_fts"
_FULL_TEXT_COLUMN = ("catalogue_tool", "search_vector")
_FULL_TEXT_INDEX = "ix_catalogue_tool_search_vector"


def include_name(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Alembic's `include_name` hook: whether autogenerate compares a database object with the
    models; the hand-made full-text objects are not compared, so it never proposes to drop them."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(_FULL_TEXT_TABLE_PREFIX)
    if type_ == "column":
        return (parent_names.get("table_name"), name) != _FULL_TEXT_COLUMN
    if type_ == "index":
        return name != _FULL_TEXT_INDEX
    return True
