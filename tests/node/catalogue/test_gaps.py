"""What a stage report lists under each unmet criterion (§25): tagged tools, then text matches."""

from __future__ import annotations

from sqlmodel import Session

from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.catalogue.service import (
    deactivate_tool,
    match_tools_for_gaps,
    seed_catalogue,
)
from sdgcities.node.frameworks import load_baseline

from .conftest import MakeTool

B_A = (
    "The city's baseline data is reliable and incorporates the environmental, social, economic, "
    "cultural and governance domains, as guided by the global urban monitoring framework or the "
    "Sustainable Development Goal indicators"
)


def _titles(found: dict[str, list[Tool]]) -> dict[str, list[str]]:
    return {code: [tool.title for tool in tools] for code, tools in found.items()}


def test_tagged_tools_come_first_then_text_matches(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="Zebra tagged", summary="Unrelated words.", criteria=["B.a"])
    make_tool(title="Monitoring indicators", summary="Urban monitoring and baseline data.")
    make_tool(title="Some data", summary="A little data.")
    make_tool(title="Unrelated", summary="Nothing to see.")
    found = match_tools_for_gaps(session=session, criteria_codes=["B.a"], texts={"B.a": B_A})
    assert _titles(found) == {"B.a": ["Zebra tagged", "Monitoring indicators", "Some data"]}


def test_among_tagged_tools_those_matching_the_text_come_first(
    session: Session, make_tool: MakeTool
) -> None:
    make_tool(title="Aardvark", summary="Nothing in common.", criteria=["B.a"])
    make_tool(title="Baseline data guide", summary="Urban monitoring.", criteria=["B.a"])
    make_tool(title="Data", summary="Data.", criteria=["B.a"])
    found = match_tools_for_gaps(
        session=session, criteria_codes=["B.a"], texts={"B.a": B_A}, per_gap=2
    )
    assert _titles(found) == {"B.a": ["Baseline data guide", "Data"]}


def test_without_a_text_only_tagged_tools_are_offered(
    session: Session, make_tool: MakeTool
) -> None:
    make_tool(title="Tagged", criteria=["C.KE-1"])
    make_tool(title="Data matters", summary="Data.")
    found = match_tools_for_gaps(session=session, criteria_codes=["C.KE-1", "D.d"])
    assert _titles(found) == {"C.KE-1": ["Tagged"], "D.d": []}


def test_each_code_once_in_the_order_given(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="For C.b", criteria=["C.b"])
    make_tool(title="For A.a", criteria=["A.a"])
    found = match_tools_for_gaps(session=session, criteria_codes=["C.b", "A.a", "C.b"])
    assert list(found) == ["C.b", "A.a"]
    assert _titles(found) == {"C.b": ["For C.b"], "A.a": ["For A.a"]}


def test_language_and_deletion_are_respected(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="English only", criteria=["B.c"], languages=["en"])
    make_tool(title="En français", criteria=["B.c"], languages=["fr"])
    retired = make_tool(title="Retired", criteria=["B.c"], languages=["fr"])
    make_tool(title="Participation guide", summary="Participatory approaches.", languages=["fr"])
    deactivate_tool(session=session, tool=retired, actor=SYSTEM)
    found = match_tools_for_gaps(
        session=session,
        criteria_codes=["B.c"],
        texts={"B.c": "based on participatory approaches"},
        language="fr",
    )
    assert _titles(found) == {"B.c": ["En français", "Participation guide"]}


def test_a_tool_is_not_offered_twice_for_one_gap(session: Session, make_tool: MakeTool) -> None:
    make_tool(title="Baseline data", summary="Monitoring.", criteria=["B.a"])
    found = match_tools_for_gaps(session=session, criteria_codes=["B.a"], texts={"B.a": B_A})
    assert _titles(found) == {"B.a": ["Baseline data"]}


def test_the_seed_catalogue_answers_every_baseline_criterion(session: Session) -> None:
    seed_catalogue(session=session)
    criteria = [c for stage in load_baseline().stages for c in stage.criteria]
    found = match_tools_for_gaps(
        session=session,
        criteria_codes=[c.code for c in criteria],
        texts={c.code: c.text for c in criteria},
    )
    assert list(found) == [c.code for c in criteria]
    for code, tools in found.items():
        assert len(tools) == 3, code
        assert code in tools[0].criteria, code
    assert "Global Urban Monitoring Framework" in [t.title for t in found["B.a"]]
