"""Who a change concerns, and their notices put in the outbox in the change's transaction.

A workflow calls one `notify_*` function inside its own transaction: the notice is queued if
and only if the change commits (`node.mail.enqueue`). The periodic notices (a certificate's
expiry, a silent or alarming member node) are claimed first in `notice_sent`, whose unique
(kind, subject) pair lets one transaction only send each, whatever the workers or restarts.

What a notice says lives with the site's messages (`node/web/account/notice_mails.py`, the
`notices` catalogue area), so it is translated with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.applications.models import Application
from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.cities.models import City
from sdgcities.node.committee.models import AgendaItem, ItemKind, ItemOutcome, Meeting
from sdgcities.node.committee.quorum import is_sitting
from sdgcities.node.communities.models import Community, CommunityEvent
from sdgcities.node.config import Settings
from sdgcities.node.ingest.models import IngestAlarm, IngestedLog
from sdgcities.node.mail import enqueue
from sdgcities.node.members.models import MemberNode
from sdgcities.node.monitoring.service import is_silent
from sdgcities.node.review.models import ClarificationRequest, ReviewAssignment
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web.account import notice_mails as texts
from sdgcities.node.web.account.mails import language_for
from sdgcities.node.web.i18n import BY_CODE, SOURCE_LANGUAGE, Language

from .models import NoticeKind, NoticePreference, NoticeSent

# The days before a certificate's expiry at which its city is told, largest first.
EXPIRY_THRESHOLDS_DAYS: Final = (180, 90, 30)
# A meeting's row has its start only; invitations block this much of the members' calendars.
MEETING_LENGTH: Final = timedelta(hours=3)
# Alarms older than this when first seen (a node upgraded with old alarms) are not mailed.
ALARM_NOTICE_WINDOW: Final = timedelta(days=7)

Value = object | Callable[[Language], object]
"""What a notice's text names: a value, or a function giving it in the reader's language."""


# Preferences ------------------------------------------------------------------------------------


def preference_of(*, session: Session, user_id: int) -> NoticePreference | None:
    return session.get(NoticePreference, user_id)


def notice_language(user: User, preference: NoticePreference | None) -> Language:
    """The language the person chose for notices, else the first of theirs the site speaks."""
    if preference is not None and preference.language is not None:
        return BY_CODE.get(preference.language, SOURCE_LANGUAGE)
    return language_for(user)


def save_preferences(
    *,
    session: Session,
    user: User,
    language: str | None,
    muted: Iterable[NoticeKind],
    now: datetime,
) -> NoticePreference:
    """Record the person's choices (`language` None: follow their account's languages)."""
    assert user.id is not None
    if language is not None and language not in BY_CODE:
        raise ValueError(f"unknown language {language!r}")
    preference = preference_of(session=session, user_id=user.id) or NoticePreference(
        user_id=user.id
    )
    preference.language = language
    preference.muted = sorted({kind.value for kind in muted})
    preference.updated_at = now
    session.add(preference)
    session.flush()
    return preference


def muted_kinds(preference: NoticePreference | None) -> set[NoticeKind]:
    if preference is None:
        return set()
    known = {kind.value for kind in NoticeKind}
    return {NoticeKind(kind) for kind in preference.muted if kind in known}


# Who is concerned -------------------------------------------------------------------------------


def kinds_for(role: Role, *, is_global: bool) -> tuple[NoticeKind, ...]:
    """The notices a person of `role` can receive on this node (what their preferences offer)."""
    kinds: tuple[NoticeKind, ...] = _KINDS_BY_ROLE.get(role, ())
    if role is Role.SECRETARIAT and is_global:
        kinds += (NoticeKind.NODE_SILENT, NoticeKind.NODE_ALARM)
    return kinds


_KINDS_BY_ROLE: Final[dict[Role, tuple[NoticeKind, ...]]] = {
    Role.CITY_APPLICANT: (
        NoticeKind.CLARIFICATION_ASKED,
        NoticeKind.DECISION_TAKEN,
        NoticeKind.CERTIFICATE_CHANGED,
        NoticeKind.CERTIFICATE_EXPIRING,
        NoticeKind.COMMUNITY_FORMED,
        NoticeKind.COMMUNITY_EVENT,
    ),
    Role.REVIEWER: (NoticeKind.REVIEW_ASSIGNED, NoticeKind.CLARIFICATION_ANSWERED),
    Role.COMMITTEE_MEMBER: (NoticeKind.MEETING_SCHEDULED, NoticeKind.DECISION_TAKEN),
}


def city_users(*, session: Session, locode: str) -> list[User]:
    return _users(session, col(User.city_locode) == locode, col(User.role) == Role.CITY_APPLICANT)


def reviewers_of(*, session: Session, application_id: int) -> list[User]:
    reviewer_ids = select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application_id
    )
    return _users(session, col(User.id).in_(reviewer_ids))


def committee_members(*, session: Session, on: datetime) -> list[User]:
    """The members sitting on the day of `on`."""
    members = _users(session, col(User.role) == Role.COMMITTEE_MEMBER)
    return [member for member in members if is_sitting(member, on.date())]


def secretariat(*, session: Session) -> list[User]:
    return _users(session, col(User.role) == Role.SECRETARIAT)


def _users(session: Session, *conditions: object) -> list[User]:
    return list(
        session.exec(
            select(User).where(col(User.active).is_(True), *conditions).order_by(col(User.id))  # type: ignore[arg-type]
        ).all()
    )


# Sending ----------------------------------------------------------------------------------------


def _send(
    *,
    session: Session,
    settings: Settings,
    kind: NoticeKind,
    users: Sequence[User],
    why: str,
    subject: str,
    body: str,
    more: tuple[str, ...] = (),
    calendar: Callable[[User, Language], str] | None = None,
    values: Mapping[str, Value],
) -> int:
    """Queue the notice for each of `users` who has not turned `kind` off, in their language;
    how many were queued."""
    now = utcnow()
    queued = 0
    for user in {user.id: user for user in users}.values():
        assert user.id is not None
        preference = preference_of(session=session, user_id=user.id)
        if kind in muted_kinds(preference):
            continue
        language = notice_language(user, preference)
        resolved = {
            name: value(language) if callable(value) else value for name, value in values.items()
        }
        text = texts.notice_mail(
            language,
            subject=subject,
            body=body,
            why=why,
            more=more,
            name=user.name,
            node=settings.node_name,
            preferences=f"{settings.base_url}/{language.code}/account/notices",
            **resolved,
        )
        invitation = calendar(user, language) if calendar is not None else None
        enqueue(session=session, to=user.email, text=text, now=now, calendar=invitation)
        queued += 1
    return queued


def _send_to_city(
    *,
    session: Session,
    settings: Settings,
    locode: str,
    kind: NoticeKind,
    subject: str,
    body: str,
    calendar: Callable[[User, Language], str] | None = None,
    values: Mapping[str, Value],
) -> int:
    """`_send` to the people of the city `locode`, told why (they are its people), with the city
    named in `values` as `city`."""
    return _send(
        session=session,
        settings=settings,
        kind=kind,
        users=city_users(session=session, locode=locode),
        why=texts.WHY_CITY,
        subject=subject,
        body=body,
        calendar=calendar,
        values={**values, "city": _city_name(session, locode)},
    )


def _city_name(session: Session, locode: str) -> str:
    city = session.get(City, locode)
    return f"{city.name} ({locode})" if city is not None else locode


def _page(settings: Settings, path: str) -> Callable[[Language], str]:
    return lambda language: f"{settings.base_url}/{language.code}{path}"


def _date(moment: datetime) -> Callable[[Language], str]:
    return lambda language: language.format_date(moment)


def _datetime(moment: datetime) -> Callable[[Language], str]:
    return lambda language: f"{language.format_datetime(moment.astimezone(UTC))} UTC"


# The workflows' notices -------------------------------------------------------------------------


def notify_clarification_asked(
    *, session: Session, settings: Settings, application: Application, request: ClarificationRequest
) -> int:
    """To the city's people: a reviewer's question waits for them."""
    return _send_to_city(
        session=session,
        settings=settings,
        locode=application.city_locode,
        kind=NoticeKind.CLARIFICATION_ASKED,
        subject=texts.CLARIFICATION_ASKED_SUBJECT,
        body=texts.CLARIFICATION_ASKED_BODY,
        values={
            "application": application.id,
            "criteria": ", ".join(request.criteria),
            "question": request.question,
            "link": _page(settings, "/city"),
        },
    )


def notify_clarification_answered(
    *, session: Session, settings: Settings, application: Application
) -> int:
    """To the application's reviewers: the city answered, the review resumes."""
    assert application.id is not None
    return _send(
        session=session,
        settings=settings,
        kind=NoticeKind.CLARIFICATION_ANSWERED,
        users=reviewers_of(session=session, application_id=application.id),
        why=texts.WHY_REVIEWER,
        subject=texts.CLARIFICATION_ANSWERED_SUBJECT,
        body=texts.CLARIFICATION_ANSWERED_BODY,
        values={
            "city": _city_name(session, application.city_locode),
            "application": application.id,
            "link": _page(settings, f"/review/applications/{application.id}"),
        },
    )


