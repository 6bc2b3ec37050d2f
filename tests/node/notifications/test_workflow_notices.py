"""Each workflow queues its notice to the people concerned, in their language, in its own
transaction, and never to those who turned that kind of notice off."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import SYSTEM
from sdgcities.node.committee.meetings import schedule_meeting
from sdgcities.node.committee.schemas import MeetingCreate
from sdgcities.node.timeutil import utcnow

from ..conftest import Account, Backend
from ..review.factories import ReviewWorld, assign, ok, submitted_application
from .conftest import Desk
from .outbox import mail_to, outbox_size

NAIROBI = "Nairobi (KE-NBO)"


def prefer(
    client: TestClient, account: Account, language: str | None = None, muted: tuple[str, ...] = ()
) -> None:
    saved = client.put(
        "/me/notices", headers=account.headers, json={"language": language, "muted": list(muted)}
    )
    assert saved.status_code == 200, saved.text


def test_a_review_assignment_tells_each_reviewer_in_their_language(
    client: TestClient, session: Session, world: ReviewWorld
) -> None:
    prefer(client, world.lead, language="fr")
    prefer(client, world.second, muted=("review_assigned",))
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    [to_lead] = mail_to(session, world.lead)
    assert to_lead.subject == f"Vous êtes chargé d'évaluer la candidature {application_id}"
    assert to_lead.body.startswith(f"Bonjour {_name(session, world.lead)},")
    assert f"http://127.0.0.1:8000/fr/review/applications/{application_id}" in to_lead.body
    # Why the person gets it, and where to choose.
    assert f"parce que vous examinez la candidature {application_id}" in to_lead.body
    assert "http://127.0.0.1:8000/fr/account/notices" in to_lead.body
    assert mail_to(session, world.second) == []
    assert mail_to(session, world.outsider) == []


def test_a_clarification_asked_tells_the_city_and_its_answer_tells_the_reviewers(
    client: TestClient, session: Session, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    request = ok(
        client.post(
            f"/applications/{application_id}/clarifications",
            headers=world.second.headers,
            json={"criteria": ["A.b"], "question": "Which levels, and by when?"},
        ),
        201,
    )
    [asked] = mail_to(session, world.nairobi)
    assert asked.subject == f"A reviewer asks {NAIROBI} for a clarification"
    assert "criteria A.b:\n\nWhich levels, and by when?" in asked.body
    assert f"because you hold an account of {NAIROBI} on" in asked.body
    assert mail_to(session, world.mombasa) == []

    ok(
        client.post(
            f"/applications/{application_id}/clarifications/respond",
            headers=world.nairobi.headers,
            json={"answers": [{"request_id": request["id"], "answer": "Silver in 2026."}]},
        )
    )
    for reviewer in (world.lead, world.second):
        answered = mail_to(session, reviewer)[-1]
        assert answered.subject == (
            f"{NAIROBI} answered the clarification on application {application_id}"
        )
        assert f"because you review application {application_id}" in answered.body
    assert mail_to(session, world.outsider) == []


def test_a_refused_workflow_queues_nothing(
    client: TestClient, session: Session, world: ReviewWorld
) -> None:
    application_id = submitted_application(client, world)
    before = outbox_size(session)
    refused = client.post(
        f"/applications/{application_id}/reviewers",
        headers=world.admin.headers,
        # A city's applicant cannot review.
        json={
            "reviewer_ids": [world.lead.user_id, world.nairobi.user_id],
            "lead_id": world.lead.user_id,
        },
    )
    assert 400 <= refused.status_code < 500, refused.text
    assert outbox_size(session) == before


def test_a_rolled_back_meeting_queues_no_invitation(
    session: Session, backend: Backend, desk: Desk
) -> None:
    before = outbox_size(session)
    nested = session.begin_nested()
    schedule_meeting(
        session=session,
        data=MeetingCreate(title="Rolled back", scheduled_for=utcnow() + timedelta(days=3)),
        settings=backend.settings,
        actor=SYSTEM,
    )
    assert outbox_size(session) == before + len(desk.members)
    nested.rollback()
    assert outbox_size(session) == before


def test_a_scheduled_meeting_mails_the_sitting_members_an_invitation(
    client: TestClient, session: Session, desk: Desk
) -> None:
    prefer(client, desk.government, language="zh")
    prefer(client, desk.academic, muted=("meeting_scheduled",))
    desk.meeting(open_it=False, title="Second quarter")
    [to_member] = mail_to(session, desk.civil_society)
    assert to_member.subject.startswith("Committee meeting on ")
    assert to_member.subject.endswith(": Second quarter")
    assert to_member.calendar is not None
    assert "METHOD:REQUEST" in to_member.calendar
    assert "because you sit on the committee of" in to_member.body
    [in_chinese] = mail_to(session, desk.government)
    assert in_chinese.subject.startswith("委员会会议")
    assert mail_to(session, desk.academic) == []
    assert mail_to(session, desk.retired) == []  # their term has ended
    assert mail_to(session, desk.nairobi) == []


def test_an_award_tells_the_city_and_the_committee(
    client: TestClient, session: Session, desk: Desk
) -> None:
    prefer(client, desk.nairobi, language="es")
    certificate = desk.award()
    subjects = sorted(mail.subject for mail in mail_to(session, desk.nairobi))
    assert subjects == [f"Certificado expedido a {NAIROBI}", f"Decisión del comité sobre {NAIROBI}"]
    issued = next(m for m in mail_to(session, desk.nairobi) if m.subject.startswith("Cert"))
    assert certificate["id"] in issued.body
    assert f"http://127.0.0.1:8000/es/certificates/{certificate['id']}" in issued.body
    for member in desk.members:
        [decision] = [m for m in mail_to(session, member) if m.subject.startswith("Committee dec")]
        assert "awarded the certificate to application" in decision.body
        assert "Votes: 3 yes, 0 no, 0 abstentions." in decision.body
        assert "because you sit on the committee of" in decision.body
    assert mail_to(session, desk.mombasa) == []


def test_status_changes_tell_the_city_unless_it_turned_them_off(
    client: TestClient, session: Session, desk: Desk
) -> None:
    quiet = desk.make_account(Role.CITY_APPLICANT, city_locode="KE-NBO")
    prefer(client, quiet, muted=("certificate_changed",))
    certificate = desk.award()
    for kind, word in (
        ("suspension", "suspended"),
        ("reinstatement", "reinstated"),
        ("revocation", "revoked"),
    ):
        decided = desk.carry(certificate["id"], kind, reason=f"{kind}: the spot-check")
        assert decided.status_code == 200, decided.text
        latest = [m for m in mail_to(session, desk.nairobi) if m.subject.startswith("Certificate")]
        assert latest[-1].subject == f"Certificate of {NAIROBI} {word}"
        assert f"Reason: {kind}: the spot-check" in latest[-1].body
    # The decisions still reach the one who turned certificate notices off.
    quiet_subjects = [mail.subject for mail in mail_to(session, quiet)]
    assert quiet_subjects == [f"Committee decision about {NAIROBI}"] * 4


def _name(session: Session, account: Account) -> str:
    user = session.get(User, account.user_id)
    assert user is not None
    return user.name
