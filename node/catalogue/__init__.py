"""The tool catalogue: tools, case studies, services and training that help a city close a gap.

A stage report (§25) lists, for each criterion a city has not met, the catalogue entries that
address it (§37): first those an administrator tagged with the criterion's code, then those whose
words match the criterion's text. Search runs in the database's own full-text engine: a weighted
`tsvector` on PostgreSQL, an FTS5 table on SQLite (`search`).
"""

from .models import Tool, ToolKind
from .service import match_tools_for_gaps, search_tools, seed_catalogue

__all__ = ["Tool", "ToolKind", "match_tools_for_gaps", "search_tools", "seed_catalogue"]
