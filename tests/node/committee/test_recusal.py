"""Recusal from an agenda item for a conflict of interest, through the API: the recused member
counts as neither a vote nor a member of the item's quorum (SQLite and PostgreSQL)."""

from __future__ import annotations

from httpx import Response
from sqlmodel import col, select

from sdgcities.node.accounts.models import User
from sdgcities.node.audit.models import AuditEntry

from ..conftest import Account
from .conftest import Desk


def _recuse(
    desk: Desk, item_id: int, member: Account, reason: str = "I advise the city's mayor"
) -> Response:
    return desk.client.post(
        f"/committee/items/{item_id}/recusal", headers=member.headers, json={"reason": reason}
    )


def test_a_recusal_is_recorded_shown_and_audited(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    recused = _recuse(desk, item["id"], desk.academic)
    assert recused.status_code == 201, recused.text
    body = recused.json()
    assert (body["item_id"], body["member_id"], body["reason"]) == (
        item["id"],
        desk.academic.user_id,
        "I advise the city's mayor",
    )
    detail = desk.client.get(f"/committee/items/{item['id']}", headers=desk.secretariat.headers)
    assert [r["member_id"] for r in detail.json()["recusals"]] == [desk.academic.user_id]
    assert detail.json()["quorum_now"]["sitting"] == 2
    assert detail.json()["quorum_now"]["recused"] == 1
    desk.session.expire_all()
    entry = desk.session.exec(
        select(AuditEntry)
        .where(AuditEntry.action == "committee.recuse")
        .order_by(col(AuditEntry.id).desc())
    ).first()
    assert entry is not None
    assert (entry.target_type, entry.target_id) == ("agenda_item", str(item["id"]))


def test_the_recused_member_counts_in_neither_the_vote_nor_the_quorum(desk: Desk) -> None:
    application_id = desk.recommended()
    # Government and civil society attend; the academic does not. Then civil society recuses:
    # sitting 2 (government, academic), attending 1 (government): no majority, no
    # non-government member.
    meeting_id = desk.meeting(attend=[desk.government, desk.civil_society])
    item = desk.item_for(meeting_id, application_id=application_id)
    assert _recuse(desk, item["id"], desk.civil_society).status_code == 201
    assert desk.vote(item["id"], desk.government).status_code == 201
    refused = desk.decide(item["id"])
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"no quorum for agenda item {item['id']}: 1 of 2 sitting members (1 recused from the "
        "item) attend and at least 2 are needed; 0 non-government members attend and at least "
        "1 is needed"
    )


def test_a_decision_with_a_recusal_records_it(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    assert _recuse(desk, item["id"], desk.government).status_code == 201
    for member in (desk.civil_society, desk.academic):
        assert desk.vote(item["id"], member).status_code == 201
    decided = desk.decide(item["id"])
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["outcome"] == "approved"
    assert body["quorum"] == {
        "sitting": 2,
        "attending": 2,
        "required": 2,
        "non_government_attending": 2,
        "required_non_government": 1,
        "recused": 1,
        "met": True,
    }
    assert body["tally"] == {"yes": 2, "no": 0, "abstain": 0}
    (event,) = desk.events("decision.recorded")
    assert event.data["quorum"]["recused"] == 1
    report = desk.client.get(
        f"/committee/meetings/{meeting_id}/report.html", headers=desk.academic.headers
    )
    assert "Recused for a conflict of interest" in report.text
    assert "I advise the city&#39;s mayor" in report.text


def test_recusal_refusals(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    item_id = item["id"]
    name = {m.user_id: _name(desk, m.user_id) for m in desk.members}
    # After voting: a vote cast is not withdrawn.
    assert desk.vote(item_id, desk.academic).status_code == 201
    after_vote = _recuse(desk, item_id, desk.academic)
    assert after_vote.status_code == 409
    assert after_vote.json()["detail"] == (
        f"{name[desk.academic.user_id]} has already voted on agenda item {item_id}: a vote cast "
        "is not withdrawn, so recusal comes before voting"
    )
    # Twice.
    assert _recuse(desk, item_id, desk.government).status_code == 201
    twice = _recuse(desk, item_id, desk.government)
    assert twice.status_code == 409
    assert twice.json()["detail"] == (
        f"{name[desk.government.user_id]} has already recused themselves from agenda item {item_id}"
    )
    # Voting after recusal.
    vote = desk.vote(item_id, desk.government)
    assert vote.status_code == 409
    assert vote.json()["detail"] == (
        f"{name[desk.government.user_id]} has recused themselves from agenda item {item_id} and "
        "may not vote on it"
    )
    # Without a reason, by someone who is not a member, anonymously, on no item.
    empty = _recuse(desk, item_id, desk.civil_society, reason="  ")
    assert empty.status_code == 422
    for who in (desk.secretariat, desk.nairobi):
        refused = _recuse(desk, item_id, who)
        assert refused.status_code == 403
    anonymous = desk.client.post(f"/committee/items/{item_id}/recusal", json={"reason": "x"})
    assert anonymous.status_code == 401
    missing = _recuse(desk, 999999, desk.civil_society)
    assert missing.status_code == 404
    # On a decided item, and at a closed meeting.
    assert desk.vote(item_id, desk.civil_society).status_code == 201
    assert desk.decide(item_id).status_code == 200
    decided = _recuse(desk, item_id, desk.civil_society)
    assert decided.status_code == 409
    assert decided.json()["detail"] == f"agenda item {item_id} is already approved"
    closed = desk.client.post(
        f"/committee/meetings/{meeting_id}/close", headers=desk.secretariat.headers
    )
    assert closed.status_code == 200
    after_close = _recuse(desk, item_id, desk.civil_society)
    assert after_close.status_code == 409
    assert after_close.json()["detail"] == (
        f"meeting {meeting_id} is closed: recusing from its items is no longer possible"
    )


def test_a_member_may_recuse_before_the_meeting_opens(desk: Desk) -> None:
    application_id = desk.recommended()
    meeting_id = desk.meeting(open_it=False)
    item = desk.item_for(meeting_id, application_id=application_id)
    assert _recuse(desk, item["id"], desk.academic).status_code == 201


def _name(desk: Desk, user_id: int) -> str:
    user = desk.session.get(User, user_id)
    assert user is not None
    return user.name
