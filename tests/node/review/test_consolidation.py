"""Consolidation: only the lead, only once everyone has submitted; the recommendation, the
default verdicts, the state it leaves and the events it appends."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.federation import EventType
from sdgcities.node.events.service import list_events

from .factories import (
    ReviewWorld,
    assess,
    assign,
    consolidate,
    ok,
    review_fully,
    submitted_application,
)


def _under_review(client: TestClient, world: ReviewWorld) -> int:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    return application_id


def test_only_the_lead_consolidates_and_only_after_everyone_submitted(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = _under_review(client, world)
    review_fully(client, world, application_id, reviewers=[world.lead])
    early = consolidate(client, world, application_id, "recommended")
    assert early.status_code == 409
    assert early.json()["detail"] == (
        f"every reviewer submits before the lead consolidates; waiting for reviewer "
        f"{world.second.user_id}"
    )
    review_fully(client, world, application_id, reviewers=[world.second])
    not_lead = consolidate(client, world, application_id, "recommended", reviewer=world.second)
    assert not_lead.status_code == 403
    assert not_lead.json()["detail"] == (
        f"only the lead reviewer of application {application_id} consolidates it"
    )
    outsider = consolidate(client, world, application_id, "recommended", reviewer=world.outsider)
    assert outsider.status_code == 404
    assert outsider.json()["detail"] == f"no application {application_id}"
    done = ok(consolidate(client, world, application_id, "recommended"))
    assert done["document"]["recommendation"] == "recommended"
    state = ok(client.get(f"/applications/{application_id}", headers=world.admin.headers))["state"]
    assert state == "recommended"
    again = consolidate(client, world, application_id, "recommended")
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"application {application_id} is recommended: consolidating the review is possible only "
        "while it is under_review"
    )


def test_a_recommendation_with_gaps_is_refused_and_names_them(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = _under_review(client, world)
    review_fully(client, world, application_id, {"A.b": "partly_met", "A.c": "not_met"})
    response = consolidate(client, world, application_id, "recommended")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "a recommendation needs every criterion met (partly met is a gap); the gaps are "
        "A.b (partly_met), A.c (not_met)"
    )
    assert response.json()["gaps"] == {"A.b": "partly_met", "A.c": "not_met"}
    # The lead's own verdicts are held to the same rule.
    overruled = consolidate(
        client,
        world,
        application_id,
        "recommended",
        verdicts=[{"code": "A.b", "verdict": "met", "reasons": "The plan was found later."}],
    )
    assert overruled.status_code == 422
    assert overruled.json()["detail"].endswith("the gaps are A.c (not_met)")
    unknown = consolidate(
        client,
        world,
        application_id,
        "not_recommended",
        verdicts=[{"code": "B.a", "verdict": "met", "reasons": "x"}],
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        "stage qualification has no criterion 'B.a'; its criteria are A.a, A.b, A.c"
    )
    state = ok(client.get(f"/applications/{application_id}", headers=world.admin.headers))["state"]
    assert state == "under_review"


def test_a_criterion_the_lead_leaves_out_takes_the_most_cautious_verdict(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = _under_review(client, world)
    review_fully(client, world, application_id, {"A.b": "partly_met"}, reviewers=[world.lead])
    review_fully(
        client,
        world,
        application_id,
        {"A.b": "not_met", "A.c": "partly_met"},
        reviewers=[world.second],
    )
    ok(
        consolidate(
            client,
            world,
            application_id,
            "not_recommended",
            verdicts=[{"code": "A.c", "verdict": "met", "reasons": "The pledge is public."}],
            summary="The work programme is missing.",
        )
    )
    review = ok(client.get(f"/applications/{application_id}/review", headers=world.admin.headers))
    consolidation = review["consolidation"]
    assert consolidation["recommendation"] == "not_recommended"
    assert consolidation["summary"] == "The work programme is missing."
    assert [
        (v["code"], v["verdict"], v["defaulted"], v["reasons"]) for v in consolidation["verdicts"]
    ] == [
        ("A.a", "met", True, ""),
        ("A.b", "not_met", True, ""),
        ("A.c", "met", False, "The pledge is public."),
    ]
    state = ok(client.get(f"/applications/{application_id}", headers=world.admin.headers))["state"]
    assert state == "not_recommended"
    # Closed: the city may apply again.
    again = client.post(
        "/applications",
        headers=world.nairobi.headers,
        json={"stage": "qualification", "framework_version_id": world.framework_id},
    )
    assert again.status_code == 201


def test_consolidation_appends_review_completed_and_report_generated(
    client: TestClient, world: ReviewWorld, session: Session
) -> None:
    application_id = _under_review(client, world)
    before = list_events(session=session, after=0, limit=10_000)
    review_fully(client, world, application_id, {"A.a": "partly_met"})
    report = ok(consolidate(client, world, application_id, "not_recommended"))
    events = list_events(session=session, after=0, limit=10_000)[len(before) :]
    assert [event.type for event in events] == [
        EventType.REVIEW_COMPLETED,
        EventType.REPORT_GENERATED,
    ]
    completed, generated = events
    subject = {"locode": "KE-NBO", "application": application_id}
    assert dict(completed.subject) == subject
    assert completed.data["recommendation"] == "not_recommended"
    assert dict(completed.data["verdicts"]) == {"met": 2, "partly_met": 1, "not_met": 0}
    assert completed.data["reviewers"] == 2
    assert completed.data["level"] == "silver"
    assert completed.data["framework"]["digest"].startswith("sha256:")
    assert dict(generated.subject) == subject
    assert generated.data["digest"] == report["digest"]
    assert generated.data["version"] == 1
    assert list(generated.data["gaps"]) == ["A.a"]
    # Facts only, nothing personal: the log goes to the global node for good.
    assert set(completed.data) == {
        "stage",
        "level",
        "framework",
        "recommendation",
        "verdicts",
        "reviewers",
    }
    assert set(generated.data) == {"stage", "version", "digest", "recommendation", "gaps"}


def test_nothing_is_recorded_when_the_review_is_only_assessed(
    client: TestClient, world: ReviewWorld, session: Session
) -> None:
    application_id = _under_review(client, world)
    before = len(list_events(session=session, after=0, limit=10_000))
    ok(assess(client, world.lead, application_id, "A.a"))
    assert len(list_events(session=session, after=0, limit=10_000)) == before


def test_a_city_may_withdraw_while_under_review(client: TestClient, world: ReviewWorld) -> None:
    application_id = _under_review(client, world)
    withdrawn = ok(
        client.post(f"/applications/{application_id}/withdraw", headers=world.nairobi.headers)
    )
    assert withdrawn["state"] == "withdrawn"
    late = assess(client, world.lead, application_id, "A.a")
    assert late.status_code == 409
    assert late.json()["detail"] == (
        f"application {application_id} is withdrawn: assessing is possible only while it is "
        "under_review"
    )
