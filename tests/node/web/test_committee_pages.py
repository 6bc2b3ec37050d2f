"""The committee member's pages: meetings, agendas, dossiers, votes, recusals and the meeting
report, in the reader's language; every refusal a page in that language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response

from ..certification import Desk
from ..certification import desk as desk  # the fixture
from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..review.factories import (
    assign,
    consolidate,
    make_world,
    ok,
    review_fully,
    submitted_application,
)
from .conftest import SignIn, form_token


def _post(client: TestClient, page: str, action: str, **fields: str) -> Response:
    token = form_token(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields}, follow_redirects=False)


def _ready(desk: Desk, **meeting: object) -> tuple[int, int]:
    """A recommended application of Nairobi on an open meeting's agenda: (meeting, item)."""
    application_id = desk.recommended()
    meeting_id = desk.meeting(**meeting)  # type: ignore[arg-type]
    item = desk.item_for(meeting_id, application_id=application_id)
    return meeting_id, item["id"]


# Access -----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(desk: Desk) -> None:
    meeting_id, item_id = _ready(desk)
    for path in (
        "/en/committee",
        f"/en/committee/meetings/{meeting_id}",
        f"/en/committee/items/{item_id}",
        f"/en/committee/meetings/{meeting_id}/report",
    ):
        response = desk.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/en/sign-in?next={path}"


