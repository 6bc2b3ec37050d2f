"""Technical assistance through the API (§25, §37): the whole path, each refusal, the audit
trail and the summary."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.events.models import EventRecord

from ..conftest import Account
from ..review.factories import ReviewWorld, ok
from .factories import catalogue, reported_application

REQUESTS = "/assistance/requests"


def _ask(
    client: TestClient, city: Account, application_id: int, code: str = "A.b", **body: Any
) -> Any:
    return client.post(
        REQUESTS,
        headers=city.headers,
        json={
            "application_id": application_id,
            "criterion_code": code,
            "kind": "advice",
            "message": "We need help drafting our work programme.",
            **body,
        },
    )


def test_the_whole_path(client: TestClient, world: ReviewWorld, session: Session) -> None:
    service_id, _ = catalogue(session)
    application_id = reported_application(client, world)
    asked = ok(_ask(client, world.nairobi, application_id, kind="tool", tool_id=service_id), 201)
    assert (asked["state"], asked["criterion_code"], asked["report_version"]) == (
        "open",
        "A.b",
        1,
    )
    assert asked["tool_id"] == service_id
    path = f"{REQUESTS}/{asked['id']}"
    staff = world.secretariat.headers
    assigned = ok(client.post(f"{path}/assignment", headers=staff, json={"tool_id": service_id}))
    assert (assigned["state"], assigned["assignee_tool_id"]) == ("assigned", service_id)
    reassigned = ok(
        client.post(
            f"{path}/assignment", headers=staff, json={"user_id": world.secretariat.user_id}
        )
    )
    assert (reassigned["assignee_user_id"], reassigned["assignee_tool_id"]) == (
        world.secretariat.user_id,
        None,
    )
    noted = ok(
        client.post(f"{path}/notes", headers=staff, json={"text": "A call is set for Monday."}),
        201,
    )
    assert [note["text"] for note in noted["notes"]] == ["A call is set for Monday."]
    closed = ok(
        client.post(
            f"{path}/closure",
            headers=world.admin.headers,
            json={"closure": "resolved", "reason": "The work programme is drafted."},
        )
    )
    assert (closed["state"], closed["closure"]) == ("closed", "resolved")
    assert closed["closure_reason"] == "The work programme is drafted."
    # The city follows it, notes included.
    seen = ok(client.get(path, headers=world.nairobi.headers))
    assert seen == closed
    listed = ok(client.get(REQUESTS, headers=world.nairobi.headers))
    assert (listed["count"], listed["data"][0]["id"]) == (1, asked["id"])
    # Each change is in the audit log, by whoever made it.
    entries = session.exec(
        select(AuditEntry)
        .where(AuditEntry.target_type == "assistance_request")
        .order_by(col(AuditEntry.id))
    ).all()
    assert [(e.action, e.actor_user_id) for e in entries] == [
        ("assistance.ask", world.nairobi.user_id),
        ("assistance.assign", world.secretariat.user_id),
        ("assistance.assign", world.secretariat.user_id),
        ("assistance.note", world.secretariat.user_id),
        ("assistance.close", world.admin.user_id),
    ]
    # Once closed, the gap may be asked about again.
    ok(_ask(client, world.nairobi, application_id), 201)


def test_a_city_sees_only_its_own(client: TestClient, world: ReviewWorld) -> None:
    application_id = reported_application(client, world)
    asked = ok(_ask(client, world.nairobi, application_id), 201)
    # Another city can neither ask about Nairobi's application nor read its request.
    refused = _ask(client, world.mombasa, application_id)
    assert refused.status_code == 404
    assert client.get(f"{REQUESTS}/{asked['id']}", headers=world.mombasa.headers).status_code == 404
    assert ok(client.get(REQUESTS, headers=world.mombasa.headers))["count"] == 0


def test_only_a_gap_of_the_report(client: TestClient, world: ReviewWorld) -> None:
    application_id = reported_application(client, world)
    refused = _ask(client, world.nairobi, application_id, code="A.a")
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        f"A.a is not a gap of the stage report of application {application_id} "
        "(its gaps: A.b, A.c); help is asked for a gap"
    )


def test_no_report_no_request(client: TestClient, world: ReviewWorld) -> None:
    body = {"stage": "qualification", "framework_version_id": world.framework_id}
    draft = ok(client.post("/applications", headers=world.nairobi.headers, json=body), 201)
    refused = _ask(client, world.nairobi, draft["id"])
    assert refused.status_code == 404
    assert "no stage report yet" in refused.json()["detail"]


def test_one_open_request_per_gap(client: TestClient, world: ReviewWorld) -> None:
    application_id = reported_application(client, world)
    first = ok(_ask(client, world.nairobi, application_id), 201)
    again = _ask(client, world.nairobi, application_id)
    assert again.status_code == 409
    assert f"request {first['id']} about A.b is still open" in again.json()["detail"]
    ok(_ask(client, world.nairobi, application_id, code="A.c"), 201)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"kind": "tool"}, "a request of kind 'tool' names the catalogue entry (tool_id)"),
        ({"kind": "tool", "tool_id": 999_999}, "the catalogue has no active entry 999999"),
        ({"tool_id": 1}, "only a request of kind 'tool' names a catalogue entry"),
    ],
)
def test_a_named_tool(
    client: TestClient, world: ReviewWorld, body: dict[str, Any], detail: str
) -> None:
    application_id = reported_application(client, world)
    refused = _ask(client, world.nairobi, application_id, **body)
    assert (refused.status_code, refused.json()["detail"]) == (422, detail)


def test_the_message_is_bounded(client: TestClient, world: ReviewWorld) -> None:
    application_id = reported_application(client, world)
    assert _ask(client, world.nairobi, application_id, message="x" * 2001).status_code == 422
    assert _ask(client, world.nairobi, application_id, message="").status_code == 422
    ok(_ask(client, world.nairobi, application_id, message="x" * 2000), 201)


def test_who_may_act(client: TestClient, world: ReviewWorld) -> None:
    application_id = reported_application(client, world)
    asked = ok(_ask(client, world.nairobi, application_id), 201)
    path = f"{REQUESTS}/{asked['id']}"
    for account in (world.lead, world.committee):
        assert _ask(client, account, application_id).status_code == 403
        assert client.get(path, headers=account.headers).status_code == 403
        assert client.get("/assistance/summary", headers=account.headers).status_code == 403
        for action, body in (
            ("assignment", {"user_id": world.secretariat.user_id}),
            ("notes", {"text": "note"}),
            ("closure", {"closure": "declined", "reason": "no"}),
        ):
            response = client.post(f"{path}/{action}", headers=account.headers, json=body)
            assert response.status_code == 403, (action, account)
    # Nor may the city act on its own request, or the secretariat ask for a city.
    assert (
        client.post(f"{path}/notes", headers=world.nairobi.headers, json={"text": "x"}).status_code
        == 403
    )
    assert _ask(client, world.secretariat, application_id).status_code == 403
    assert client.get(path).status_code == 401
    assert client.post(REQUESTS, json={}).status_code == 401


def test_illegal_transitions(client: TestClient, world: ReviewWorld, session: Session) -> None:
    _, case_study_id = catalogue(session)
    application_id = reported_application(client, world)
    asked = ok(_ask(client, world.nairobi, application_id), 201)
    path = f"{REQUESTS}/{asked['id']}"
    staff = world.secretariat.headers
    unresolved = client.post(
        f"{path}/closure", headers=staff, json={"closure": "resolved", "reason": "Done."}
    )
    assert unresolved.status_code == 409
    assert "assign it first" in unresolved.json()["detail"]
    for body, detail in (
        ({}, "assign to exactly one of a person (user_id) or a provider (tool_id)"),
        (
            {"user_id": world.secretariat.user_id, "tool_id": case_study_id},
            "assign to exactly one of a person (user_id) or a provider (tool_id)",
        ),
        (
            {"user_id": world.lead.user_id},
            f"user {world.lead.user_id} is not an active member of the secretariat",
        ),
        (
            {"tool_id": case_study_id},
            f"catalogue entry {case_study_id} is not an active entry that names its provider",
        ),
    ):
        refused = client.post(f"{path}/assignment", headers=staff, json=body)
        assert (refused.status_code, refused.json()["detail"]) == (422, detail)
    missing_reason = client.post(f"{path}/closure", headers=staff, json={"closure": "declined"})
    assert missing_reason.status_code == 422
    blank_reason = client.post(
        f"{path}/closure", headers=staff, json={"closure": "declined", "reason": "  "}
    )
    assert blank_reason.status_code == 422
    ok(
        client.post(
            f"{path}/closure",
            headers=staff,
            json={"closure": "declined", "reason": "The national ministry advises instead."},
        )
    )
    for action, body in (
        ("assignment", {"user_id": world.secretariat.user_id}),
        ("notes", {"text": "Too late."}),
        ("closure", {"closure": "declined", "reason": "Twice."}),
    ):
        refused = client.post(f"{path}/{action}", headers=staff, json=body)
        assert refused.status_code == 409, action
        assert f"assistance request {asked['id']} is closed (declined)" in refused.json()["detail"]


def test_the_summary(client: TestClient, world: ReviewWorld, backend: Any) -> None:
    application_id = reported_application(client, world)
    first = ok(_ask(client, world.nairobi, application_id), 201)
    ok(_ask(client, world.nairobi, application_id, code="A.c"), 201)
    ok(
        client.post(
            f"{REQUESTS}/{first['id']}/closure",
            headers=world.secretariat.headers,
            json={"closure": "declined", "reason": "Asked twice."},
        )
    )
    ok(_ask(client, world.nairobi, application_id), 201)
    summary = ok(client.get("/assistance/summary", headers=world.secretariat.headers))
    assert summary == {
        "node": backend.settings.node_id,
        "data": [
            {"criterion_code": "A.b", "open": 1, "assigned": 0, "closed": 1, "total": 2},
            {"criterion_code": "A.c", "open": 1, "assigned": 0, "closed": 0, "total": 1},
        ],
    }
    # No city, no person.
    assert "KE-NBO" not in str(summary)
    assert client.get("/assistance/summary", headers=world.nairobi.headers).status_code == 403


def test_the_node_reports_each_request_and_closure_by_gap_without_words_or_people(
    client: TestClient, world: ReviewWorld, session: Session
) -> None:
    """§37: the global node plans capacity building from what every node reports."""
    application_id = reported_application(client, world)
    asked = ok(_ask(client, world.nairobi, application_id), 201)
    ok(
        client.post(
            f"{REQUESTS}/{asked['id']}/closure",
            headers=world.secretariat.headers,
            json={"closure": "declined", "reason": "Jane Doe will call the mayor instead."},
        )
    )
    events = session.exec(
        select(EventRecord)
        .where(col(EventRecord.type).in_(["assistance.requested", "assistance.closed"]))
        .order_by(col(EventRecord.sequence))
    ).all()
    assert [(e.type, e.subject) for e in events] == [
        ("assistance.requested", {"locode": "KE-NBO", "request": asked["id"]}),
        ("assistance.closed", {"locode": "KE-NBO", "request": asked["id"]}),
    ]
    requested, closed = (e.data for e in events)
    assert requested == {
        "criterion": "A.b",
        "national": False,
        "stage": "qualification",
        "kind": "advice",
        "framework": {"id": requested["framework"]["id"], "version": "1"},
    }
    assert closed == {"closure": "declined"}


def test_the_federation_view_is_the_global_nodes_only(
    client: TestClient, world: ReviewWorld
) -> None:
    answer = client.get("/federation/assistance", headers=world.secretariat.headers)
    assert answer.status_code == 404
