"""Full-text search and filters, on each database's own engine (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.models import ToolKind
from sdgcities.node.catalogue.schemas import ToolUpdate
from sdgcities.node.catalogue.service import (
    deactivate_tool,
    search_tools,
    seed_catalogue,
    update_tool,
)

from .conftest import MakeTool
from .test_query import HOSTILE


def _titles(session: Session, **options: object) -> list[str]:
    tools, count = search_tools(session=session, limit=100, **options)  # type: ignore[arg-type]
    assert count == len(tools)
    return [tool.title for tool in tools]


def test_finds_words_in_title_summary_and_themes(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="Housing profile", summary="A national assessment.")
    make_tool(title="Revenue guide", summary="How to finance housing through land value.")
    make_tool(title="Resilience scorecard", summary="Disaster risk.", themes=["housing"])
    make_tool(title="Waste tool", summary="Solid waste data.", themes=["data"])

    assert _titles(session, q="housing") == [
        "Housing profile",
        "Revenue guide",
        "Resilience scorecard",
    ]
    assert _titles(session, q="HOUSING land") == ["Revenue guide"]
    assert _titles(session, q="waste data") == ["Waste tool"]
    assert _titles(session, q="nothing-like-this") == []


def test_a_title_hit_ranks_above_a_summary_hit_above_a_theme_hit(
    session: Session, make_tool: MakeTool
) -> None:
    # Created worst match first, so that the order is the ranking's and not the insertion's.
    make_tool(title="Aaa theme", summary="Nothing in here.", themes=["resilience"])
    make_tool(title="Aab summary", summary="A tool for urban resilience planning.")
    make_tool(title="Urban resilience profiling", summary="A method.")
    assert _titles(session, q="resilience") == [
        "Urban resilience profiling",
        "Aab summary",
        "Aaa theme",
    ]


def test_search_without_words_lists_by_title(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="beta")
    make_tool(title="Alpha")
    make_tool(title="gamma")
    assert _titles(session) == ["Alpha", "beta", "gamma"]
    assert _titles(session, q="   ") == ["Alpha", "beta", "gamma"]
    # Text with no word in it asks for something, and nothing has it.
    assert _titles(session, q="*") == []


def test_phrases_exclusions_and_alternatives(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="Slum upgrading programme", summary="Participatory and city-wide.")
    make_tool(title="Upgrading slum data", summary="Counts.")
    make_tool(title="Climate plan", summary="Adaptation.")
    assert _titles(session, q='"slum upgrading"') == ["Slum upgrading programme"]
    assert _titles(session, q="slum -participatory") == ["Upgrading slum data"]
    assert sorted(_titles(session, q="adaptation or counts")) == [
        "Climate plan",
        "Upgrading slum data",
    ]


def test_accents_are_kept_on_both_databases(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="Données urbaines", summary="Guide.", themes=["planificación"])
    assert _titles(session, q="données") == ["Données urbaines"]
    assert _titles(session, q="DONNÉES") == ["Données urbaines"]
    assert _titles(session, q="planificación") == ["Données urbaines"]
    assert _titles(session, q="donnees") == []


@pytest.mark.parametrize("q", [*HOSTILE, "housing\x00", 'housing" OR "x', "housing)"])
def test_hostile_text_is_answered_not_failed(
    client: TestClient, make_tool: MakeTool, q: str
) -> None:
    make_tool(title="Housing near the centre", summary="Housing and data.")
    response = client.get("/catalogue/tools", params={"q": q})
    assert response.status_code == 200, response.text
    assert response.json()["count"] in (0, 1)


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("NEAR", True),  # a word here, not FTS5's NEAR operator
        ("housing*", True),  # no prefix syntax: the word housing
        ("housing)", True),
        ("title:housing", False),  # not a column filter: the words title and housing
        ('"housing', True),
        ("housing -near", False),
    ],
)
def test_operators_in_user_text_are_words(
    session: Session, make_tool: MakeTool, q: str, found: bool
) -> None:
    make_tool(title="Housing near the centre", summary="Housing and data.")
    assert _titles(session, q=q) == (["Housing near the centre"] if found else [])


def test_filters_combine(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="A", criteria=["B.a"], themes=["data"], languages=["en"], kind=ToolKind.TOOL)
    make_tool(
        title="B",
        criteria=["B.a", "C.b"],
        themes=["data", "housing"],
        languages=["fr", "es-MX"],
        kind=ToolKind.CASE_STUDY,
    )
    make_tool(title="C", criteria=["C.b"], themes=["housing"], languages=["es"])
    make_tool(title="D data", summary="About data.")

    assert _titles(session, criteria=["B.a"]) == ["A", "B"]
    assert _titles(session, criteria=["B.a", "C.b"]) == ["A", "B", "C"]  # any of the codes
    assert _titles(session, criteria=["b.a"]) == []  # codes are exact
    assert _titles(session, themes=["Housing"]) == ["B", "C"]
    assert _titles(session, themes=["data"], criteria=["C.b"]) == ["B"]
    assert _titles(session, language="es") == ["B", "C"]  # es finds es-MX too
    assert _titles(session, language="es-MX") == ["B", "C"]  # and es-MX finds es
    assert _titles(session, language="fr", kind=ToolKind.CASE_STUDY) == ["B"]
    assert _titles(session, language="fr", kind=ToolKind.TOOL) == []
    # A title hit first; A and B have "data" only among their themes.
    assert _titles(session, q="data") == ["D data", "A", "B"]
    assert _titles(session, q="data", criteria=["B.a", "C.b"]) == ["A", "B"]
    assert _titles(session, q="housing", language="es", criteria=["B.a"]) == ["B"]


def test_theme_matches_rank_when_nothing_better(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="Indicator set", summary="Numbers.", themes=["data"])
    make_tool(title="Data portal", summary="Numbers.")
    assert _titles(session, q="data") == ["Data portal", "Indicator set"]


def test_count_is_of_all_matches_and_pages_follow_the_ranking(
    session: Session, make_tool: MakeTool
) -> None:
    for n in range(5):
        make_tool(title=f"Housing tool {n}", summary="Housing. " * (n + 1))
    first, count = search_tools(session=session, q="housing", limit=2, offset=0)
    rest, _ = search_tools(session=session, q="housing", limit=10, offset=2)
    assert count == 5
    assert len(first) == 2
    assert len(rest) == 3
    assert {t.id for t in first}.isdisjoint(t.id for t in rest)


def test_an_update_moves_the_index_with_it(session: Session, make_tool: MakeTool) -> None:
    tool = make_tool(title="Old words", summary="Nothing new.", themes=["housing"])
    update_tool(
        session=session,
        tool=tool,
        data=ToolUpdate(title="Fresh words", themes=["climate"]),
        actor=SYSTEM,
    )
    assert _titles(session, q="fresh") == ["Fresh words"]
    assert _titles(session, q="climate") == ["Fresh words"]
    assert _titles(session, q="old") == []
    assert _titles(session, q="housing") == []
    assert _titles(session, q="nothing") == ["Fresh words"]  # the summary did not change


def test_the_index_follows_writes_that_bypass_the_app(
    session: Session, make_tool: MakeTool
) -> None:
    # The index is kept by the database (generated column / triggers), not by the service.
    tool = make_tool(title="Before", summary="Unchanged.")
    session.execute(
        text("UPDATE catalogue_tool SET title = 'After' WHERE id = :id"), {"id": tool.id}
    )
    session.expire_all()
    assert _titles(session, q="after") == ["After"]
    assert _titles(session, q="before") == []
    session.execute(text("DELETE FROM catalogue_tool WHERE id = :id"), {"id": tool.id})
    assert _titles(session, q="unchanged") == []


def test_a_deleted_tool_is_not_found(session: Session, make_tool: MakeTool) -> None:
    tool = make_tool(title="Retired guide", criteria=["B.a"])
    make_tool(title="Current guide", criteria=["B.a"])
    deactivate_tool(session=session, tool=tool, actor=SYSTEM)
    assert _titles(session, q="guide") == ["Current guide"]
    assert _titles(session, criteria=["B.a"]) == ["Current guide"]
    assert _titles(session) == ["Current guide"]


@settings(
    max_examples=60,
    deadline=None,
    # The session is shared by the examples on purpose: they only read the seeded catalogue.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=st.text(max_size=200))
def test_any_text_is_answered_by_the_database(session: Session, q: str) -> None:
    seed_catalogue(session=session)
    tools, count = search_tools(session=session, q=q, limit=5)
    assert count >= len(tools)