def notify_review_assigned(
    *, session: Session, settings: Settings, application: Application, reviewer_ids: Sequence[int]
) -> int:
    """To each reviewer just assigned."""
    users = [user for user in (session.get(User, i) for i in reviewer_ids) if user]
    return _send(
        session=session,
        settings=settings,
        kind=NoticeKind.REVIEW_ASSIGNED,
        users=[user for user in users if user.active],
        why=texts.WHY_REVIEWER,
        subject=texts.REVIEW_ASSIGNED_SUBJECT,
        body=texts.REVIEW_ASSIGNED_BODY,
        values={
            "city": _city_name(session, application.city_locode),
            "application": application.id,
            "stage": application.stage,
            "link": _page(settings, f"/review/applications/{application.id}"),
        },
    )


def notify_meeting_scheduled(*, session: Session, settings: Settings, meeting: Meeting) -> int:
    """To the committee members sitting on the meeting's day, with the invitation."""
    start = meeting.scheduled_for.astimezone(UTC)
    link = _page(settings, f"/committee/meetings/{meeting.id}")

    def invitation(user: User, language: Language) -> str:
        description = texts.translated(language, texts.MEETING_SCHEDULED_BODY) % {
            "node": settings.node_name,
            "date": language.format_date(start),
            "time": start.strftime("%H:%M"),
            "title": meeting.title,
            "link": link(language),
        }
        return meeting_invitation(
            meeting=meeting, settings=settings, attendee=user, description=description
        )

    return _send(
        session=session,
        settings=settings,
        kind=NoticeKind.MEETING_SCHEDULED,
        users=committee_members(session=session, on=start),
        why=texts.WHY_COMMITTEE,
        subject=texts.MEETING_SCHEDULED_SUBJECT,
        body=texts.MEETING_SCHEDULED_BODY,
        calendar=invitation,
        values={
            "title": meeting.title,
            "date": _date(start),
            "time": start.strftime("%H:%M"),
            "link": link,
        },
    )


