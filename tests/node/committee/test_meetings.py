"""The committee through its API: members and rotation, meetings, attendance, agendas, votes,
the quorum, decisions, and what each role may see."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, StakeholderCategory
from sdgcities.node.cities.models import City

from .conftest import Desk

# Members and rotation ---------------------------------------------------------------------------


def test_members_list_shows_rotation(desk: Desk) -> None:
    future = desk.make_account(
        Role.COMMITTEE_MEMBER,
        stakeholder_category=StakeholderCategory.PRIVATE_SECTOR,
        term_start=date.today() + timedelta(days=30),
    )
    listed = desk.client.get("/committee/members", headers=desk.academic.headers)
    assert listed.status_code == 200
    body = listed.json()
    standing = {member["id"]: member["standing"] for member in body["data"]}
    assert standing == {
        desk.government.user_id: "sitting",
        desk.civil_society.user_id: "sitting",
        desk.academic.user_id: "sitting",
        desk.retired.user_id: "past",
        future.user_id: "future",
    }
    assert (body["count"], body["sitting"]) == (5, 3)
    retired = next(m for m in body["data"] if m["id"] == desk.retired.user_id)
    assert retired["term_end"] == (date.today() - timedelta(days=1)).isoformat()
    assert retired["stakeholder_category"] == "civil_society"


def test_members_list_is_for_the_committee_and_its_staff(desk: Desk) -> None:
    city = desk.client.get("/committee/members", headers=desk.nairobi.headers)
    assert city.status_code == 403
    assert city.json()["detail"] == "a city_applicant may not do this"
    anonymous = desk.client.get("/committee/members")
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "this endpoint needs a bearer token"


# Meetings and attendance ------------------------------------------------------------------------


def test_a_meeting_keeps_the_quorum_rule_it_was_scheduled_with(desk: Desk) -> None:
    meeting_id = desk.meeting(attend=[], open_it=False)
    desk.backend.settings.quorum_min_fraction = 0.75
    try:
        later = desk.meeting(attend=[], open_it=False)
    finally:
        desk.backend.settings.quorum_min_fraction = 0.5
    first = desk.client.get(f"/committee/meetings/{meeting_id}", headers=desk.admin.headers)
    second = desk.client.get(f"/committee/meetings/{later}", headers=desk.admin.headers)
    assert first.json()["quorum_rule"] == {"min_fraction": 0.5, "min_non_government": 1}
    assert second.json()["quorum_rule"] == {"min_fraction": 0.75, "min_non_government": 1}
    assert first.json()["status"] == "scheduled"
    assert first.json()["quorum_now"]["required"] == 2


def test_meeting_states(desk: Desk) -> None:
    meeting_id = desk.meeting(attend=[], open_it=False)
    base = f"/committee/meetings/{meeting_id}"
    headers = desk.secretariat.headers
    early_close = desk.client.post(f"{base}/close", headers=headers)
    assert early_close.status_code == 409
    assert early_close.json()["detail"] == (
        f"meeting {meeting_id} is scheduled: only an open one closes"
    )
    assert desk.client.post(f"{base}/open", headers=headers).json()["status"] == "open"
    again = desk.client.post(f"{base}/open", headers=headers)
    assert again.status_code == 409
    assert again.json()["detail"] == f"meeting {meeting_id} is open: only a scheduled one opens"
    closed = desk.client.post(f"{base}/close", headers=headers)
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    late = desk.attend(meeting_id, desk.academic)
    assert late.status_code == 409
    assert late.json()["detail"] == (
        f"meeting {meeting_id} is closed: recording attendance is no longer possible"
    )
    missing = desk.client.post("/committee/meetings/999999/open", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no meeting 999999"


def test_attendance_refusals(desk: Desk) -> None:
    meeting_id = desk.meeting(attend=[desk.academic], open_it=False)
    twice = desk.attend(meeting_id, desk.academic)
    assert twice.status_code == 409
    assert twice.json()["detail"] == (
        f"{_name(desk, desk.academic)} is already recorded as attending meeting {meeting_id}"
    )
    retired = desk.attend(meeting_id, desk.retired)
    assert retired.status_code == 409
    ended = (date.today() - timedelta(days=1)).isoformat()
    assert retired.json()["detail"] == (
        f"{_name(desk, desk.retired)} is not a sitting member today: the committee term of "
        f"{_name(desk, desk.retired)} ended on {ended}: members whose term has ended cannot vote"
    )
    not_member = desk.attend(meeting_id, desk.reviewer)
    assert not_member.status_code == 422
    assert not_member.json()["detail"] == f"user {desk.reviewer.user_id} is not a committee member"
    by_member = desk.client.post(
        f"/committee/meetings/{meeting_id}/attendance",
        headers=desk.academic.headers,
        json={"member_id": desk.academic.user_id},
    )
    assert by_member.status_code == 403
    assert by_member.json()["detail"] == "a committee_member may not do this"
    detail = desk.client.get(f"/committee/meetings/{meeting_id}", headers=desk.academic.headers)
    assert [m["id"] for m in detail.json()["attendance"]] == [desk.academic.user_id]


def _name(desk: Desk, account: object) -> str:
    members = desk.client.get("/committee/members", headers=desk.admin.headers).json()["data"]
    user_id = account.user_id  # type: ignore[attr-defined]
    name: str = next(m["name"] for m in members if m["id"] == user_id)
    return name


# Agendas ----------------------------------------------------------------------------------------


def test_agenda_takes_recommended_applications_once(desk: Desk) -> None:
    nairobi = desk.recommended("KE-NBO")
    mombasa = desk.recommended("KE-MBA")
    meeting_id = desk.meeting()
    added = desk.agenda(meeting_id)
    assert [(i["kind"], i["application_id"], i["outcome"]) for i in added] == [
        ("award", nairobi, "pending"),
        ("award", mombasa, "pending"),
    ]
    # Neither a second generation nor another meeting's takes them while they wait.
    assert desk.agenda(meeting_id) == []
    other = desk.meeting(title="Extraordinary meeting")
    assert desk.agenda(other) == []
    listed = desk.client.get(f"/committee/meetings/{meeting_id}", headers=desk.academic.headers)
    assert [i["application_id"] for i in listed.json()["agenda"]] == [nairobi, mombasa]


def test_a_deferred_item_returns_on_the_next_agenda(desk: Desk) -> None:
    application_id = desk.recommended()
    first = desk.meeting()
    item = desk.item_for(first, application_id=application_id)
    deferred = desk.client.post(
        f"/committee/items/{item['id']}/defer",
        headers=desk.secretariat.headers,
        json={"reason": "the city asked to present its evidence in person"},
    )
    assert deferred.status_code == 200
    assert deferred.json()["outcome"] == "deferred"
    assert deferred.json()["deferral_reason"] == "the city asked to present its evidence in person"
    again = desk.client.post(
        f"/committee/items/{item['id']}/defer",
        headers=desk.secretariat.headers,
        json={"reason": "again"},
    )
    assert again.status_code == 409
    assert again.json()["detail"] == f"agenda item {item['id']} is already deferred"
    second = desk.meeting(title="Second quarter meeting")
    assert [i["application_id"] for i in desk.agenda(second)] == [application_id]


def test_closing_a_meeting_defers_what_it_left_undecided(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    closed = desk.client.post(
        f"/committee/meetings/{meeting_id}/close", headers=desk.secretariat.headers
    )
    assert closed.status_code == 200
    (left,) = closed.json()["agenda"]
    assert (left["id"], left["outcome"]) == (item["id"], "deferred")
    assert left["deferral_reason"] == "not decided before the meeting closed"
    (held,) = desk.events("meeting.held")
    assert held.subject == {"meeting": meeting_id}
    assert held.data["attending"] == 3
    assert held.data["outcomes"] == {"pending": 0, "approved": 0, "rejected": 0, "deferred": 1}
    regenerate = desk.client.post(
        f"/committee/meetings/{meeting_id}/agenda/generate", headers=desk.secretariat.headers
    )
    assert regenerate.status_code == 409
    assert regenerate.json()["detail"] == (
        f"meeting {meeting_id} is closed: adding to its agenda is no longer possible"
    )
    assert desk.application_state(application_id) == "recommended"


# Votes ------------------------------------------------------------------------------------------


def test_each_member_votes_once_per_item(desk: Desk) -> None:
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    first = desk.vote(item["id"], desk.academic, "yes")
    assert first.status_code == 201
    assert first.json()["choice"] == "yes"
    second = desk.vote(item["id"], desk.academic, "no")
    assert second.status_code == 409
    assert second.json()["detail"] == (
        f"{_name(desk, desk.academic)} has already voted on agenda item {item['id']}: each "
        "member votes once per item"
    )
    shown = desk.client.get(f"/committee/items/{item['id']}", headers=desk.government.headers)
    assert [(v["member_id"], v["choice"]) for v in shown.json()["votes"]] == [
        (desk.academic.user_id, "yes")
    ]


def test_a_member_whose_term_has_ended_cannot_vote(desk: Desk) -> None:
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    refused = desk.vote(item["id"], desk.retired)
    assert refused.status_code == 403
    ended = (date.today() - timedelta(days=1)).isoformat()
    assert refused.json()["detail"] == (
        f"the committee term of {_name(desk, desk.retired)} ended on {ended}: members whose term "
        "has ended cannot vote"
    )


def test_vote_refusals(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting(attend=desk.members[:2], open_it=False)
    item = desk.item_for(meeting_id, application_id=application_id)
    not_open = desk.vote(item["id"], desk.government)
    assert not_open.status_code == 409
    assert not_open.json()["detail"] == (
        f"meeting {meeting_id} is scheduled: members vote while it is open"
    )
    desk.client.post(f"/committee/meetings/{meeting_id}/open", headers=desk.secretariat.headers)
    absent = desk.vote(item["id"], desk.academic)
    assert absent.status_code == 409
    assert absent.json()["detail"] == (
        f"{_name(desk, desk.academic)} is not recorded as attending meeting {meeting_id}: the "
        "secretariat records attendance before members vote"
    )
    by_secretariat = desk.vote(item["id"], desk.secretariat)
    assert by_secretariat.status_code == 403
    assert by_secretariat.json()["detail"] == "a secretariat may not do this"
    unknown_choice = desk.vote(item["id"], desk.government, "maybe")
    assert unknown_choice.status_code == 422
    assert unknown_choice.json()["detail"] == (
        "body.choice: Input should be 'yes', 'no' or 'abstain'"
    )
    missing = desk.vote(999_999, desk.government)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no agenda item 999999"
    desk.vote(item["id"], desk.government).raise_for_status()
    desk.vote(item["id"], desk.civil_society).raise_for_status()
    assert desk.decide(item["id"]).status_code == 200
    late = desk.client.post(
        f"/committee/items/{item['id']}/votes",
        headers=desk.government.headers,
        json={"choice": "no"},
    )
    assert late.status_code == 409
    assert late.json()["detail"] == f"agenda item {item['id']} is already approved"


def test_a_member_whose_term_has_not_begun_cannot_vote_yet(desk: Desk) -> None:
    begins = date.today() + timedelta(days=7)
    newcomer = desk.make_account(
        Role.COMMITTEE_MEMBER,
        stakeholder_category=StakeholderCategory.ACADEMIA,
        term_start=begins,
    )
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    refused = desk.vote(item["id"], newcomer)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        f"the committee term of {_name(desk, newcomer)} begins on {begins.isoformat()}"
    )


def test_votes_cannot_be_changed_in_the_database(desk: Desk, session: Session) -> None:
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    desk.vote(item["id"], desk.academic, "no").raise_for_status()
    with pytest.raises(DBAPIError, match="committee_vote is append-only"), session.begin_nested():
        session.execute(text("UPDATE committee_vote SET choice = 'yes'"))


# Quorum and decisions ---------------------------------------------------------------------------


def test_no_decision_without_a_majority_of_sitting_members(desk: Desk) -> None:
    meeting_id = desk.meeting(attend=[desk.academic])
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    desk.vote(item["id"], desk.academic).raise_for_status()
    refused = desk.decide(item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"no quorum for agenda item {item['id']}: 1 of 3 sitting members attend and at least 2 "
        "are needed"
    )
    assert desk.events("decision.recorded") == []


def test_no_decision_without_a_non_government_member(desk: Desk) -> None:
    # Local government is government too: three officials of five sitting members are a
    # majority, but not a quorum.
    officials = [
        desk.make_account(
            Role.COMMITTEE_MEMBER, stakeholder_category=StakeholderCategory.LOCAL_GOVERNMENT
        )
        for _ in range(2)
    ]
    meeting_id = desk.meeting(attend=[desk.government, *officials])
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    for official in (desk.government, *officials):
        desk.vote(item["id"], official).raise_for_status()
    refused = desk.decide(item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"no quorum for agenda item {item['id']}: 0 non-government members attend and at least "
        "1 is needed"
    )


def test_no_decision_before_anyone_votes(desk: Desk) -> None:
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    refused = desk.decide(item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"nobody has voted on agenda item {item['id']} yet: record the votes, or defer the item"
    )


def test_decisions_are_recorded_by_the_secretariat_or_administrators(desk: Desk) -> None:
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=desk.recommended())
    by_member = desk.decide(item["id"], by=desk.academic)
    assert by_member.status_code == 403
    assert by_member.json()["detail"] == "a committee_member may not do this"
    by_reviewer = desk.decide(item["id"], by=desk.reviewer)
    assert by_reviewer.status_code == 403
    assert by_reviewer.json()["detail"] == "a reviewer may not do this"
    for member in desk.members:
        desk.vote(item["id"], member).raise_for_status()
    by_admin = desk.decide(item["id"], by=desk.admin)
    assert by_admin.status_code == 200
    assert by_admin.json()["outcome"] == "approved"


def test_decisions_and_deferrals_need_the_meeting_in_session(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting(open_it=False)
    item = desk.item_for(meeting_id, application_id=application_id)
    early = desk.decide(item["id"])
    assert early.status_code == 409
    assert early.json()["detail"] == (
        f"meeting {meeting_id} is scheduled: decisions are recorded while it is open"
    )
    desk.client.post(f"/committee/meetings/{meeting_id}/open", headers=desk.secretariat.headers)
    desk.client.post(f"/committee/meetings/{meeting_id}/close", headers=desk.secretariat.headers)
    late = desk.client.post(
        f"/committee/items/{item['id']}/defer",
        headers=desk.secretariat.headers,
        json={"reason": "too late"},
    )
    assert late.status_code == 409
    assert late.json()["detail"] == (
        f"meeting {meeting_id} is closed: deferring its items is no longer possible"
    )
    no_reason = desk.client.post(
        f"/committee/items/{item['id']}/defer", headers=desk.secretariat.headers, json={}
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"] == "body.reason: Field required"


def test_a_tie_or_a_majority_against_declines(desk: Desk) -> None:
    tie_application = desk.recommended("KE-NBO")
    against_application = desk.recommended("KE-MBA")
    meeting_id = desk.meeting()
    tie = desk.item_for(meeting_id, application_id=tie_application)
    desk.vote(tie["id"], desk.government, "yes").raise_for_status()
    desk.vote(tie["id"], desk.academic, "no").raise_for_status()
    desk.vote(tie["id"], desk.civil_society, "abstain").raise_for_status()
    declined = desk.decide(tie["id"])
    assert declined.status_code == 200
    assert declined.json()["outcome"] == "rejected"
    assert declined.json()["tally"] == {"yes": 1, "no": 1, "abstain": 1}
    assert declined.json()["certificate_id"] is None
    assert desk.application_state(tie_application) == "declined"
    against = desk.client.get(f"/committee/meetings/{meeting_id}", headers=desk.admin.headers)
    item = next(i for i in against.json()["agenda"] if i["application_id"] == against_application)
    assert desk.decided(item["id"], ("no", "no", "yes")).json()["outcome"] == "rejected"
    assert desk.application_state(against_application) == "declined"
    decided_twice = desk.decide(item["id"])
    assert decided_twice.status_code == 409
    assert decided_twice.json()["detail"] == f"agenda item {item['id']} is already rejected"


def test_a_decision_records_quorum_and_votes_in_the_federation_log(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    decided = desk.decided(item["id"], ("yes", "yes", "abstain"))
    assert decided.status_code == 200
    body = decided.json()
    assert body["quorum"] == {
        "sitting": 3,
        "attending": 3,
        "required": 2,
        "non_government_attending": 2,
        "required_non_government": 1,
        "recused": 0,
        "met": True,
    }
    (decision,) = desk.events("decision.recorded")
    assert decision.subject == {
        "meeting": meeting_id,
        "item": item["id"],
        "locode": "KE-NBO",
        "application": application_id,
    }
    assert decision.data == {
        "kind": "award",
        "outcome": "approved",
        "stage": "qualification",
        "quorum": {
            "sitting": 3,
            "attending": 3,
            "required": 2,
            "nonGovernmentAttending": 2,
            "requiredNonGovernment": 1,
            "recused": 0,
            "met": True,
        },
        "votes": {"yes": 2, "no": 0, "abstain": 1},
    }
    issued = desk.events("credential.issued")
    assert [e.sequence for e in issued] == [decision.sequence + 1]


def test_an_application_withdrawn_meanwhile_cannot_be_awarded(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    withdrawn = desk.client.post(
        f"/applications/{application_id}/withdraw", headers=desk.nairobi.headers
    )
    assert withdrawn.status_code == 200
    refused = desk.decided(item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"application {application_id} is withdrawn, no longer recommended: defer the item"
    )


# What a city sees -------------------------------------------------------------------------------


def test_a_city_sees_the_decision_on_its_own_application_only(desk: Desk) -> None:
    nairobi = desk.recommended("KE-NBO")
    mombasa = desk.recommended("KE-MBA")
    meeting_id = desk.meeting()
    waiting = desk.client.get(f"/applications/{nairobi}/decision", headers=desk.nairobi.headers)
    assert waiting.status_code == 404
    assert waiting.json()["detail"] == f"application {nairobi} has no committee decision yet"
    for application_id, choices in ((nairobi, ("no", "no", "yes")), (mombasa, ("yes",) * 3)):
        item = desk.item_for(meeting_id, application_id=application_id)
        assert desk.decided(item["id"], choices).status_code == 200
    seen = desk.client.get(f"/applications/{nairobi}/decision", headers=desk.nairobi.headers)
    assert seen.status_code == 200
    decision = seen.json()
    assert decision["outcome"] == "rejected"
    assert decision["votes"] == {"yes": 1, "no": 2, "abstain": 0}
    assert decision["certificate_id"] is None
    assert decision["meeting_id"] == meeting_id
    assert decision["committee"] == f"{desk.backend.settings.node_name} committee"
    assert decision["stage_report"] == f"/applications/{nairobi}/report"
    assert "member_name" not in seen.text  # the city sees the tally, not who voted what
    other = desk.client.get(f"/applications/{mombasa}/decision", headers=desk.nairobi.headers)
    assert other.status_code == 404
    assert other.json()["detail"] == f"no application {mombasa}"
    own = desk.client.get(f"/applications/{mombasa}/decision", headers=desk.mombasa.headers)
    assert own.json()["outcome"] == "approved"
    assert own.json()["certificate_id"].startswith("urn:uuid:")
    anonymous = desk.client.get(f"/applications/{mombasa}/decision")
    assert anonymous.status_code == 401


def test_cities_see_nothing_of_the_committees_workings(desk: Desk) -> None:
    meeting_id = desk.meeting()
    for path in (
        "/committee/meetings",
        f"/committee/meetings/{meeting_id}",
        f"/committee/meetings/{meeting_id}/report",
    ):
        refused = desk.client.get(path, headers=desk.nairobi.headers)
        assert refused.status_code == 403, path
        assert refused.json()["detail"] == "a city_applicant may not do this"


# The meeting report -----------------------------------------------------------------------------


def test_meeting_report(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting(title="Q1 <script>alert(1)</script>")
    item = desk.item_for(meeting_id, application_id=application_id)
    desk.decided(item["id"], ("yes", "no", "yes")).raise_for_status()
    report = desk.client.get(
        f"/committee/meetings/{meeting_id}/report", headers=desk.academic.headers
    )
    assert report.status_code == 200
    body = report.json()
    assert body["meeting"]["title"] == "Q1 <script>alert(1)</script>"
    assert [m["id"] for m in body["attendance"]] == [m.user_id for m in desk.members]
    (reported,) = body["items"]
    assert (reported["kind"], reported["outcome"], reported["city_locode"]) == (
        "award",
        "approved",
        "KE-NBO",
    )
    assert [(v["member_id"], v["choice"]) for v in reported["votes"]] == [
        (desk.government.user_id, "yes"),
        (desk.civil_society.user_id, "no"),
        (desk.academic.user_id, "yes"),
    ]
    assert body["outcomes"] == {"pending": 0, "approved": 1, "rejected": 0, "deferred": 0}
    page = desk.client.get(
        f"/committee/meetings/{meeting_id}/report.html", headers=desk.secretariat.headers
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["cache-control"] == "private, no-store"
    assert "<script>alert(1)</script>" not in page.text
    assert "Q1 &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "Votes: 2 yes, 1 no, 0 abstaining." in page.text
    assert reported["certificate_id"] in page.text
    # Readable: the city and stage by name, outcomes and votes in words, dates as dates.
    city = desk.session.get(City, "KE-NBO")
    assert city is not None
    title = f"Award of a certificate: {city.name} (KE-NBO), Qualification (candidate city)"
    assert reported["title"] == title
    assert (reported["city_name"], reported["stage_name"]) == (
        city.name,
        "Qualification (candidate city)",
    )
    assert f"Item {item['id']}. {title}" in page.text
    assert "Outcome: <strong>Approved</strong>" in page.text
    assert "<td>Yes</td>" in page.text
    assert "<td>No</td>" in page.text
    assert "Stakeholder category" in page.text
    assert "Civil society" in page.text
    assert re.search(r"\d{4}-\d{2}-\d{2}T", page.text) is None
    body_text = page.text.partition("<body>")[2]
    assert "approved" not in body_text.replace('class="approved"', "")
    assert "civil_society" not in body_text


def test_the_report_follows_the_records(desk: Desk) -> None:
    meeting_id = desk.meeting(attend=[desk.academic])
    path = f"/committee/meetings/{meeting_id}/report"
    before = desk.client.get(path, headers=desk.admin.headers).json()
    desk.attend(meeting_id, desk.government).raise_for_status()
    after = desk.client.get(path, headers=desk.admin.headers).json()
    assert len(before["attendance"]) == 1
    assert len(after["attendance"]) == 2
