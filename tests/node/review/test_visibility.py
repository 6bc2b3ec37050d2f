"""A reviewer sees only the applications assigned to them: any other answers 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .factories import QUALIFICATION, ReviewWorld, assign, ok, submitted_application


def test_a_reviewer_sees_only_the_applications_assigned_to_them(
    client: TestClient, world: ReviewWorld
) -> None:
    mine = submitted_application(client, world)
    evidence = world.evidence[QUALIFICATION[0]]
    other = submitted_application(client, world, world.mombasa)
    # Before any assignment no reviewer sees either.
    assert ok(client.get("/applications", headers=world.lead.headers))["count"] == 0
    assign(client, world, mine)

    listed = ok(client.get("/applications", headers=world.lead.headers))
    assert [a["id"] for a in listed["data"]] == [mine]
    assert listed["count"] == 1
    assert ok(client.get("/applications", headers=world.outsider.headers))["count"] == 0
    by_city = ok(client.get("/cities/KE-MBA/applications", headers=world.lead.headers))
    assert by_city["count"] == 0

    assert ok(client.get(f"/applications/{mine}", headers=world.lead.headers))["id"] == mine
    download = client.get(f"/applications/{mine}/evidence/{evidence}", headers=world.lead.headers)
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")

    for account, application_id in ((world.lead, other), (world.outsider, mine)):
        for path in (
            f"/applications/{application_id}",
            f"/applications/{application_id}/evidence/{evidence}",
            f"/applications/{application_id}/review",
            f"/applications/{application_id}/clarifications",
        ):
            response = client.get(path, headers=account.headers)
            assert response.status_code == 404, path
            assert response.json()["detail"] == f"no application {application_id}"
        response = client.put(
            f"/applications/{application_id}/review/assessments/A.a",
            headers=account.headers,
            json={"verdict": "met", "reasons": "Looks fine."},
        )
        assert response.status_code == 404
        assert response.json()["detail"] == f"no application {application_id}"


def test_administrators_and_the_secretariat_see_every_application(
    client: TestClient, world: ReviewWorld
) -> None:
    submitted_application(client, world)
    submitted_application(client, world, world.mombasa)
    for account in (world.admin, world.secretariat):
        assert ok(client.get("/applications", headers=account.headers))["count"] == 2