def meeting_invitation(
    *, meeting: Meeting, settings: Settings, attendee: User, description: str
) -> str:
    """The meeting as an RFC 5545 request (see `invitation`)."""
    start = meeting.scheduled_for.astimezone(UTC)
    return invitation(
        settings=settings,
        uid=f"meeting-{meeting.id}",
        stamp=meeting.created_at,
        start=start,
        end=start + MEETING_LENGTH,
        summary=meeting.title,
        attendee=attendee,
        description=description,
        product="committee meetings",
    )


def invitation(
    *,
    settings: Settings,
    uid: str,
    stamp: datetime,
    start: datetime,
    end: datetime,
    summary: str,
    attendee: User,
    description: str,
    product: str,
    cancelled: bool = False,
) -> str:
    """An RFC 5545 request: one UID per meeting or event (a later update replaces the same
    calendar entry), times in UTC, the node's mail address as organiser. `cancelled`: the
    cancellation of that entry (METHOD CANCEL, a later SEQUENCE, STATUS CANCELLED)."""
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    calendar = Calendar()
    calendar.add("prodid", f"-//SDG Cities//{product}//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"{uid}.{settings.node_id}@{domain}")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("sequence", 1 if cancelled else 0)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", summary)
    event.add("location", f"{settings.node_name} ({settings.base_url})")
    event.add("description", description)
    organizer = vCalAddress(f"mailto:{settings.mail_from}")
    organizer.params["cn"] = vText(settings.node_name)
    event.add("organizer", organizer)
    guest = vCalAddress(f"mailto:{attendee.email}")
    guest.params["cn"] = vText(attendee.name)
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["partstat"] = vText("NEEDS-ACTION")
    guest.params["rsvp"] = vText("TRUE")
    event.add("attendee", guest)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical.decode()


