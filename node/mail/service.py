"""Putting mail in the outbox, and sending what is due through SMTP.

MailError
└── MailNotSent    the SMTP server refused or could not be reached (the message will be retried)
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlmodel import Session, col, select, update

from sdgcities.node.config import MailSecurity, Settings
from sdgcities.node.relay.service import backoff_delay

from .models import OutboxMessage

MAX_BATCH = 50


class MailError(Exception):
    pass


class MailNotSent(MailError):
    pass


@dataclass(frozen=True, slots=True)
class MailText:
    """What a mail says, already in the recipient's language."""

    subject: str
    body: str


def enqueue(
    *, session: Session, to: str, text: MailText, now: datetime, calendar: str | None = None
) -> OutboxMessage:
    """Adds a mail to the outbox in the caller's transaction: sent once that commits.
    `calendar`: an iCalendar invitation (METHOD:REQUEST) to send with it."""
    message = OutboxMessage(
        recipient=to,
        subject=text.subject,
        body=text.body,
        calendar=calendar,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    return message


def due_messages(*, session: Session, now: datetime, limit: int = MAX_BATCH) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.next_attempt_at) <= now)
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
        ).all()
    )


def claim(
    *, session: Session, message_id: int, now: datetime, settings: Settings
) -> OutboxMessage | None:
    """The message if it is still due, leased for one delivery (None: sent or taken)."""
    lease = timedelta(seconds=2 * settings.mail_timeout_seconds)
    claimed = session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .values(next_attempt_at=now + lease)
    )
    if claimed.rowcount != 1:
        return None
    message = session.get(OutboxMessage, message_id)
    assert message is not None
    session.refresh(message)
    return message


def compose(message: OutboxMessage, settings: Settings) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(message.created_at.timestamp(), usegmt=True)
    # The same id on every attempt: a server that took a message whose answer was lost can
    # recognise the retry.
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    mail["Message-ID"] = make_msgid(idstring=f"outbox.{message.id}", domain=domain)
    mail.set_content(message.body)
    if message.calendar is not None:
        # Both ways mail clients look for an invitation: the text/calendar alternative with its
        # method (Outlook, Gmail show the answer buttons) and an invite.ics file for the others.
        mail.add_alternative(message.calendar, subtype="calendar", params={"method": "REQUEST"})
        mail.add_attachment(
            message.calendar.encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    return mail


def send_smtp(mail: EmailMessage, settings: Settings) -> None:
    """One delivery through the configured SMTP server; raises `MailNotSent`."""
    if settings.mail_host is None:
        raise MailNotSent("no SMTP server is configured (SDGCITIES_MAIL_HOST)")
    timeout = settings.mail_timeout_seconds
    try:
        client: smtplib.SMTP
        if settings.mail_security is MailSecurity.SSL:
            client = smtplib.SMTP_SSL(
                settings.mail_host,
                settings.mail_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.mail_host, settings.mail_port, timeout=timeout)
        with client:
            if settings.mail_security is MailSecurity.STARTTLS:
                client.starttls(context=ssl.create_default_context())
            if settings.mail_username:
                password = (
                    settings.mail_password.get_secret_value() if settings.mail_password else ""
                )
                client.login(settings.mail_username, password)
            client.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailNotSent(f"{type(exc).__name__}: {exc}") from exc


def record_attempt(
    *, message: OutboxMessage, error: str | None, now: datetime, settings: Settings
) -> None:
    message.attempts += 1
    if error is None:
        message.sent_at, message.last_error = now, None
        return
    message.last_error = error[:1000]
    delay = backoff_delay(
        message.attempts - 1,
        base=settings.mail_backoff_base_seconds,
        cap=settings.mail_backoff_max_seconds,
    )
    # At least the base: full jitter alone could retry at once, hammering a server that is down.
    message.next_attempt_at = now + timedelta(
        seconds=max(settings.mail_backoff_base_seconds, delay)
    )
