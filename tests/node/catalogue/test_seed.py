"""The curated starting catalogue (`data/seed-tools.json`) and `seed_catalogue`."""

from __future__ import annotations

from sqlmodel import Session, func, select

from sdgcities.node.actor import SYSTEM
from sdgcities.node.audit.service import list_entries
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.catalogue.service import (
    deactivate_tool,
    load_seed,
    search_tools,
    seed_catalogue,
)
from sdgcities.node.frameworks import load_baseline

from .conftest import MakeTool

# The thematic areas and issues §37 names.
THEMES_37 = {
    "data",
    "strategic planning",
    "governance",
    "spatial planning",
    "basic urban service delivery",
    "housing",
    "participatory slum upgrading",
    "poverty",
    "inequality",
    "urban human rights",
    "climate",
    "gender",
    "urban crisis",
    "peace",
    "financing",
}


def test_the_seed_covers_every_baseline_criterion_and_every_theme_of_37() -> None:
    seed = load_seed()
    baseline_codes = {c.code for stage in load_baseline().stages for c in stage.criteria}
    assert {code for tool in seed for code in tool.criteria} == baseline_codes
    assert {theme for tool in seed for theme in tool.themes} == THEMES_37
    assert len({tool.title for tool in seed}) == len(seed)
    assert all(tool.provider and tool.criteria and tool.languages for tool in seed)
    assert {tool.kind for tool in seed} >= {"tool", "case_study", "service", "training"}
    titles = {tool.title for tool in seed}
    assert {
        "Global Urban Monitoring Framework",
        "Guidelines for Voluntary Local Reviews",
        "SDG Cities flagship initiative",
        "Urban Agenda Platform",
        "International Guidelines on Urban and Territorial Planning",
        "Local2030 Coalition",
        "Participatory Slum Upgrading Programme",
    } <= titles


def test_seeding_fills_an_empty_catalogue_once(session: Session) -> None:
    added = seed_catalogue(session=session)
    assert added == len(load_seed())
    assert session.exec(select(func.count()).select_from(Tool)).one() == added
    tools, count = search_tools(session=session, q="voluntary local reviews", limit=5)
    assert count >= 1
    assert tools[0].title == "Guidelines for Voluntary Local Reviews"

    assert seed_catalogue(session=session) == 0
    assert session.exec(select(func.count()).select_from(Tool)).one() == added
    entries, _ = list_entries(session=session, offset=0, limit=10, action="catalogue.seed")
    assert [(e.actor_role, e.detail) for e in entries] == [("administrator", {"added": added})]


def test_seeding_leaves_an_administrators_catalogue_alone(
    session: Session, make_tool: MakeTool
) -> None:
    # Even a catalogue whose every entry was deleted is the administrators' choice, not empty.
    deactivate_tool(session=session, tool=make_tool(title="Our own"), actor=SYSTEM)
    assert seed_catalogue(session=session) == 0
    assert session.exec(select(func.count()).select_from(Tool)).one() == 1