def notify_decision(*, session: Session, settings: Settings, item: AgendaItem) -> int:
    """To the city's people and the committee: what the committee decided, and the votes.

    An endorsement (global node) concerns no city: the member hears of it from the trust list
    its next sync brings, and its people have no account here.
    """
    assert item.decided_at is not None
    if item.kind is ItemKind.ENDORSEMENT:
        return 0
    target = (
        session.get(Application, item.application_id)
        if item.kind is ItemKind.AWARD
        else session.get(Certificate, item.certificate_id)
    )
    assert target is not None
    city_locode = target.city_locode
    approved = item.outcome is ItemOutcome.APPROVED
    if item.kind is ItemKind.AWARD:
        body = texts.DECISION_AWARD_APPROVED if approved else texts.DECISION_AWARD_REJECTED
    else:
        body = texts.DECISION_PROPOSAL_APPROVED if approved else texts.DECISION_PROPOSAL_REJECTED
    proposal = texts.PROPOSAL_NAMES.get(item.kind.value, item.kind.value)
    tally = item.tally or {}
    common: dict[str, Value] = {
        "city": _city_name(session, city_locode),
        "application": item.application_id,
        "certificate": item.certificate_id,
        "proposal": lambda language: texts.translated(language, proposal),
        "date": _date(item.decided_at),
        "yes": tally.get("yes", 0),
        "no": tally.get("no", 0),
        "abstain": tally.get("abstain", 0),
    }
    queued = 0
    for users, why in (
        (city_users(session=session, locode=city_locode), texts.WHY_CITY),
        (committee_members(session=session, on=item.decided_at), texts.WHY_COMMITTEE),
    ):
        queued += _send(
            session=session,
            settings=settings,
            kind=NoticeKind.DECISION_TAKEN,
            users=users,
            why=why,
            subject=texts.DECISION_SUBJECT,
            body=body,
            more=(texts.DECISION_VOTES,),
            values={
                **common,
            },
        )
    return queued


_CERTIFICATE_TEXTS: Final = {
    "issued": (texts.CERTIFICATE_ISSUED_SUBJECT, texts.CERTIFICATE_ISSUED_BODY),
    CertificateStatus.SUSPENDED: (
        texts.CERTIFICATE_SUSPENDED_SUBJECT,
        texts.CERTIFICATE_SUSPENDED_BODY,
    ),
    CertificateStatus.ACTIVE: (
        texts.CERTIFICATE_REINSTATED_SUBJECT,
        texts.CERTIFICATE_REINSTATED_BODY,
    ),
    CertificateStatus.REVOKED: (texts.CERTIFICATE_REVOKED_SUBJECT, texts.CERTIFICATE_REVOKED_BODY),
}


def notify_certificate(
    *, session: Session, settings: Settings, certificate: Certificate, reason: str | None = None
) -> int:
    """To the city's people: their certificate was issued (`reason` None) or its status
    changed to what it now is (suspended, reinstated, revoked)."""
    subject, body = _CERTIFICATE_TEXTS["issued" if reason is None else certificate.status]
    return _send_to_city(
        session=session,
        settings=settings,
        locode=certificate.city_locode,
        kind=NoticeKind.CERTIFICATE_CHANGED,
        subject=subject,
        body=body,
        values={
            **_certificate_values(settings, certificate),
            "reason": reason or "",
        },
    )


def notify_community_formed(
    *,
    session: Session,
    settings: Settings,
    community: Community,
    locodes: Sequence[str],
    count: int | None = None,
) -> int:
    """To each invited city's people: a community formed around their gaps (report §30c), of
    `count` cities (by default `locodes`; a community across countries has more)."""
    values: dict[str, Value] = {
        "title": community.title,
        "count": count or len(locodes),
        "gaps": ", ".join(community.gaps),
        "link": _page(settings, f"/city/communities/{community.id}"),
    }
    return sum(
        _send_to_city(
            session=session,
            settings=settings,
            locode=locode,
            kind=NoticeKind.COMMUNITY_FORMED,
            subject=texts.COMMUNITY_FORMED_SUBJECT,
            body=texts.COMMUNITY_FORMED_BODY,
            values=values,
        )
        for locode in locodes
    )


