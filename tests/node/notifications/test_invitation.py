"""A scheduled meeting's notice carries an RFC 5545 invitation that a real SMTP server
receives as mail clients expect it, and that icalendar reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session

from sdgcities.node.mail.service import compose, send_smtp

from ..conftest import Backend
from ..web.test_mail import Recorder, smtp_server
from .conftest import Desk
from .outbox import email_of, mail_to

__all__ = ["smtp_server"]


def test_the_invitation_arrives_and_parses(
    client: TestClient,
    session: Session,
    backend: Backend,
    desk: Desk,
    smtp_server: tuple[Recorder, int],
) -> None:
    recorder, port = smtp_server
    settings = backend.settings.model_copy(
        update={
            "mail_host": "127.0.0.1",
            "mail_port": port,
            "mail_from": "committee@ke.example.org",
            "mail_timeout_seconds": 5.0,
        }
    )
    # Within the members' terms (a member whose term has ended by then is not invited).
    starts = (datetime.now(UTC) + timedelta(days=10)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    created = client.post(
        "/committee/meetings",
        headers=desk.secretariat.headers,
        json={"title": "Spring session", "scheduled_for": starts.isoformat()},
    )
    assert created.status_code == 201, created.text
    meeting_id = created.json()["id"]
    [queued] = mail_to(session, desk.civil_society)
    send_smtp(compose(queued, settings), settings)

    [mail] = recorder.received
    assert mail["To"] == email_of(session, desk.civil_society)
    assert mail.get_content_type() == "multipart/mixed"
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "Spring session" in parts["text/plain"].get_content()
    alternative = parts["text/calendar"]
    assert alternative.get_param("method") == "REQUEST"
    attachment = parts["application/ics"]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == alternative.get_content().encode()

    calendar = Calendar.from_ical(alternative.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    # The UID is the node's (its mail domain when the invitation was queued).
    domain = backend.settings.mail_from.rpartition("@")[2]
    assert str(event["UID"]) == f"meeting-{meeting_id}.KE@{domain}"
    assert event.decoded("DTSTART") == starts
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTEND") == starts + timedelta(hours=3)
    assert str(event["SUMMARY"]) == "Spring session"
    assert backend.settings.node_name in str(event["LOCATION"])
    assert f"/en/committee/meetings/{meeting_id}" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == f"mailto:{backend.settings.mail_from}"
    assert str(event["ATTENDEE"]) == f"mailto:{email_of(session, desk.civil_society)}"
    # The same meeting keeps its UID in every member's invitation.
    [other] = mail_to(session, desk.academic)
    assert other.calendar is not None
    [other_event] = Calendar.from_ical(other.calendar).walk("VEVENT")
    assert str(other_event["UID"]) == str(event["UID"])
