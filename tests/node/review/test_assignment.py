"""Assigning reviewers: who may be assigned, how many, and conflicts of interest."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.cities.models import City

from ..conftest import Account, Backend, MakeAccount
from .factories import ReviewWorld, assess, assign, ok, submitted_application


def _assign(client: TestClient, world: ReviewWorld, application_id: int, ids: list[int], lead: int):
    return client.post(
        f"/applications/{application_id}/reviewers",
        headers=world.admin.headers,
        json={"reviewer_ids": ids, "lead_id": lead},
    )


def _conflict(client: TestClient, account: Account, **body):
    return client.post("/review/conflicts", headers=account.headers, json=body)


def test_an_administrator_assigns_reviewers_and_the_application_goes_under_review(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    detail = assign(client, world, application_id)
    assert detail["state"] == "under_review"
    assert detail["reviewers_required"] == 2
    assert [(a["reviewer_id"], a["lead"]) for a in detail["assignments"]] == [
        (world.lead.user_id, True),
        (world.second.user_id, False),
    ]
    assert all(a["submitted_at"] is None for a in detail["assignments"])
    application = ok(client.get(f"/applications/{application_id}", headers=world.admin.headers))
    assert application["state"] == "under_review"
    log = ok(
        client.get("/admin/audit", headers=world.admin.headers, params={"action": "review.assign"})
    )
    assert log["data"][0]["detail"] == {
        "reviewers": [world.lead.user_id, world.second.user_id],
        "lead": world.lead.user_id,
    }
    queue = ok(client.get("/review/assignments", headers=world.lead.headers))
    assert [a["application_id"] for a in queue["data"]] == [application_id]
    assert ok(client.get("/review/assignments", headers=world.outsider.headers))["count"] == 0


def test_the_number_of_reviewers_is_configurable(
    client: TestClient, world: ReviewWorld, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend.settings, "reviewers_per_application", 3)
    application_id = submitted_application(client, world)
    two = [world.lead.user_id, world.second.user_id]
    response = _assign(client, world, application_id, two, world.lead.user_id)
    assert response.status_code == 422
    assert response.json()["detail"] == "at least 3 distinct reviewers are needed; 2 given"
    three = [*two, world.outsider.user_id]
    detail = ok(_assign(client, world, application_id, three, world.outsider.user_id), 201)
    assert [a["lead"] for a in detail["assignments"]] == [False, False, True]
    assert detail["reviewers_required"] == 3


def test_assignment_refusals(
    client: TestClient, world: ReviewWorld, make_account: MakeAccount, session: Session
) -> None:
    application_id = submitted_application(client, world)
    lead, second = world.lead.user_id, world.second.user_id
    member = make_account(Role.COMMITTEE_MEMBER).user_id
    inactive = make_account(Role.REVIEWER)
    bound = make_account(Role.REVIEWER)
    conflicted = make_account(Role.REVIEWER)
    # Accounts are created unbound; one that is bound to the city (from before, or by a
    # database change) must still be refused.
    for user_id, field, value in (
        (inactive.user_id, "active", False),
        (bound.user_id, "city_locode", "KE-NBO"),
    ):
        user = session.get(User, user_id)
        assert user is not None
        setattr(user, field, value)
        session.add(user)
    session.commit()
    ok(_conflict(client, conflicted, city_locode="KE-NBO", reason="I advise its mayor."), 201)
    today = date.today().isoformat()
    cases = [
        ([lead], lead, 422, "at least 2 distinct reviewers are needed; 1 given"),
        (
            [lead, lead],
            lead,
            422,
            f"body: Value error, reviewer {lead} is given twice",
        ),
        (
            [lead, second],
            member,
            422,
            f"body: Value error, the lead, user {member}, is not among reviewer_ids",
        ),
        ([lead, 999_999], lead, 422, "user 999999 does not exist"),
        ([lead, member], lead, 422, f"user {member} is a committee_member, not a reviewer"),
        (
            [lead, inactive.user_id],
            lead,
            409,
            f"reviewer {inactive.user_id}'s account is deactivated",
        ),
        (
            [lead, bound.user_id],
            lead,
            409,
            f"reviewer {bound.user_id}'s account is bound to city KE-NBO, the applicant: a city "
            "is not reviewed by its own people",
        ),
        (
            [conflicted.user_id, second],
            second,
            409,
            f"reviewer {conflicted.user_id} declared a conflict of interest with city KE-NBO on "
            f"{today}",
        ),
    ]
    for ids, lead_id, status, detail in cases:
        response = _assign(client, world, application_id, ids, lead_id)
        assert (response.status_code, response.json()["detail"]) == (status, detail), ids
    # None of the refusals assigned anyone.
    review = ok(client.get(f"/applications/{application_id}/review", headers=world.admin.headers))
    assert review["assignments"] == []
    assert review["state"] == "submitted"


def test_reviewers_are_assigned_once_and_only_to_a_submitted_application(
    client: TestClient, world: ReviewWorld
) -> None:
    draft = ok(
        client.post(
            "/applications",
            headers=world.mombasa.headers,
            json={"stage": "qualification", "framework_version_id": world.framework_id},
        ),
        201,
    )["id"]
    ids = [world.lead.user_id, world.second.user_id]
    response = _assign(client, world, draft, ids, world.lead.user_id)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"application {draft} is draft; reviewers are assigned once, to a submitted application"
    )
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    again = _assign(client, world, application_id, ids, world.lead.user_id)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"application {application_id} is under_review; reviewers are assigned once, to a "
        "submitted application"
    )


def test_only_administrators_assign(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    for account in (world.lead, world.secretariat, world.nairobi):
        response = client.post(
            f"/applications/{application_id}/reviewers",
            headers=account.headers,
            json={"reviewer_ids": [world.lead.user_id, world.second.user_id], "lead_id": 1},
        )
        assert response.status_code == 403
        assert response.json()["detail"] == f"a {account.role.value} may not do this"


# Conflicts of interest --------------------------------------------------------------------------


def test_reviewers_declare_their_own_conflicts_and_administrators_anyones(
    client: TestClient, world: ReviewWorld
) -> None:
    own = ok(
        _conflict(client, world.lead, city_locode="KE-NBO", reason="My sister is its mayor."), 201
    )
    assert own["reviewer_id"] == world.lead.user_id
    assert own["declared_by"] == world.lead.user_id
    theirs = ok(
        _conflict(
            client,
            world.admin,
            city_locode="KE-MBA",
            reason="Consulted for the city in 2025.",
            reviewer_id=world.second.user_id,
        ),
        201,
    )
    assert (theirs["reviewer_id"], theirs["declared_by"]) == (
        world.second.user_id,
        world.admin.user_id,
    )
    mine = ok(client.get("/review/conflicts", headers=world.lead.headers))
    assert [c["city_locode"] for c in mine["data"]] == ["KE-NBO"]
    everyone = ok(client.get("/review/conflicts", headers=world.secretariat.headers))
    assert everyone["count"] == 2
    filtered = ok(
        client.get(
            "/review/conflicts", headers=world.admin.headers, params={"city_locode": "KE-MBA"}
        )
    )
    assert [c["reviewer_id"] for c in filtered["data"]] == [world.second.user_id]


def test_conflict_refusals(client: TestClient, world: ReviewWorld) -> None:
    ok(_conflict(client, world.lead, city_locode="KE-NBO", reason="Former employee."), 201)
    today = date.today().isoformat()
    cases = [
        (
            world.lead,
            {"city_locode": "KE-NBO", "reason": "Again."},
            409,
            f"reviewer {world.lead.user_id} already declared a conflict of interest with city "
            f"KE-NBO on {today}",
        ),
        (
            world.lead,
            {"city_locode": "KE-MBA", "reason": "x", "reviewer_id": world.second.user_id},
            403,
            "a reviewer declares their own conflicts of interest only",
        ),
        (
            world.admin,
            {"city_locode": "KE-MBA", "reason": "x"},
            422,
            "reviewer_id is required: name the reviewer the conflict is for",
        ),
        (
            world.admin,
            {"city_locode": "KE-MBA", "reason": "x", "reviewer_id": world.nairobi.user_id},
            422,
            f"user {world.nairobi.user_id} is not a reviewer",
        ),
        (world.second, {"city_locode": "KE-XXX", "reason": "x"}, 404, "no city KE-XXX"),
        (
            world.second,
            {"city_locode": "KE-MBA", "reason": "   "},
            422,
            "body.reason: String should have at least 1 character",
        ),
    ]
    for account, body, status, detail in cases:
        response = _conflict(client, account, **body)
        assert (response.status_code, response.json()["detail"]) == (status, detail), body
    response = _conflict(client, world.nairobi, city_locode="KE-NBO", reason="x")
    assert response.status_code == 403


# Replacing a reviewer ---------------------------------------------------------------------------


def _replace(client: TestClient, world: ReviewWorld, application_id: int, old: int, new: int):
    return client.post(
        f"/applications/{application_id}/reviewers/{old}/replace",
        headers=world.admin.headers,
        json={"replacement_id": new},
    )


def test_a_conflict_declared_late_stops_the_reviewer_until_replaced(
    client: TestClient, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    ok(assess(client, world.lead, application_id, "A.a"))
    ok(
        _conflict(client, world.lead, city_locode="KE-NBO", reason="Just offered a post there."),
        201,
    )
    blocked = assess(client, world.lead, application_id, "A.b")
    assert blocked.status_code == 409
    assert blocked.json()["detail"] == (
        f"you declared a conflict of interest with city KE-NBO: an administrator replaces you on "
        f"application {application_id}"
    )
    detail = ok(_replace(client, world, application_id, world.lead.user_id, world.outsider.user_id))
    assert [(a["reviewer_id"], a["lead"]) for a in detail["assignments"]] == [
        (world.second.user_id, False),
        (world.outsider.user_id, True),
    ]
    # The replaced reviewer's work and access go; the replacement starts afresh, as the lead.
    assert detail["assessments"] == []
    gone = client.get(f"/applications/{application_id}", headers=world.lead.headers)
    assert gone.status_code == 404
    ok(client.get(f"/applications/{application_id}", headers=world.outsider.headers))
    log = ok(
        client.get("/admin/audit", headers=world.admin.headers, params={"action": "review.replace"})
    )
    assert log["data"][0]["detail"] == {
        "replaced": world.lead.user_id,
        "replacement": world.outsider.user_id,
        "lead": True,
        "had_submitted": False,
        "assessments_dropped": 1,
    }


def test_replacement_refusals(client: TestClient, world: ReviewWorld) -> None:
    application_id = submitted_application(client, world)
    early = _replace(client, world, application_id, world.lead.user_id, world.outsider.user_id)
    assert early.status_code == 409
    assert early.json()["detail"] == (
        f"application {application_id} is submitted; reviewers are replaced only during the review"
    )
    assign(client, world, application_id)
    cases = [
        (
            world.outsider.user_id,
            world.lead.user_id,
            404,
            f"reviewer {world.outsider.user_id} is not assigned to application {application_id}",
        ),
        (
            world.lead.user_id,
            world.second.user_id,
            409,
            f"reviewer {world.second.user_id} is already assigned to application {application_id}",
        ),
        (
            world.lead.user_id,
            world.nairobi.user_id,
            422,
            f"user {world.nairobi.user_id} is a city_applicant, not a reviewer",
        ),
    ]
    for old, new, status, detail in cases:
        response = _replace(client, world, application_id, old, new)
        assert (response.status_code, response.json()["detail"]) == (status, detail)
    ok(_conflict(client, world.outsider, city_locode="KE-NBO", reason="Former staff."), 201)
    conflicted = _replace(client, world, application_id, world.lead.user_id, world.outsider.user_id)
    assert conflicted.status_code == 409
    assert conflicted.json()["detail"].startswith(
        f"reviewer {world.outsider.user_id} declared a conflict of interest with city KE-NBO"
    )
    secretariat = client.post(
        f"/applications/{application_id}/reviewers/{world.lead.user_id}/replace",
        headers=world.secretariat.headers,
        json={"replacement_id": world.outsider.user_id},
    )
    assert secretariat.status_code == 403


def test_candidates_are_the_eligible_reviewers_language_first_then_least_busy(
    client: TestClient, world: ReviewWorld, make_account: MakeAccount, session: Session
) -> None:
    city = session.get(City, "KE-MBA")
    assert city is not None
    city.languages = ["sw", "en"]
    session.add(city)
    session.commit()
    swahili = make_account(Role.REVIEWER, languages=["sw-KE"])
    french = make_account(Role.REVIEWER, languages=["fr"])
    conflicted = make_account(Role.REVIEWER, languages=["sw"])
    ok(_conflict(client, conflicted, city_locode="KE-MBA", reason="Lives there."), 201)
    # The lead and second reviewer are busy with Nairobi's review.
    assign(client, world, submitted_application(client, world))
    application_id = submitted_application(client, world, world.mombasa)

    path = f"/applications/{application_id}/reviewers/candidates"
    found = ok(client.get(path, headers=world.secretariat.headers))
    assert [(c["id"], c["shares_language"], c["open_reviews"]) for c in found["data"]] == [
        (world.outsider.user_id, True, 0),
        (swahili.user_id, True, 0),
        (world.lead.user_id, True, 1),
        (world.second.user_id, True, 1),
        (french.user_id, False, 0),
    ]
    ok(
        client.post(
            f"/applications/{application_id}/reviewers",
            headers=world.admin.headers,
            json={
                "reviewer_ids": [swahili.user_id, world.outsider.user_id],
                "lead_id": swahili.user_id,
            },
        ),
        201,
    )
    left = ok(client.get(path, headers=world.admin.headers))
    assert [c["id"] for c in left["data"]] == [
        world.lead.user_id,
        world.second.user_id,
        french.user_id,
    ]
    assert client.get(path, headers=world.lead.headers).status_code == 403
