"""Clarification: the reviewers ask, the city changes what was asked about and answers, and the
review resumes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ..evidence.samples import PDF
from .factories import ReviewWorld, assess, assign, ok, submitted_application, upload


def _ask(client: TestClient, world: ReviewWorld, application_id: int, criteria, question="Why?"):
    return client.post(
        f"/applications/{application_id}/clarifications",
        headers=world.second.headers,
        json={"criteria": criteria, "question": question},
    )


def _respond(client: TestClient, world: ReviewWorld, application_id: int, answers):
    return client.post(
        f"/applications/{application_id}/clarifications/respond",
        headers=world.nairobi.headers,
        json={"answers": answers},
    )


def _state(client: TestClient, world: ReviewWorld, application_id: int) -> str:
    return ok(client.get(f"/applications/{application_id}", headers=world.admin.headers))["state"]


def test_the_clarification_round_trip(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    request = ok(_ask(client, world, application_id, ["A.b"], "Which levels, and by when?"), 201)
    assert request["criteria"] == ["A.b"]
    assert request["answer"] is None
    assert "asked_by" not in request
    assert _state(client, world, application_id) == "clarification_requested"

    # The city sees the question, changes what it was asked about and adds evidence to it.
    seen = ok(
        client.get(f"/applications/{application_id}/clarifications", headers=world.nairobi.headers)
    )
    assert [r["question"] for r in seen["data"]] == ["Which levels, and by when?"]
    ok(
        client.put(
            f"/applications/{application_id}/criteria/A.b",
            headers=world.nairobi.headers,
            json={"narrative": "Silver in 2026 and gold in 2028, as the work programme says."},
        )
    )
    added = upload(client, world.nairobi, application_id, "A.b", "work-programme.pdf")

    # Reviewers wait while the application is with the city.
    waiting = assess(client, world.lead, application_id, "A.a")
    assert waiting.status_code == 409
    assert waiting.json()["detail"] == (
        f"application {application_id} is clarification_requested: assessing waits until the "
        "city has answered"
    )

    answered = ok(
        _respond(
            client,
            world,
            application_id,
            [{"request_id": request["id"], "answer": "See the updated work programme."}],
        )
    )
    assert answered["data"][0]["answer"] == "See the updated work programme."
    assert answered["data"][0]["answered_at"] is not None
    assert _state(client, world, application_id) == "under_review"
    # The new evidence can be cited now.
    cited = ok(assess(client, world.lead, application_id, "A.b", evidence_ids=[added]))
    assert cited["evidence_ids"] == [added]
    application = ok(client.get(f"/applications/{application_id}", headers=world.lead.headers))
    answer = next(a for a in application["answers"] if a["criterion_code"] == "A.b")
    assert answer["narrative"].startswith("Silver in 2026")
    actions = [
        e["action"]
        for e in ok(client.get("/admin/audit", headers=world.admin.headers))["data"]
        if e["action"].startswith("review.clarification")
    ]
    assert actions == ["review.clarification.respond", "review.clarification.request"]


def test_during_a_clarification_the_city_changes_only_what_was_asked_about(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    first_evidence = world.evidence["A.a"]
    assign(client, world, application_id)
    ok(_ask(client, world, application_id, ["A.b", "A.c"]), 201)
    refusal = (
        f"application {application_id} is clarification_requested: only the criteria the "
        "reviewers asked about (A.b, A.c) may change, and evidence may be added but not removed; "
    )
    other = client.put(
        f"/applications/{application_id}/criteria/A.a",
        headers=world.nairobi.headers,
        json={"narrative": "Changed."},
    )
    assert other.status_code == 409
    assert other.json()["detail"] == refusal + "criterion A.a is not open"
    upload_elsewhere = client.post(
        f"/applications/{application_id}/criteria/A.a/evidence",
        params={"filename": "x.pdf"},
        headers={**world.nairobi.headers, "Content-Type": "application/octet-stream"},
        content=PDF,
    )
    assert upload_elsewhere.status_code == 409
    assert upload_elsewhere.json()["detail"] == refusal + "criterion A.a is not open"
    removal = client.delete(
        f"/applications/{application_id}/evidence/{first_evidence}", headers=world.nairobi.headers
    )
    assert removal.status_code == 409
    assert removal.json()["detail"] == refusal + "evidence removal is not open"
    emptied = client.put(
        f"/applications/{application_id}/criteria/A.b",
        headers=world.nairobi.headers,
        json={"narrative": ""},
    )
    assert emptied.status_code == 422
    assert emptied.json()["detail"] == (
        "criterion A.b is under review: its answer keeps a narrative (send the clarified one)"
    )


def test_clarification_refusals(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    not_yet = _respond(client, world, application_id, [{"request_id": 1, "answer": "x"}])
    assert not_yet.status_code == 409
    assert not_yet.json()["detail"] == (
        f"application {application_id} is submitted: there is no clarification request to answer"
    )
    assign(client, world, application_id)
    unknown = _ask(client, world, application_id, ["A.z"])
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        "stage qualification has no criterion 'A.z'; its criteria are A.a, A.b, A.c"
    )
    first = ok(_ask(client, world, application_id, ["A.a"]), 201)
    # A second question while the first is open: the city answers both at once.
    second = ok(_ask(client, world, application_id, ["A.c"], "And the public commitment?"), 201)
    partial = _respond(client, world, application_id, [{"request_id": first["id"], "answer": "a"}])
    assert partial.status_code == 422
    assert partial.json()["detail"] == (
        f"answer every open clarification request at once; unanswered: {second['id']}"
    )
    stray = _respond(client, world, application_id, [{"request_id": 999_999, "answer": "a"}])
    assert stray.status_code == 422
    assert stray.json()["detail"] == (
        f"request 999999 is not an open clarification request of application {application_id}"
    )
    other_city = client.post(
        f"/applications/{application_id}/clarifications/respond",
        headers=world.mombasa.headers,
        json={"answers": [{"request_id": first["id"], "answer": "a"}]},
    )
    assert other_city.status_code == 404
    assert other_city.json()["detail"] == f"no application {application_id}"
    assert (
        client.get(
            f"/applications/{application_id}/clarifications", headers=world.mombasa.headers
        ).status_code
        == 404
    )
    answers = [
        {"request_id": first["id"], "answer": "a"},
        {"request_id": second["id"], "answer": "b"},
    ]
    ok(_respond(client, world, application_id, answers))
    again = _respond(client, world, application_id, answers)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"application {application_id} is under_review: there is no clarification request to answer"
    )


def test_a_reviewer_who_submitted_asks_no_more(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    for code in ("A.a", "A.b", "A.c"):
        ok(assess(client, world.second, application_id, code))
    ok(client.post(f"/applications/{application_id}/review/submit", headers=world.second.headers))
    response = _ask(client, world, application_id, ["A.a"])
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"you submitted your review of application {application_id}: only reviewers still "
        "assessing ask for clarification"
    )


def test_clarifications_are_asked_only_during_the_review(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    ok(client.post(f"/applications/{application_id}/withdraw", headers=world.nairobi.headers))
    response = _ask(client, world, application_id, ["A.a"])
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"application {application_id} is withdrawn: clarifications are asked during the review"
    )
