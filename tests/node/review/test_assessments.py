"""Assessing criteria: verdicts, reasons, evidence references, submission and independence."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .factories import (
    QUALIFICATION,
    ReviewWorld,
    assess,
    assign,
    ok,
    review_fully,
    submitted_application,
)


def test_a_reviewer_assesses_with_reasons_and_evidence_and_may_change_it_until_submitting(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    first = ok(
        assess(
            client,
            world.lead,
            application_id,
            "A.a",
            "partly_met",
            reasons="The stocktake omits the sectoral plans.",
            evidence_ids=[world.evidence["A.a"]],
        )
    )
    assert first["verdict"] == "partly_met"
    assert first["evidence_ids"] == [world.evidence["A.a"]]
    assert first["reviewer_id"] == world.lead.user_id
    changed = ok(assess(client, world.lead, application_id, "A.a", "met", reasons="Found them."))
    assert (changed["verdict"], changed["reasons"], changed["evidence_ids"]) == (
        "met",
        "Found them.",
        [],
    )
    review = ok(client.get(f"/applications/{application_id}/review", headers=world.lead.headers))
    assert [(a["criterion_code"], a["verdict"]) for a in review["assessments"]] == [("A.a", "met")]


def test_evidence_references_must_be_the_applications_and_the_criterions(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    own = dict(world.evidence)
    submitted_application(client, world, world.mombasa)
    assign(client, world, application_id)
    cases = [
        (world.evidence["A.a"], "of another application"),
        (own["A.b"], "of another criterion"),
        (999_999, "that does not exist"),
    ]
    for evidence_id, why in cases:
        response = assess(client, world.lead, application_id, "A.a", evidence_ids=[evidence_id])
        assert response.status_code == 422, why
        assert response.json()["detail"] == (
            f"evidence {evidence_id} is not attached to criterion A.a of application "
            f"{application_id}"
        )
    assert ok(assess(client, world.lead, application_id, "A.a", evidence_ids=[own["A.a"]]))


def test_assessment_refusals(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    unassigned = assess(client, world.lead, application_id, "A.a")
    assert unassigned.status_code == 404
    assign(client, world, application_id)
    cases = [
        (
            {"code": "B.a"},
            404,
            "stage qualification has no criterion 'B.a'; its criteria are A.a, A.b, A.c",
        ),
        ({"verdict": "excellent"}, 422, None),
        ({"reasons": "  "}, 422, "body.reasons: String should have at least 1 character"),
    ]
    for change, status, detail in cases:
        body = {"verdict": "met", "reasons": "Fine.", "evidence_ids": []}
        code = change.pop("code", "A.a")
        body.update(change)
        response = client.put(
            f"/applications/{application_id}/review/assessments/{code}",
            headers=world.lead.headers,
            json=body,
        )
        assert response.status_code == status, change
        if detail is not None:
            assert response.json()["detail"] == detail
    twice = client.put(
        f"/applications/{application_id}/review/assessments/A.a",
        headers=world.lead.headers,
        json={"verdict": "met", "reasons": "x", "evidence_ids": [1, 1]},
    )
    assert twice.status_code == 422
    assert twice.json()["detail"] == "body: Value error, evidence 1 is given twice"
    for account in (world.admin, world.nairobi):
        assert assess(client, account, application_id, "A.a").status_code == 403


def test_submitting_needs_every_criterion_and_freezes_the_review(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    submit = f"/applications/{application_id}/review/submit"
    ok(assess(client, world.lead, application_id, "A.a"))
    early = client.post(submit, headers=world.lead.headers)
    assert early.status_code == 422
    assert early.json()["detail"] == (
        "assess every criterion of stage qualification before submitting; missing: A.b, A.c"
    )
    assert early.json()["missing"] == ["A.b", "A.c"]
    for code in QUALIFICATION[1:]:
        ok(assess(client, world.lead, application_id, code))
    detail = ok(client.post(submit, headers=world.lead.headers))
    lead = next(a for a in detail["assignments"] if a["lead"])
    assert lead["submitted_at"] is not None

    frozen = assess(client, world.lead, application_id, "A.a", "not_met")
    assert frozen.status_code == 409
    assert frozen.json()["detail"].startswith(
        f"you submitted your review of application {application_id} at "
    )
    assert frozen.json()["detail"].endswith("; it is frozen")
    again = client.post(submit, headers=world.lead.headers)
    assert again.status_code == 409
    assert again.json()["detail"] == frozen.json()["detail"]


def test_a_reviewer_sees_the_others_assessments_only_after_submitting(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id, reviewers=[world.lead])
    ok(assess(client, world.second, application_id, "A.a", "not_met"))

    def seen_by(account) -> list[tuple[int, str]]:
        review = ok(client.get(f"/applications/{application_id}/review", headers=account.headers))
        return sorted((a["reviewer_id"], a["criterion_code"]) for a in review["assessments"])

    assert seen_by(world.second) == [(world.second.user_id, "A.a")]
    lead_view = seen_by(world.lead)
    assert (world.second.user_id, "A.a") in lead_view
    assert len(lead_view) == 4
    assert seen_by(world.admin) == lead_view
    assert seen_by(world.secretariat) == lead_view
    for code in QUALIFICATION[1:]:
        ok(assess(client, world.second, application_id, code))
    ok(client.post(f"/applications/{application_id}/review/submit", headers=world.second.headers))
    assert len(seen_by(world.second)) == 6
