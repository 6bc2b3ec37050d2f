"""Stage reports with gaps for Nairobi (A.b not met, A.c partly met) and Mombasa (A.b partly
met), so that the two share A.b; a catalogue case study for A.b."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.schemas import ToolCreate
from sdgcities.node.catalogue.service import create_tool

from ..conftest import Account
from ..review.factories import (
    ReviewWorld,
    assign,
    consolidate,
    ok,
    review_fully,
    submitted_application,
)

PEER_CASE_STUDY = {
    "kind": "case_study",
    "title": "How a coastal city drew up its work programme",
    "summary": "A city's work programme, step by step.",
    "link": "https://example.org/work-programme",
    "criteria": ["A.b"],
    "languages": ["en"],
}


def case_study(session: Session) -> int:
    tool = create_tool(
        session=session, data=ToolCreate.model_validate(PEER_CASE_STUDY), actor=SYSTEM
    )
    session.commit()
    assert tool.id is not None
    return tool.id


def reported(
    client: TestClient, world: ReviewWorld, city: Account, verdicts: dict[str, str]
) -> int:
    """A not-recommended application of `city` whose stage report has `verdicts`' gaps."""
    application_id = submitted_application(client, world, city)
    assign(client, world, application_id)
    review_fully(client, world, application_id, verdicts)
    ok(consolidate(client, world, application_id, "not_recommended", summary="Gaps remain."))
    return application_id


def sharing_a_gap(client: TestClient, world: ReviewWorld) -> None:
    reported(client, world, world.nairobi, {"A.b": "not_met", "A.c": "partly_met"})
    reported(client, world, world.mombasa, {"A.b": "partly_met"})


def formed(client: TestClient, world: ReviewWorld, **body: Any) -> Any:
    return ok(
        client.post(
            "/communities",
            headers=world.secretariat.headers,
            json={
                "title": "Work programmes",
                "description": "Cities drawing up their work programmes.",
                "gaps": ["A.b"],
                "cities": ["KE-NBO", "KE-MBA"],
                **body,
            },
        ),
        201,
    )