def notify_community_event(
    *,
    session: Session,
    settings: Settings,
    community: Community,
    event: CommunityEvent,
    length: timedelta,
    locodes: Sequence[str],
    cancelled: bool = False,
) -> int:
    """To the people of each city that joined the community, with the invitation; or, once
    the event is `cancelled`, its cancellation."""
    body = texts.COMMUNITY_EVENT_CANCELLED_BODY if cancelled else texts.COMMUNITY_EVENT_BODY
    start = event.starts_at.astimezone(UTC)
    link = _page(settings, f"/city/communities/{community.id}")

    def kind(language: Language) -> str:
        return texts.translated(language, texts.COMMUNITY_EVENT_KINDS[event.kind.value])

    values: dict[str, Value] = {
        "community": community.title,
        "title": event.title,
        "kind": kind,
        "minutes": event.minutes,
        "date": _date(start),
        "time": start.strftime("%H:%M"),
        "link": link,
    }

    def calendar(user: User, language: Language) -> str:
        resolved = {
            name: value(language) if callable(value) else value for name, value in values.items()
        }
        description = texts.translated(language, body) % {
            **resolved,
            "node": settings.node_name,
        }
        return invitation(
            settings=settings,
            uid=f"community-event-{event.id}",
            stamp=event.created_at,
            start=start,
            end=start + length,
            summary=f"{community.title}: {event.title}",
            attendee=user,
            description=description,
            product="learning communities",
            cancelled=cancelled,
        )

    return sum(
        _send_to_city(
            session=session,
            settings=settings,
            locode=locode,
            kind=NoticeKind.COMMUNITY_EVENT,
            subject=texts.COMMUNITY_EVENT_CANCELLED_SUBJECT
            if cancelled
            else texts.COMMUNITY_EVENT_SUBJECT,
            body=body,
            calendar=calendar,
            values=values,
        )
        for locode in locodes
    )


def _certificate_values(settings: Settings, certificate: Certificate) -> dict[str, Value]:
    return {
        "certificate": certificate.id,
        "stage": certificate.stage,
        "level": certificate.level,
        "until": _date(certificate.valid_until),
        "link": _page(settings, f"/certificates/{certificate.id}"),
    }


# The periodic notices ---------------------------------------------------------------------------


def claim_notice(*, session: Session, kind: NoticeKind, subject: str, now: datetime) -> bool:
    """Record that this notice is sent; False when another transaction (another worker, an
    earlier round) already did. On PostgreSQL a concurrent claim waits for the first one's
    transaction, and then skips."""
    dialect = session.get_bind().dialect.name
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    claimed = session.execute(
        make_insert(NoticeSent)
        .values(kind=kind.value, subject=subject[:200], sent_at=now)
        .on_conflict_do_nothing(index_elements=["kind", "subject"])
        .returning(col(NoticeSent.id))
    ).first()
    return claimed is not None


def expiry_threshold(certificate: Certificate, now: datetime) -> int | None:
    """The smallest threshold the certificate's remaining validity is within, if any: a
    certificate first seen 25 days before it ends gets the 30-day notice only."""
    remaining = certificate.valid_until - now
    crossed = [days for days in EXPIRY_THRESHOLDS_DAYS if remaining <= timedelta(days=days)]
    return min(crossed) if crossed and remaining > timedelta(0) else None


def _already_sent(session: Session, kind: NoticeKind, subjects: Sequence[str]) -> set[str]:
    if not subjects:
        return set()
    return set(
        session.exec(
            select(NoticeSent.subject).where(
                NoticeSent.kind == kind, col(NoticeSent.subject).in_(subjects)
            )
        ).all()
    )


def due_expiries(*, session: Session, now: datetime) -> list[tuple[Certificate, int]]:
    """The certificates with a threshold crossed and not yet told, with that threshold."""
    candidates = session.exec(
        select(Certificate)
        .where(
            col(Certificate.status) != CertificateStatus.REVOKED,
            col(Certificate.valid_until) > now,
            col(Certificate.valid_until) <= now + timedelta(days=max(EXPIRY_THRESHOLDS_DAYS)),
        )
        .order_by(col(Certificate.valid_until), col(Certificate.id))
    ).all()
    crossed = [
        (certificate, days)
        for certificate in candidates
        if (days := expiry_threshold(certificate, now)) is not None
    ]
    sent = _already_sent(
        session, NoticeKind.CERTIFICATE_EXPIRING, [f"{c.id}:{days}" for c, days in crossed]
    )
    return [(c, days) for c, days in crossed if f"{c.id}:{days}" not in sent]


def send_expiry_notices(*, session: Session, settings: Settings, now: datetime) -> int:
    """One notice per certificate per threshold crossed (180, 90, 30 days), to its city."""
    sent = 0
    for certificate, days in due_expiries(session=session, now=now):
        if not claim_notice(
            session=session,
            kind=NoticeKind.CERTIFICATE_EXPIRING,
            subject=f"{certificate.id}:{days}",
            now=now,
        ):
            continue
        sent += 1
        _send_to_city(
            session=session,
            settings=settings,
            locode=certificate.city_locode,
            kind=NoticeKind.CERTIFICATE_EXPIRING,
            subject=texts.CERTIFICATE_EXPIRING_SUBJECT,
            body=texts.CERTIFICATE_EXPIRING_BODY,
            values={
                "days": days,
                **_certificate_values(settings, certificate),
            },
        )
    return sent


