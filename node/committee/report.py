"""The meeting report (§28): who attended, each item, the votes, the recusals and the outcomes.

Built from the records each time it is asked for, never stored, so it cannot go stale; served as
JSON and as an HTML page (Jinja2 with autoescaping on: names and reasons are user input). Both
are for people too: each item names its city and stage in words (`city_name`, `stage_name`,
`title`), and the HTML page writes dates as dates and codes as words, in English (the committee
member's pages, `web/committee.py`, give the same report in the reader's language).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from sdgcities.node.accounts.models import User
from sdgcities.node.applications.models import Application
from sdgcities.node.certificates.models import Certificate
from sdgcities.node.cities.models import City
from sdgcities.node.config import Settings
from sdgcities.node.members.models import EndorsementRequestRecord
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web import committee_terms as terms
from sdgcities.node.web.i18n import SOURCE_LANGUAGE
from sdgcities.node.web.terms import STAGE_NAMES

from . import meetings, roster, voting
from .models import AgendaItem, ItemKind, ItemOutcome, Meeting, MeetingStatus, Recusal
from .schemas import (
    EndorsedFramework,
    ItemDetail,
    ItemPublic,
    MeetingPublic,
    MeetingReport,
    MemberPublic,
    QuorumPublic,
    QuorumRulePublic,
    RecusalPublic,
    ReportItem,
    VotePublic,
)


def member_public(member: User) -> MemberPublic:
    assert member.id is not None
    return MemberPublic(
        id=member.id,
        name=member.name,
        stakeholder_category=member.stakeholder_category,
        term_start=member.term_start,
        term_end=member.term_end,
        standing=roster.standing(member, roster.today()),
    )


def meeting_public(meeting: Meeting) -> MeetingPublic:
    assert meeting.id is not None
    return MeetingPublic(
        id=meeting.id,
        title=meeting.title,
        scheduled_for=meeting.scheduled_for,
        status=meeting.status,
        quorum_rule=QuorumRulePublic(
            min_fraction=meeting.quorum_min_fraction,
            min_non_government=meeting.quorum_min_non_government,
        ),
        opened_at=meeting.opened_at,
        closed_at=meeting.closed_at,
    )


def item_public(item: AgendaItem) -> ItemPublic:
    return ItemPublic.model_validate(item)


def votes_public(*, session: Session, item: AgendaItem) -> list[VotePublic]:
    return [
        VotePublic(
            member_id=vote.member_id,
            member_name=member.name,
            choice=vote.choice,
            cast_at=vote.cast_at,
        )
        for vote, member in voting.votes_of(session=session, item=item)
    ]


def recusal_public(recusal: Recusal, *, name: str) -> RecusalPublic:
    return RecusalPublic(
        item_id=recusal.item_id,
        member_id=recusal.member_id,
        member_name=name,
        reason=recusal.reason,
        recorded_at=recusal.recorded_at,
    )


def recusals_public(*, session: Session, item: AgendaItem) -> list[RecusalPublic]:
    return [
        recusal_public(recusal, name=member.name)
        for recusal, member in voting.recusals_of(session=session, item=item)
    ]


def item_detail(*, session: Session, item: AgendaItem) -> ItemDetail:
    """An item with its votes and recusals and, while it may still be decided, its quorum now."""
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=item.meeting_id)
    quorum_now = None
    if item.outcome is ItemOutcome.PENDING and meeting.status is not MeetingStatus.CLOSED:
        counted = voting.count_quorum(
            session=session, meeting=meeting, on=roster.today(), item=item
        )
        quorum_now = QuorumPublic.model_validate(counted.to_record())
    return ItemDetail(
        **item_public(item).model_dump(),
        votes=votes_public(session=session, item=item),
        recusals=recusals_public(session=session, item=item),
        quorum_now=quorum_now,
    )


def item_title(
    item: AgendaItem,
    *,
    city_name: str | None,
    stage_name: str | None,
    locode: str | None,
    framework: EndorsedFramework | None = None,
) -> str:
    """What the item is about, in words (English): "Award of a certificate: Nairobi (KE-NBO),
    Qualification (candidate city)"; "Endorsement of a national framework: sdgcities-ke
    version 1, from KE"."""
    if framework is not None:
        return (
            f"{terms.ITEM_KIND_NAMES[item.kind]}: {framework.framework_id} version "
            f"{framework.version}, from {framework.node_id}"
        )
    about = [f"{city_name} ({locode})" if city_name and locode else locode or city_name or ""]
    if stage_name:
        about.append(stage_name)
    if item.certificate_id and item.kind is not ItemKind.AWARD:
        about.append(f"certificate {item.certificate_id}")
    words = ", ".join(part for part in about if part)
    kind = terms.ITEM_KIND_NAMES[item.kind]
    return f"{kind}: {words}" if words else kind