def test_people_outside_the_committee_get_a_403_page(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    for outsider in (desk.nairobi, desk.reviewer):
        sign_in(outsider)
        for path in ("/fr/committee", f"/fr/committee/items/{item_id}"):
            response = desk.client.get(path)
            assert response.status_code == 403, path
            assert '<html lang="fr"' in response.text


def test_the_secretariat_reads_but_does_not_vote(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.secretariat)
    page = desk.client.get(f"/en/committee/items/{item_id}")
    assert page.status_code == 200
    assert 'id="vote-form"' not in page.text
    token = form_token(page.text)
    refused = desk.client.post(
        f"/en/committee/items/{item_id}/vote", data={"csrf_token": token, "choice": "yes"}
    )
    assert refused.status_code == 403


def test_a_member_cannot_record_anyones_attendance(desk: Desk, sign_in: SignIn) -> None:
    meeting_id = desk.meeting(attend=[desk.academic])
    sign_in(desk.academic)
    page = f"/en/committee/meetings/{meeting_id}"
    assert 'id="attendance-form"' not in desk.client.get(page).text
    refused = _post(
        desk.client,
        page,
        f"/en/committee/meetings/{meeting_id}/attendance",
        member_id=str(desk.government.user_id),
    )
    assert refused.status_code == 403


def test_the_secretariat_records_attendance_from_the_page(desk: Desk, sign_in: SignIn) -> None:
    meeting_id = desk.meeting(attend=[])
    sign_in(desk.secretariat)
    page = f"/en/committee/meetings/{meeting_id}"
    action = f"{page}/attendance"
    recorded = _post(desk.client, page, action, member_id=str(desk.academic.user_id))
    assert recorded.status_code == 303
    assert recorded.headers["location"] == f"{page}?done=attendance"
    shown = desk.client.get(recorded.headers["location"]).text
    assert "The attendance is recorded." in shown
    empty = _post(desk.client, page, action, member_id="")
    assert empty.status_code == 400
    assert "Choose the member who is present." in empty.text
    not_member = _post(desk.client, page, action, member_id=str(desk.reviewer.user_id))
    assert not_member.status_code == 422
    assert "is not a committee member" in not_member.text


def test_a_missing_item_or_meeting_is_a_404_page(desk: Desk, sign_in: SignIn) -> None:
    sign_in(desk.academic)
    for path in ("/en/committee/items/999999", "/en/committee/meetings/999999"):
        response = desk.client.get(path)
        assert response.status_code == 404
        assert "Page not found" in response.text


# Reading ----------------------------------------------------------------------------------------


def test_meetings_agenda_and_dossier(desk: Desk, sign_in: SignIn) -> None:
    meeting_id, item_id = _ready(desk, title="Second quarter <b>meeting</b>")
    closed = desk.meeting(title="Last year's meeting", attend=[])
    desk.client.post(f"/committee/meetings/{closed}/close", headers=desk.secretariat.headers)
    sign_in(desk.academic)
    listing = desk.client.get("/en/committee")
    assert listing.status_code == 200
    coming, _, past = listing.text.partition('id="past"')
    assert "Second quarter &lt;b&gt;meeting&lt;/b&gt;" in coming
    assert "In session" in coming
    assert "Agenda items: 1" in coming
    assert "Last year&#39;s meeting" in past
    meeting = desk.client.get(f"/en/committee/meetings/{meeting_id}").text
    assert "Award of a certificate: Nairobi" in meeting
    assert "Qualification (candidate city)" in meeting
    assert "You are recorded as attending this meeting." in meeting
    assert "Not voted" in meeting
    assert "The quorum is met." in meeting
    dossier = desk.client.get(f"/en/committee/items/{item_id}").text
    assert 'id="vote-form"' in dossier
    assert 'id="recusal-form"' in dossier
    assert "Recommended by the reviewers" in dossier  # the application's state, in words
    assert "The review has no consolidation on record." in dossier
    assert "No stage report yet." in dossier
    assert "The city's history" in dossier
    assert "recommended</td>" not in dossier


def test_the_report_page_is_readable(desk: Desk, sign_in: SignIn) -> None:
    meeting_id, item_id = _ready(desk)
    desk.decided(item_id, ("yes", "no", "abstain")).raise_for_status()
    sign_in(desk.government)
    page = desk.client.get(f"/en/committee/meetings/{meeting_id}/report")
    assert page.status_code == 200
    text = page.text
    assert (
        'Award of a certificate: Nairobi <span class="locode">(KE-NBO)</span>, '
        "Qualification (candidate city)"
    ) in text
    assert "Votes: 1 yes, 1 no, 1 abstaining." in text
    assert "More than 50% of the sitting members attend" in text
    assert "Approved" in text
    assert "Civil society" in text
    assert " UTC" in text


# Voting and recusing ----------------------------------------------------------------------------


def _dossier(item_id: int, language: str = "en") -> str:
    return f"/{language}/committee/items/{item_id}"


def _vote(desk: Desk, item_id: int, choice: str = "yes", language: str = "en") -> Response:
    page = _dossier(item_id, language)
    return _post(desk.client, page, f"{page}/vote", choice=choice)


def _recuse(desk: Desk, item_id: int, reason: str = "My sister is the mayor") -> Response:
    page = _dossier(item_id)
    return _post(desk.client, page, f"{page}/recusal", reason=reason)


def test_casting_a_vote(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.civil_society)
    voted = _vote(desk, item_id, "no")
    assert voted.status_code == 303
    assert voted.headers["location"] == f"{_dossier(item_id)}?done=voted#votes"
    shown = desk.client.get(voted.headers["location"]).text
    assert "Your vote is recorded." in shown
    assert "You voted: No" in shown
    assert 'id="vote-form"' not in shown
    api = desk.client.get(f"/committee/items/{item_id}", headers=desk.admin.headers).json()
    assert [(v["member_id"], v["choice"]) for v in api["votes"]] == [
        (desk.civil_society.user_id, "no")
    ]


def test_vote_refusals(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.academic)
    no_choice = _vote(desk, item_id, "maybe")
    assert no_choice.status_code == 400
    assert "Choose yes, no or abstain." in no_choice.text
    assert 'class="error-summary"' in no_choice.text
    assert _vote(desk, item_id).status_code == 303
    twice = _vote(desk, item_id, "no")
    assert twice.status_code == 409
    assert "You have already voted on this item. Each member votes once per item." in twice.text


def test_voting_after_recusal_is_refused(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.government)
    recused = _recuse(desk, item_id)
    assert recused.status_code == 303
    shown = desk.client.get(recused.headers["location"]).text
    assert "Your recusal is recorded" in shown
    assert "My sister is the mayor" in shown
    assert 'id="vote-form"' not in shown
    # The form is gone, but a stale one may still be posted.
    refused = _vote(desk, item_id)
    assert refused.status_code == 409
    assert "You have recused yourself from this item, so you may not vote on it." in refused.text
    again = _recuse(desk, item_id)
    assert again.status_code == 409
    assert "You have already recused yourself from this item." in again.text


def test_recusal_needs_a_reason_and_comes_before_voting(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.academic)
    empty = _recuse(desk, item_id, reason="   ")
    assert empty.status_code == 400
    assert "Say what the conflict of interest is." in empty.text
    assert 'aria-describedby="recusal-reason-hint recusal-reason-error"' in empty.text
    too_long = _recuse(desk, item_id, reason="x" * 2001)
    assert too_long.status_code == 400
    assert "Write at most 2000 characters." in too_long.text
    assert _vote(desk, item_id).status_code == 303
    after_vote = _recuse(desk, item_id)
    assert after_vote.status_code == 409
    assert "A vote cast is not withdrawn" in after_vote.text


def test_voting_on_a_closed_item(desk: Desk, sign_in: SignIn) -> None:
    meeting_id, item_id = _ready(desk)
    sign_in(desk.academic)
    page = _dossier(item_id)
    token = form_token(desk.client.get(page).text)
    desk.client.post(
        f"/committee/meetings/{meeting_id}/close", headers=desk.secretariat.headers
    ).raise_for_status()
    refused = desk.client.post(f"{page}/vote", data={"csrf_token": token, "choice": "yes"})
    assert refused.status_code == 409
    assert "The meeting is closed: nothing more can be done on its items." in refused.text
    assert "Deferred" in refused.text


def test_voting_on_a_decided_item(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    for member in (desk.government, desk.civil_society):
        assert desk.vote(item_id, member).status_code == 201
    sign_in(desk.academic)
    page = _dossier(item_id)
    token = form_token(desk.client.get(page).text)
    desk.decide(item_id).raise_for_status()
    refused = desk.client.post(f"{page}/vote", data={"csrf_token": token, "choice": "yes"})
    assert refused.status_code == 409
    assert "This item has already been decided or deferred." in refused.text


def test_a_member_not_recorded_as_attending_cannot_vote(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk, attend=[desk.government, desk.civil_society])
    sign_in(desk.academic)
    refused = _vote(desk, item_id)
    assert refused.status_code == 409
    assert "You are not recorded as attending this meeting." in refused.text


def test_a_member_whose_term_ended_cannot_vote(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.retired)
    refused = _vote(desk, item_id)
    assert refused.status_code == 403
    assert "You are not a sitting member of the committee today" in refused.text


def _decide(desk: Desk, item_id: int, language: str = "en") -> Response:
    page = _dossier(item_id, language)
    return _post(desk.client, page, f"{page}/decide")


def test_the_secretariat_records_the_decision_from_the_page(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    for member in (desk.government, desk.civil_society):
        assert desk.vote(item_id, member).status_code == 201
    sign_in(desk.secretariat)
    assert 'id="decide-form"' in desk.client.get(_dossier(item_id)).text
    decided = _decide(desk, item_id)
    assert decided.status_code == 303
    assert decided.headers["location"] == f"{_dossier(item_id)}?done=decided#votes"
    shown = desk.client.get(decided.headers["location"]).text
    assert "The decision is recorded and carried out." in shown
    assert 'id="decide-form"' not in shown
    api = desk.client.get(f"/committee/items/{item_id}", headers=desk.admin.headers).json()
    assert api["outcome"] == "approved"
    assert api["certificate_id"]


def test_deciding_refusals_are_shown_on_the_item_page(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.secretariat)
    nobody_voted = _decide(desk, item_id, "fr")
    assert nobody_voted.status_code == 409
    assert "pas pu être enregistrée" in nobody_voted.text
    assert "nobody has voted on agenda item" in nobody_voted.text
    assert 'aria-describedby="decide-submit-error"' in nobody_voted.text
    assert desk.vote(item_id, desk.government).status_code == 201
    assert _decide(desk, item_id).status_code == 303
    twice = _decide(desk, item_id)
    assert twice.status_code == 409
    assert "The decision could not be recorded" in twice.text


def test_members_do_not_record_decisions(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    assert desk.vote(item_id, desk.government).status_code == 201
    sign_in(desk.academic)
    assert 'id="decide-form"' not in desk.client.get(_dossier(item_id)).text
    refused = _decide(desk, item_id)
    assert refused.status_code == 403
    api = desk.client.get(f"/committee/items/{item_id}", headers=desk.admin.headers).json()
    assert api["outcome"] == "pending"


def test_a_post_without_the_form_token_is_refused(desk: Desk, sign_in: SignIn) -> None:
    _meeting_id, item_id = _ready(desk)
    sign_in(desk.academic)
    refused = desk.client.post(f"/en/committee/items/{item_id}/vote", data={"choice": "yes"})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text


# Languages --------------------------------------------------------------------------------------


def test_arabic_pages(desk: Desk, sign_in: SignIn) -> None:
    meeting_id, item_id = _ready(desk)
    sign_in(desk.academic)
    listing = desk.client.get("/ar/committee")
    assert listing.status_code == 200
    assert '<html lang="ar" dir="rtl">' in listing.text
    assert "اجتماعات اللجنة" in listing.text
    dossier = desk.client.get(f"/ar/committee/items/{item_id}").text
    assert "منح شهادة" in dossier
    assert "نيروبي" in dossier or "Nairobi" in dossier
    twice_first = _vote(desk, item_id, language="ar")
    assert twice_first.status_code == 303
    twice = _vote(desk, item_id, "no", language="ar")
    assert twice.status_code == 409
    assert "لقد أدليت بصوتك بالفعل" in twice.text
    report = desk.client.get(f"/ar/committee/meetings/{meeting_id}/report").text
    assert "تقرير الاجتماع" in report
    assert "UTC" in report


def test_chinese_pages(desk: Desk, sign_in: SignIn) -> None:
    meeting_id, item_id = _ready(desk)
    desk.decided(item_id).raise_for_status()
    sign_in(desk.civil_society)
    listing = desk.client.get("/zh/committee")
    assert '<html lang="zh" dir="ltr">' in listing.text
    assert "委员会会议" in listing.text
    report = desk.client.get(f"/zh/committee/meetings/{meeting_id}/report").text
    assert "会议报告" in report
    # The city and the stage, punctuated as Chinese is written (full-width colon and comma).
    assert "颁发证书\uff1aNairobi" in report
    assert "</span>\uff0c" in report
    assert "已批准" in report
    assert "年" in report  # a Chinese date: 2026年12月6日


def test_the_dossier_of_a_reviewed_application(
    client: TestClient,
    sign_in: SignIn,
    make_city: MakeCity,
    make_account: MakeAccount,
    make_framework: MakeFramework,
) -> None:
    world = make_world(make_city, make_account, make_framework)
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id)
    ok(
        consolidate(
            client,
            world,
            application_id,
            "recommended",
            summary="Sound <em>evidence</em> overall.",
        )
    )
    moment = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    meeting = ok(
        client.post(
            "/committee/meetings",
            headers=world.secretariat.headers,
            json={"title": "Review meeting", "scheduled_for": moment},
        ),
        201,
    )
    generated = ok(
        client.post(
            f"/committee/meetings/{meeting['id']}/agenda/generate",
            headers=world.secretariat.headers,
        )
    )
    (item,) = generated["added"]
    sign_in(world.committee)
    page = client.get(f"/fr/committee/items/{item['id']}")
    assert page.status_code == 200
    text = page.text
    assert "Recommandée" in text  # the consolidation's recommendation, in words
    assert "Sound &lt;em&gt;evidence&lt;/em&gt; overall." in text
    assert "<td>Satisfait</td>" in text  # the stage report's verdicts, in words
    assert "Critères non entièrement satisfaits" not in text
    assert f"Candidature {application_id}" in text  # the city's history
    assert "<td>met</td>" not in text
    # Scheduled, not open: recusal is possible, voting is not yet.
    assert 'id="recusal-form"' in text
    assert 'id="vote-form"' not in text
    assert "Le vote s&#39;ouvre" in text or "Le vote s'ouvre" in text


def test_the_dossier_of_a_suspension(desk: Desk, sign_in: SignIn) -> None:
    certificate = desk.award()
    proposed = desk.propose(certificate["id"], "suspension", reason="Spot-check found gaps")
    assert proposed.status_code == 201, proposed.text
    meeting_id = desk.meeting(title="Suspension meeting")
    item = desk.item_for(meeting_id, proposal_id=proposed.json()["id"])
    sign_in(desk.academic)
    text = desk.client.get(f"/es/committee/items/{item['id']}").text
    assert "Suspensión de un certificado" in text
    assert "Spot-check found gaps" in text
    assert "En vigor" in text  # the certificate's status, in words
    assert certificate["id"] in text
    assert "Certificados" in text  # the city's history holds the certificate
    meeting = desk.client.get(f"/es/committee/meetings/{meeting_id}").text
    assert "Suspensión de un certificado: Nairobi" in meeting
