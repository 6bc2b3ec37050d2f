"""A Nairobi application whose stage report has two gaps (A.b not met, A.c partly met), and a
catalogue with a provider's service for A.b."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.actor import SYSTEM
from sdgcities.node.catalogue.schemas import ToolCreate
from sdgcities.node.catalogue.service import create_tool

from ..review.factories import (
    ReviewWorld,
    assign,
    consolidate,
    ok,
    review_fully,
    submitted_application,
)

ADVISORY_SERVICE = {
    "kind": "service",
    "title": "Work programme advisory service",
    "summary": "UN-Habitat's experts help a city draw up its certification work programme.",
    "link": "https://example.org/advisory",
    "criteria": ["A.b"],
    "languages": ["en"],
    "provider": "UN-Habitat",
}
UNSIGNED_CASE_STUDY = {
    "kind": "case_study",
    "title": "A council's public pledge",
    "summary": "How one council made its commitment public.",
    "link": "https://example.org/pledge",
    "criteria": ["A.c"],
    "languages": ["en"],
}


def catalogue(session: Session) -> tuple[int, int]:
    """The ids of the provider's service and of a case study that names no provider."""
    ids = [
        create_tool(session=session, data=ToolCreate.model_validate(entry), actor=SYSTEM).id
        for entry in (ADVISORY_SERVICE, UNSIGNED_CASE_STUDY)
    ]
    session.commit()
    assert ids[0] is not None
    assert ids[1] is not None
    return ids[0], ids[1]


def reported_application(client: TestClient, world: ReviewWorld) -> int:
    """A not-recommended application of Nairobi with its stage report: gaps A.b and A.c."""
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id, {"A.b": "not_met", "A.c": "partly_met"})
    ok(
        consolidate(
            client,
            world,
            application_id,
            "not_recommended",
            summary="No work programme yet, and the commitment is not public.",
        )
    )
    return application_id
