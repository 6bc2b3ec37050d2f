"""The mails people receive about their account, in their language, and sending them.

Each is put in the outbox in the caller's transaction (`node.mail.enqueue`): the account, the
link and the mail are stored together or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from sdgcities.node.accounts.account_requests import approve_request, refuse_request
from sdgcities.node.accounts.links import issue_link
from sdgcities.node.accounts.models import AccountRequest, LinkPurpose, User
from sdgcities.node.actor import Actor
from sdgcities.node.config import Settings
from sdgcities.node.mail import MailText, enqueue

from ..i18n import BY_CODE, N_, SOURCE_LANGUAGE, Language, translations

_INVITATION_SUBJECT = N_("Your SDG Cities account on %(node)s")
_INVITATION_BODY = N_(
    "Hello %(name)s,\n\n"
    "An account has been created for you on %(node)s, a node of the SDG Cities "
    "certification federation.\n\n"
    "To choose your password and sign in, open this link within %(hours)s hours:\n\n"
    "%(link)s\n\n"
    "The link works once. If you did not expect this message, you can ignore it."
)
_RESET_SUBJECT = N_("Reset your SDG Cities password")
_RESET_BODY = N_(
    "Hello %(name)s,\n\n"
    "Someone asked to reset the password of your account on %(node)s.\n\n"
    "To choose a new password, open this link within %(minutes)s minutes:\n\n"
    "%(link)s\n\n"
    "The link works once. If you did not ask for this, you can ignore this message: your "
    "password has not changed."
)
_REQUEST_REFUSED_SUBJECT = N_("Your request for an SDG Cities account")
_REQUEST_REFUSED_BODY = N_(
    "Hello %(name)s,\n\n"
    "The secretariat of %(node)s has not approved your request for an account for %(city)s. "
    "If you think this is a mistake, please reply to the secretariat of the national node."
)


def language_for(user: User, fallback: Language = SOURCE_LANGUAGE) -> Language:
    """The first of the person's languages that the site speaks."""
    for tag in user.languages:
        language = BY_CODE.get(tag.split("-")[0].lower())
        if language is not None:
            return language
    return fallback


def mail_text(language: Language, subject: str, body: str, **values: object) -> MailText:
    """The subject and body, translated into `language`, with `values` put in."""
    catalogue = translations(language.code)
    return MailText(
        subject=catalogue.gettext(subject) % values, body=catalogue.gettext(body) % values
    )


def send_invitation(
    *,
    session: Session,
    user: User,
    settings: Settings,
    now: datetime,
    language: Language | None = None,
) -> None:
    hours = settings.invitation_lifetime_hours
    language = language or language_for(user)
    link = _link(
        session, user, LinkPurpose.INVITATION, timedelta(hours=hours), language, settings, now
    )
    text = mail_text(
        language,
        _INVITATION_SUBJECT,
        _INVITATION_BODY,
        name=user.name,
        node=settings.node_name,
        hours=hours,
        link=link,
    )
    enqueue(session=session, to=user.email, text=text, now=now)


def send_password_reset(
    *, session: Session, user: User, settings: Settings, now: datetime, language: Language
) -> None:
    minutes = settings.password_reset_lifetime_minutes
    lifetime = timedelta(minutes=minutes)
    link = _link(session, user, LinkPurpose.PASSWORD_RESET, lifetime, language, settings, now)
    text = mail_text(
        language,
        _RESET_SUBJECT,
        _RESET_BODY,
        name=user.name,
        node=settings.node_name,
        minutes=minutes,
        link=link,
    )
    enqueue(session=session, to=user.email, text=text, now=now)


def _link(
    session: Session,
    user: User,
    purpose: LinkPurpose,
    lifetime: timedelta,
    language: Language,
    settings: Settings,
    now: datetime,
) -> str:
    """A new one-time link's address, on the page in the mail's language."""
    secret = issue_link(session=session, user=user, purpose=purpose, lifetime=lifetime, now=now)
    return f"{settings.base_url}/{language.code}/set-password/{secret}"


def send_request_refused(
    *,
    session: Session,
    to: str,
    name: str,
    city: str,
    language: Language,
    settings: Settings,
    now: datetime,
) -> None:
    text = mail_text(
        language,
        _REQUEST_REFUSED_SUBJECT,
        _REQUEST_REFUSED_BODY,
        name=name,
        city=city,
        node=settings.node_name,
    )
    enqueue(session=session, to=to, text=text, now=now)


def approve_and_invite(
    *,
    session: Session,
    request_id: int,
    city_locode: str,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> User:
    """Approves a city's request: the account, and its invitation in the request's language."""
    user = approve_request(
        session=session, request_id=request_id, city_locode=city_locode, actor=actor, now=now
    )
    send_invitation(session=session, user=user, settings=settings, now=now)
    return user


def refuse_and_tell(
    *, session: Session, request_id: int, actor: Actor, settings: Settings, now: datetime
) -> AccountRequest:
    refused = refuse_request(session=session, request_id=request_id, actor=actor, now=now)
    send_request_refused(
        session=session,
        to=refused.email,
        name=refused.name,
        city=refused.city,
        language=BY_CODE.get(refused.language, SOURCE_LANGUAGE),
        settings=settings,
        now=now,
    )
    return refused
