"""Reading a user's search text: web-search syntax in, only quoted words out to either engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdgcities.node.catalogue.search import TextQuery, keywords

HOSTILE = [
    '"',
    '""',
    "*",
    "housing*",
    "NEAR",
    "NEAR(housing data, 2)",
    "-",
    "--",
    ":",
    "title:housing",
    "{title summary}:housing",
    ")",
    "(housing",
    "housing AND",
    "OR",
    "or or",
    "NOT housing",
    "^housing",
    "housing + data",
    "'; DROP TABLE catalogue_tool; --",
    "\\",
    "\x00",
    "_",
]


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    """An FTS5 table made as the migration makes it, with two rows to find."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE catalogue_tool_fts USING fts5("
        "title, summary, themes, tokenize = 'unicode61 remove_diacritics 0')"
    )
    connection.executemany(
        "INSERT INTO catalogue_tool_fts (rowid, title, summary, themes) VALUES (?, ?, ?, ?)",
        [
            (1, "Housing profile", "A guide to housing data near the city", "housing data"),
            (2, "Data and governance", "Planning with the NEAR principle", "governance"),
        ],
    )
    yield connection
    connection.close()


def _match(fts: sqlite3.Connection, text: str) -> list[int]:
    query = TextQuery.parse(text)
    if not query:
        return []
    rows = fts.execute(
        "SELECT rowid FROM catalogue_tool_fts WHERE catalogue_tool_fts MATCH ? ORDER BY rowid",
        (query.to_fts5(),),
    )
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("text", "fts5", "websearch"),
    [
        ("housing", '("housing")', '"housing"'),
        ("Housing  DATA", '("Housing" AND "DATA")', '"Housing" "DATA"'),
        ('"slum upgrading" kenya', '("slum upgrading" AND "kenya")', '"slum upgrading" "kenya"'),
        ("housing -data", '(("housing") NOT ("data"))', '"housing" -"data"'),
        (
            'housing -"urban data" -x',
            '(("housing") NOT ("urban data" OR "x"))',
            '"housing" -"urban data" -"x"',
        ),
        ("housing or data", '("housing") OR ("data")', '"housing" or "data"'),
        ("a b OR c", '("a" AND "b") OR ("c")', '"a" "b" or "c"'),
        ("NEAR(housing", '("NEAR(housing")', '"NEAR(housing"'),
        ('say "hi', '("say" AND "hi")', '"say" "hi"'),
        ("covid-19", '("covid-19")', '"covid-19"'),
    ],
)
def test_queries_are_rewritten_with_every_word_quoted(text: str, fts5: str, websearch: str) -> None:
    query = TextQuery.parse(text)
    assert query.to_fts5() == fts5
    assert query.to_websearch() == websearch


@pytest.mark.parametrize("text", ["", "   ", "*", '"', "-", ":", ")", "or", "-housing", "- -x"])
def test_text_without_a_wanted_word_is_an_empty_query(text: str) -> None:
    assert not TextQuery.parse(text)


def test_an_alternative_of_exclusions_alone_is_dropped() -> None:
    assert TextQuery.parse("housing or -data").to_fts5() == '("housing")'


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_never_reaches_fts5_as_syntax(fts: sqlite3.Connection, text: str) -> None:
    _match(fts, text)  # FTS5 raises sqlite3.OperationalError on a syntax error


def test_operators_typed_by_a_user_are_plain_words(fts: sqlite3.Connection) -> None:
    # NEAR is a word in row 2 and an FTS5 operator; quoted, it finds the word.
    assert _match(fts, "NEAR") == [1, 2]  # row 1 has "near" in its summary
    assert _match(fts, "NEAR principle") == [2]
    # "title:governance" is not a column filter: it is the two words title and governance.
    assert _match(fts, "title:governance") == []
    assert _match(fts, "housing*") == [1]  # no prefix search: "housing" exactly


def test_exclusions_phrases_and_alternatives(fts: sqlite3.Connection) -> None:
    assert _match(fts, "data") == [1, 2]
    assert _match(fts, "data -governance") == [1]
    assert _match(fts, '"housing data"') == [1]
    assert _match(fts, '"data housing"') == []
    assert _match(fts, "profile or principle") == [1, 2]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_valid_fts5_query(text: str) -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE f USING fts5(title, summary, themes)")
    query = TextQuery.parse(text)
    if query:
        connection.execute("SELECT rowid FROM f WHERE f MATCH ?", (query.to_fts5(),)).fetchall()
    connection.close()


def test_any_of_finds_entries_with_one_of_the_words(fts: sqlite3.Connection) -> None:
    query = TextQuery.any_of(["profile", "principle", "*"])
    assert query.to_fts5() == '("profile") OR ("principle")'
    assert query.to_websearch() == '"profile" or "principle"'
    rows = fts.execute(
        "SELECT rowid FROM catalogue_tool_fts WHERE catalogue_tool_fts MATCH ? ORDER BY rowid",
        (query.to_fts5(),),
    )
    assert [row[0] for row in rows] == [1, 2]


def test_keywords_are_the_distinctive_words_of_a_criterion() -> None:
    text = (
        "The city's baseline data is reliable and incorporates the environmental, social, "
        "economic, cultural and governance domains, as guided by the global urban monitoring "
        "framework or the Sustainable Development Goal indicators; data (again)."
    )
    assert keywords(text) == [
        "baseline",
        "data",
        "reliable",
        "incorporates",
        "environmental",
        "social",
        "economic",
        "cultural",
        "governance",
        "domains",
        "guided",
        "global",
        "urban",
        "monitoring",
        "indicators",
        "again",
    ]
    assert keywords("a b c", limit=5) == []
    assert len(keywords(" ".join(f"word{n}" for n in range(100)))) == 32
