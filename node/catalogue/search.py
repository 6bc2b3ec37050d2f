"""Full-text search over the catalogue, served by the database's own engine.

PostgreSQL keeps a generated, weighted `tsvector` (title A, summary B, themes C; GIN index) and is
asked with `websearch_to_tsquery('simple', ...)`, ranked by `ts_rank`. SQLite keeps an FTS5 table,
`catalogue_tool_fts`, in step with the tools by triggers, asked with MATCH and ranked by `bm25`
with the same 10 : 4 : 2 weights. Both use the 'simple' rules: words are lower-cased and neither
stemmed nor stripped of accents (the FTS5 tokenizer is told to keep them, as PostgreSQL does), so
that a SQLite node finds what a PostgreSQL node finds.

What a user types is parsed here, once, into a `TextQuery`: words and "quoted phrases" that must
all appear, `-`word or `-"phrase"` that must not, and `or` between alternatives, which is what
`websearch_to_tsquery` reads. The query is then written out again for the backend with every word
inside double quotes, so nothing the user typed reaches either engine as syntax (`NEAR`, `*`, `:`,
parentheses and column filters are just words, or nothing). An alternative made only of
exclusions is dropped: exclusions narrow a search, they do not make one, and FTS5 could not run it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    ColumnClause,
    Subquery,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlmodel import col

from .models import Tool

FTS_TABLE: Final = "catalogue_tool_fts"
# bm25 column weights for (title, summary, themes), the ratio of PostgreSQL's A, B and C defaults.
BM25_WEIGHTS: Final = (10.0, 4.0, 2.0)
MAX_KEYWORDS: Final = 32

# Words too common to tell one catalogue entry from another: English function words, and the
# words that nearly every criterion and every entry share. Without them a criterion's text would
# match the whole catalogue (`ts_rank` weighs no word by its rarity).
STOPWORDS: Final = frozenset(
    """
    a about above after all also an and any are as at be been being both but by can could did do
    does each for from had has have how if in into is it its may more most must no nor not of on
    once only or other our out over own per same should so some such than that the their them
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with within would
    2030 city cities evidence relevant including demonstrates demonstrably demonstrate
    goal goals sustainable development framework frameworks strategic
    """.split()
)


@dataclass(frozen=True, slots=True)
class Term:
    """A word, or a quoted phrase (its words in order), that must or must not appear."""

    words: tuple[str, ...]
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class TextQuery:
    """Alternatives (`or`), each a set of terms that must all hold."""

    alternatives: tuple[tuple[Term, ...], ...]

    @classmethod
    def parse(cls, text: str) -> TextQuery:
        """Read a user's query as web-search syntax; never fails, whatever the text."""
        # Control characters separate words: NUL would end the query early for SQLite and is
        # refused outright by PostgreSQL.
        text = "".join(char if char.isprintable() else " " for char in text)
        alternatives: list[tuple[Term, ...]] = []
        current: list[Term] = []
        for item in _scan(text):
            if item is None:
                alternatives.append(tuple(current))
                current = []
            else:
                current.append(item)
        alternatives.append(tuple(current))
        return cls(tuple(terms for terms in alternatives if any(not t.excluded for t in terms)))

    @classmethod
    def any_of(cls, words: Iterable[str]) -> TextQuery:
        """Entries that contain at least one of `words` (more of them ranks higher)."""
        terms = (_term((word,), excluded=False) for word in words)
        return cls(tuple((term,) for term in terms if term is not None))

    def __bool__(self) -> bool:
        return bool(self.alternatives)

    def to_fts5(self) -> str:
        """The query in FTS5 syntax: every word quoted, only our own operators."""

        def quoted(term: Term) -> str:
            return '"' + " ".join(word.replace('"', '""') for word in term.words) + '"'

        def alternative(terms: tuple[Term, ...]) -> str:
            wanted = " AND ".join(quoted(t) for t in terms if not t.excluded)
            unwanted = " OR ".join(quoted(t) for t in terms if t.excluded)
            return f"(({wanted}) NOT ({unwanted}))" if unwanted else f"({wanted})"

        return " OR ".join(alternative(terms) for terms in self.alternatives)

    def to_websearch(self) -> str:
        """The query in `websearch_to_tsquery` syntax, every word quoted."""

        def quoted(term: Term) -> str:
            # websearch_to_tsquery has no escape for '"'; a word never holds one when parsed
            # here, but `any_of` takes words from callers.
            words = " ".join(word.replace('"', " ") for word in term.words)
            return ("-" if term.excluded else "") + f'"{words}"'

        return " or ".join(" ".join(quoted(t) for t in terms) for terms in self.alternatives)


def _term(words: Iterable[str], *, excluded: bool) -> Term | None:
    # A "word" with no letter or digit ("*", ")", "_") is not a word to either engine; an empty
    # phrase would make FTS5 match nothing where PostgreSQL ignores it, so it is left out here.
    kept = tuple(word for word in words if any(ch.isalnum() for ch in word))
    return Term(kept, excluded) if kept else None


def _scan(text: str) -> Iterable[Term | None]:
    """Terms in order, `None` for each `or` between two of them."""
    position, end = 0, len(text)
    exclude = False
    while position < end:
        char = text[position]
        if char.isspace():
            position, exclude = position + 1, False
            continue
        if char == "-":
            position, exclude = position + 1, True
            continue
        if char == '"':
            closing = text.find('"', position + 1)
            closing = end if closing < 0 else closing
            term = _term(text[position + 1 : closing].split(), excluded=exclude)
            position, exclude = closing + 1, False
        else:
            stop = position
            while stop < end and not text[stop].isspace() and text[stop] != '"':
                stop += 1
            word, position = text[position:stop], stop
            if word.lower() == "or" and not exclude:
                yield None
                continue
            term, exclude = _term((word,), excluded=exclude), False
        if term is not None:
            yield term


def keywords(text: str, *, limit: int = MAX_KEYWORDS) -> list[str]:
    """The distinctive words of a text (a criterion's), in order, for an any-word search."""
    words = (w for w in re.findall(r"[^\W_]+", text.lower()) if len(w) > 2 and w not in STOPWORDS)
    return list(dict.fromkeys(words))[:limit]


def ranked_matches(query: TextQuery, *, dialect: str) -> Subquery:
    """`(id, rank)` of the tools that match `query`, a higher rank for a better match."""
    if dialect == "postgresql":
        vector: ColumnClause[Any] = literal_column("catalogue_tool.search_vector")
        tsquery = func.websearch_to_tsquery(
            literal_column("'simple'::regconfig"), bindparam("text_query", query.to_websearch())
        )
        return (
            select(col(Tool.id).label("id"), func.ts_rank(vector, tsquery).label("rank"))
            .where(vector.op("@@")(tsquery))
            .subquery("matches")
        )
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        fts_name: ColumnClause[Any] = literal_column(FTS_TABLE)
        return (
            select(
                fts.c.rowid.label("id"),
                # bm25 is better when lower; negated, so that both backends rank high-is-best.
                (-func.bm25(fts_name, *BM25_WEIGHTS)).label("rank"),
            )
            .where(fts_name.op("MATCH")(bindparam("text_query", query.to_fts5())))
            .subquery("matches")
        )
    raise NotImplementedError(f"no full-text search for the {dialect} database")
