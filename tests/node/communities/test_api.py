"""Learning communities through the API (§18, §30c): proposals from the stage reports' gaps,
forming, consent and what it shows, events with invitations, the discussion, each refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, col, select

from sdgcities.node.audit.models import AuditEntry

from ..conftest import Account
from ..notifications.outbox import mail_to
from ..review.factories import ok
from .conftest import CommunityWorld
from .factories import case_study, formed, reported, sharing_a_gap

COMMUNITIES = "/communities"


def _consent(client: TestClient, city: Account, community_id: int, answer: str) -> Any:
    return client.post(
        f"{COMMUNITIES}/{community_id}/consent", headers=city.headers, json={"answer": answer}
    )


def _event(client: TestClient, staff: Account, community_id: int, **body: Any) -> Any:
    starts = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    return client.post(
        f"{COMMUNITIES}/{community_id}/events",
        headers=staff.headers,
        json={
            "kind": "webinar",
            "title": "Drafting a work programme",
            "starts_at": starts.isoformat(),
            "minutes": 90,
            **body,
        },
    )


def test_proposals_group_the_cities_sharing_gaps(client: TestClient, world: CommunityWorld) -> None:
    review = world.review
    assert ok(client.get(f"{COMMUNITIES}/proposals", headers=review.secretariat.headers)) == {
        "data": []
    }
    sharing_a_gap(client, review)
    [proposal] = ok(client.get(f"{COMMUNITIES}/proposals", headers=review.secretariat.headers))[
        "data"
    ]
    # A.c is Nairobi's alone: no proposal around it.
    assert [gap["code"] for gap in proposal["gaps"]] == ["A.b"]
    assert [city["locode"] for city in proposal["cities"]] == ["KE-MBA", "KE-NBO"]
    # "Urban water" and "urban water" are one priority; "housing" and "ports" are not shared.
    assert proposal["shared_priorities"] == ["urban water"]
    assert proposal["formed"] is None
    community = formed(client, review)
    [proposal] = ok(client.get(f"{COMMUNITIES}/proposals", headers=review.admin.headers))["data"]
    assert proposal["formed"] == community["id"]


def test_a_smaller_group_shares_more_gaps(client: TestClient, world: CommunityWorld) -> None:
    """Kisumu has Nairobi's two gaps; Mombasa only one of them: Nairobi and Kisumu are proposed
    around both, and the three around the one they all have."""
    review = world.review
    sharing_a_gap(client, review)
    reported(client, review, world.kisumu, {"A.b": "partly_met", "A.c": "not_met"})
    found = ok(client.get(f"{COMMUNITIES}/proposals", headers=review.secretariat.headers))["data"]
    assert [
        ([gap["code"] for gap in p["gaps"]], [city["locode"] for city in p["cities"]])
        for p in found
    ] == [
        (["A.b", "A.c"], ["KE-KIS", "KE-NBO"]),
        (["A.b"], ["KE-KIS", "KE-MBA", "KE-NBO"]),
    ]


def test_the_whole_path(client: TestClient, world: CommunityWorld, session: Session) -> None:
    review = world.review
    tool_id = case_study(session)
    sharing_a_gap(client, review)
    community = formed(client, review)
    assert community["consent"] is None
    assert {(m["locode"], m["consent"]) for m in community["members"]} == {
        ("KE-NBO", "invited"),
        ("KE-MBA", "invited"),
    }
    [gap] = community["gaps"]
    assert gap["code"] == "A.b"
    assert [tool["id"] for tool in gap["tools"]] == [tool_id]
    community_id = community["id"]
    path = f"{COMMUNITIES}/{community_id}"

    # Each invited city is told that a community formed around its gaps.
    for city in (review.nairobi, review.mombasa):
        [notice] = mail_to(session, city)
        assert "learning community formed" in notice.subject
        assert f"/city/communities/{community_id}" in notice.body

    # Invited, Mombasa sees the gaps and their tools, but no other city and no discussion.
    invited = ok(client.get(path, headers=review.mombasa.headers))
    assert (invited["consent"], invited["members"], invited["posts"]) == ("invited", [], [])
    assert invited["gaps"][0]["tools"][0]["id"] == tool_id

    joined = ok(_consent(client, review.mombasa, community_id, "join"))
    # Nairobi has not joined: Mombasa sees itself only, never Nairobi (nor its gaps).
    assert [m["locode"] for m in joined["members"]] == ["KE-MBA"]
    assert "KE-NBO" not in str(joined)

    ok(_consent(client, review.nairobi, community_id, "join"))
    both = ok(client.get(path, headers=review.mombasa.headers))
    assert sorted(m["locode"] for m in both["members"]) == ["KE-MBA", "KE-NBO"]

    # A webinar: each joined city's people get the calendar invitation.
    with_event = ok(_event(client, review.secretariat, community_id), 201)
    [event] = with_event["events"]
    assert (event["kind"], event["minutes"]) == ("webinar", 90)
    notice = mail_to(session, review.mombasa)[-1]
    assert notice.calendar is not None
    calendar = Calendar.from_ical(notice.calendar)
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["summary"]) == "Work programmes: Drafting a work programme"
    assert vevent["dtend"].dt - vevent["dtstart"].dt == timedelta(minutes=90)

    # The discussion: members and the secretariat post and read.
    ok(
        client.post(
            f"{path}/posts", headers=review.mombasa.headers, json={"text": "Ours is drafted."}
        ),
        201,
    )
    staffed = ok(
        client.post(
            f"{path}/posts", headers=review.secretariat.headers, json={"text": "Well done."}
        ),
        201,
    )
    assert [(p["city_locode"], p["text"]) for p in staffed["posts"]] == [
        ("KE-MBA", "Ours is drafted."),
        (None, "Well done."),
    ]
    assert len(ok(client.get(path, headers=review.nairobi.headers))["posts"]) == 2

    # Leaving: Nairobi declines after joining, and disappears from Mombasa's view.
    ok(_consent(client, review.nairobi, community_id, "decline"))
    after = ok(client.get(path, headers=review.mombasa.headers))
    assert [m["locode"] for m in after["members"]] == ["KE-MBA"]
    left = ok(client.get(path, headers=review.nairobi.headers))
    assert (left["members"], left["events"], left["posts"]) == ([], [], [])

    actions = session.exec(
        select(AuditEntry.action)
        .where(AuditEntry.target_type == "community")
        .order_by(col(AuditEntry.id))
    ).all()
    assert actions == [
        "community.form",
        "community.join",
        "community.join",
        "community.event",
        "community.post",
        "community.post",
        "community.decline",
    ]


def test_the_event_invites_joined_cities_only(
    client: TestClient, world: CommunityWorld, session: Session
) -> None:
    review = world.review
    sharing_a_gap(client, review)
    community_id = formed(client, review)["id"]
    ok(_consent(client, review.mombasa, community_id, "join"))
    ok(_event(client, review.secretariat, community_id, kind="peer_exchange"), 201)
    assert [m.calendar is not None for m in mail_to(session, review.mombasa)] == [False, True]
    assert [m.calendar is not None for m in mail_to(session, review.nairobi)] == [False]


def test_a_cancelled_event_is_cancelled_in_the_joined_cities_calendars(
    client: TestClient, world: CommunityWorld, session: Session
) -> None:
    review = world.review
    sharing_a_gap(client, review)
    community_id = formed(client, review)["id"]
    ok(_consent(client, review.mombasa, community_id, "join"))
    [event] = ok(_event(client, review.secretariat, community_id), 201)["events"]
    cancel = f"{COMMUNITIES}/{community_id}/events/{event['id']}/cancel"
    assert client.post(cancel, headers=review.mombasa.headers).status_code == 403
    [shown] = ok(client.post(cancel, headers=review.secretariat.headers))["events"]
    assert shown["cancelled_at"] is not None
    invited, cancelled = (m.calendar for m in mail_to(session, review.mombasa)[-2:])
    assert invited is not None
    assert cancelled is not None
    assert str(Calendar.from_ical(cancelled)["method"]) == "CANCEL"
    assert [m.calendar for m in mail_to(session, review.nairobi)] == [None]  # not joined
    assert client.post(cancel, headers=review.secretariat.headers).status_code == 409


def test_who_may_see_and_act(client: TestClient, world: CommunityWorld) -> None:
    review = world.review
    sharing_a_gap(client, review)
    community_id = formed(client, review)["id"]
    path = f"{COMMUNITIES}/{community_id}"
    # Kisumu is not invited: the community does not exist for it.
    assert client.get(path, headers=world.kisumu.headers).status_code == 404
    assert _consent(client, world.kisumu, community_id, "join").status_code == 404
    assert (
        client.post(f"{path}/posts", headers=world.kisumu.headers, json={"text": "Hi"}).status_code
        == 404
    )
    assert ok(client.get(COMMUNITIES, headers=world.kisumu.headers)) == {"data": [], "count": 0}
    listed = ok(client.get(COMMUNITIES, headers=review.mombasa.headers))
    assert [(c["id"], c["consent"], c["joined"]) for c in listed["data"]] == [
        (community_id, "invited", 0)
    ]
    # Reviewers and committee members have no part in it; cities do not form or schedule.
    for account in (review.lead, review.committee):
        assert client.get(COMMUNITIES, headers=account.headers).status_code == 403
    assert client.get(f"{COMMUNITIES}/proposals", headers=review.mombasa.headers).status_code == 403
    assert _event(client, review.mombasa, community_id).status_code == 403
    assert _consent(client, review.secretariat, community_id, "join").status_code == 403
    assert (
        client.get(f"{COMMUNITIES}/999999", headers=review.secretariat.headers).status_code == 404
    )


def test_forming_is_refused_without_shared_gaps(client: TestClient, world: CommunityWorld) -> None:
    review = world.review
    sharing_a_gap(client, review)

    def form(**body: Any) -> Any:
        return client.post(
            COMMUNITIES,
            headers=review.secretariat.headers,
            json={"title": "T", "gaps": ["A.b"], "cities": ["KE-NBO", "KE-MBA"], **body},
        )

    not_shared = form(gaps=["A.b", "A.c"])
    assert not_shared.status_code == 422
    assert "A.c is not a gap of KE-MBA's latest stage report" in not_shared.json()["detail"]
    no_report = form(cities=["KE-NBO", "KE-KIS"])
    assert no_report.status_code == 422
    assert "KE-KIS has no stage report" in no_report.json()["detail"]
    assert form(cities=["KE-NBO", "KE-NBO"]).status_code == 422
    assert "at least two different cities" in form(cities=["KE-NBO", "KE-NBO"]).json()["detail"]
    assert "no city KE-XYZ" in form(cities=["KE-NBO", "KE-XYZ"]).json()["detail"]
    assert form(cities=["KE-NBO"]).status_code == 422
    assert form(gaps=[]).status_code == 422
    assert form(title="x" * 201).status_code == 422
    assert form(cities=["not a locode", "KE-NBO"]).status_code == 422
    assert form(owner=1).status_code == 422
    ok(form(), 201)
    again = form(title="Again")
    assert again.status_code == 409
    assert "already formed" in again.json()["detail"]


def test_a_later_report_replaces_the_gaps(client: TestClient, world: CommunityWorld) -> None:
    """A city's newest report decides its gaps: once Mombasa's next report has none, no
    community is proposed or formed with it."""
    review = world.review
    sharing_a_gap(client, review)
    reported(client, review, review.mombasa, {})
    staff = review.secretariat.headers
    assert ok(client.get(f"{COMMUNITIES}/proposals", headers=staff))["data"] == []
    refused = client.post(
        COMMUNITIES,
        headers=staff,
        json={"title": "T", "gaps": ["A.b"], "cities": ["KE-NBO", "KE-MBA"]},
    )
    assert refused.status_code == 422
    assert "(its gaps: none)" in refused.json()["detail"]


def test_consent_events_and_posts_refused(client: TestClient, world: CommunityWorld) -> None:
    review = world.review
    sharing_a_gap(client, review)
    community_id = formed(client, review)["id"]
    path = f"{COMMUNITIES}/{community_id}"
    early = client.post(f"{path}/posts", headers=review.mombasa.headers, json={"text": "Hello"})
    assert early.status_code == 409
    assert "join it to take part" in early.json()["detail"]
    assert _consent(client, review.mombasa, community_id, "maybe").status_code == 422
    ok(_consent(client, review.mombasa, community_id, "join"))
    twice = _consent(client, review.mombasa, community_id, "join")
    assert twice.status_code == 409
    assert "already joined" in twice.json()["detail"]
    too_long = client.post(
        f"{path}/posts", headers=review.mombasa.headers, json={"text": "x" * 2001}
    )
    assert too_long.status_code == 422
    empty = client.post(f"{path}/posts", headers=review.mombasa.headers, json={"text": "  "})
    assert empty.status_code == 422
    past = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    assert _event(client, review.secretariat, community_id, starts_at=past).status_code == 422
    assert _event(client, review.secretariat, community_id, minutes=5).status_code == 422
    assert _event(client, review.secretariat, community_id, kind="party").status_code == 422
    naive = (datetime.now() + timedelta(days=3)).replace(tzinfo=None).isoformat()
    assert _event(client, review.secretariat, community_id, starts_at=naive).status_code == 422
    assert _event(client, review.secretariat, 999_999).status_code == 404