def _silence_subject(member: MemberNode, heard: datetime) -> str:
    return f"{member.node_id}:{heard.astimezone(UTC).isoformat()}"


def due_silences(
    *, session: Session, settings: Settings, now: datetime
) -> list[tuple[MemberNode, datetime]]:
    """The member nodes silent and not yet told of, with when they were last heard from."""
    logs = {log.node_id: log for log in session.exec(select(IngestedLog)).all()}
    silent = []
    for member in session.exec(select(MemberNode).order_by(col(MemberNode.node_id))).all():
        last_report = logs[member.node_id].last_report_at if member.node_id in logs else None
        if is_silent(
            settings=settings,
            node_id=member.node_id,
            status=member.status.value,
            last_report_at=last_report,
            joined_at=member.joined_at,
            now=now,
        ):
            silent.append((member, last_report or member.joined_at))
    sent = _already_sent(
        session, NoticeKind.NODE_SILENT, [_silence_subject(m, heard) for m, heard in silent]
    )
    return [(m, heard) for m, heard in silent if _silence_subject(m, heard) not in sent]


def due_alarms(*, session: Session, now: datetime) -> list[IngestAlarm]:
    """The alarms raised lately and not yet told of."""
    alarms = session.exec(
        select(IngestAlarm)
        .where(col(IngestAlarm.raised_at) > now - ALARM_NOTICE_WINDOW)
        .order_by(col(IngestAlarm.id))
    ).all()
    sent = _already_sent(session, NoticeKind.NODE_ALARM, [str(alarm.id) for alarm in alarms])
    return [alarm for alarm in alarms if str(alarm.id) not in sent]


def periodic_notices_due(*, session: Session, settings: Settings, now: datetime) -> bool:
    """Whether a round has anything to send (read only: most rounds have nothing)."""
    return bool(
        due_expiries(session=session, now=now)
        or (
            settings.is_global
            and (
                due_silences(session=session, settings=settings, now=now)
                or due_alarms(session=session, now=now)
            )
        )
    )


def send_federation_notices(*, session: Session, settings: Settings, now: datetime) -> int:
    """On the global node, to its secretariat: each member node that fell silent (once per
    silence: the claim names the moment it was last heard from) and each alarm newly raised."""
    sent = 0
    for member, heard in due_silences(session=session, settings=settings, now=now):
        if not claim_notice(
            session=session,
            kind=NoticeKind.NODE_SILENT,
            subject=_silence_subject(member, heard),
            now=now,
        ):
            continue
        sent += 1
        _send(
            session=session,
            settings=settings,
            kind=NoticeKind.NODE_SILENT,
            users=secretariat(session=session),
            why=texts.WHY_SECRETARIAT,
            subject=texts.NODE_SILENT_SUBJECT,
            body=texts.NODE_SILENT_BODY,
            values={
                "member": member.name,
                "node_id": member.node_id,
                "since": _datetime(heard),
                "hours": lambda language: language.format_number(
                    round(settings.silence_after.total_seconds() / 3600, 1)
                ),
                "link": _page(settings, f"/global/nodes/{member.node_id}"),
            },
        )
    names = {member.node_id: member.name for member in session.exec(select(MemberNode)).all()}
    for alarm in due_alarms(session=session, now=now):
        if not claim_notice(
            session=session, kind=NoticeKind.NODE_ALARM, subject=str(alarm.id), now=now
        ):
            continue
        sent += 1
        _send(
            session=session,
            settings=settings,
            kind=NoticeKind.NODE_ALARM,
            users=secretariat(session=session),
            why=texts.WHY_SECRETARIAT,
            subject=texts.NODE_ALARM_SUBJECT,
            body=texts.NODE_ALARM_BODY,
            values={
                "member": names.get(alarm.node_id, alarm.node_id),
                "node_id": alarm.node_id,
                "alarm": alarm.kind.value,
                "date": _date(alarm.raised_at),
                "detail": alarm.detail,
                "link": _page(settings, f"/global/nodes/{alarm.node_id}"),
            },
        )
    return sent