def build_report(*, session: Session, settings: Settings, meeting: Meeting) -> MeetingReport:
    items = []
    for item in meetings.items_of(session=session, meeting=meeting):
        application = session.get(Application, item.application_id) if item.application_id else None
        locode = application.city_locode if application else _certificate_city(session, item)
        city = session.get(City, locode) if locode else None
        stage = application.stage if application else None
        stage_name = STAGE_NAMES.get(stage) if stage else None
        framework = _endorsed_framework(session, item)
        items.append(
            ReportItem(
                **item_detail(session=session, item=item).model_dump(),
                city_locode=locode,
                city_name=city.name if city else None,
                stage=stage,
                stage_name=stage_name,
                title=item_title(
                    item,
                    city_name=city.name if city else None,
                    stage_name=stage_name,
                    locode=locode,
                    framework=framework,
                ),
                framework=framework,
                language=application.language if application else None,
            )
        )
    outcomes = Counter(item.outcome for item in items)
    return MeetingReport(
        node=settings.node_name,
        committee=f"{settings.node_name} committee",
        generated_at=utcnow(),
        meeting=meeting_public(meeting),
        attendance=[
            member_public(member) for member in meetings.attendees(session=session, meeting=meeting)
        ],
        items=items,
        outcomes={outcome.value: outcomes.get(outcome, 0) for outcome in ItemOutcome},
    )


def _endorsed_framework(session: Session, item: AgendaItem) -> EndorsedFramework | None:
    if item.endorsement_request_id is None:
        return None
    request = session.get(EndorsementRequestRecord, item.endorsement_request_id)
    if request is None:
        return None
    return EndorsedFramework(
        node_id=request.node_id,
        framework_id=request.framework_id,
        version=request.version,
        digest=request.digest,
    )


def _certificate_city(session: Session, item: AgendaItem) -> str | None:
    if item.certificate_id is None:
        return None
    certificate = session.get(Certificate, item.certificate_id)
    return certificate.city_locode if certificate else None


def _moment(value: datetime | None) -> str:
    """A moment as a reader writes it ("December 6, 2026 at 2:00:00 PM UTC"); times are UTC."""
    return "" if value is None else SOURCE_LANGUAGE.format_datetime(value, style="long")


def _day(value: date | None) -> str:
    return "" if value is None else SOURCE_LANGUAGE.format_date(value)


def _language_name(code: str) -> str:
    """A language's English name ("Spanish" for `es`)."""
    return str(SOURCE_LANGUAGE.babel_locale.languages.get(code, code))


def _name_of(table: dict[Any, str], code: Any, default: str = "") -> str:
    return table.get(code, default) if code is not None else default


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("sdgcities.node.committee", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["moment"] = _moment
    env.filters["day"] = _day
    env.filters["language_name"] = _language_name
    env.globals["terms"] = terms
    env.globals["name_of"] = _name_of
    return env


def render_html(report: MeetingReport) -> str:
    return _environment().get_template("meeting_report.html").render(report=report)
