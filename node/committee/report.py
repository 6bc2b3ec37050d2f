"""The meeting report (§28): who attended, each item, the votes and the outcomes.

Built from the records each time it is asked for, never stored, so it cannot go stale; served as
JSON and as an HTML page (Jinja2 with autoescaping on: names and reasons are user input).
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from sdgcities.node.accounts.models import User
from sdgcities.node.applications.models import Application
from sdgcities.node.config import Settings
from sdgcities.node.timeutil import utcnow

from . import service
from .models import AgendaItem, ItemOutcome, Meeting
from .schemas import (
    ItemPublic,
    MeetingPublic,
    MeetingReport,
    MemberPublic,
    QuorumRulePublic,
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
        standing=service.standing(member, service.today()),
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
        for vote, member in service.votes_of(session=session, item=item)
    ]


def build_report(*, session: Session, settings: Settings, meeting: Meeting) -> MeetingReport:
    items = []
    for item in service.items_of(session=session, meeting=meeting):
        application = session.get(Application, item.application_id) if item.application_id else None
        items.append(
            ReportItem(
                **item_public(item).model_dump(),
                votes=votes_public(session=session, item=item),
                city_locode=application.city_locode if application else None,
                stage=application.stage if application else None,
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
            member_public(member) for member in service.attendees(session=session, meeting=meeting)
        ],
        items=items,
        outcomes={outcome.value: outcomes.get(outcome, 0) for outcome in ItemOutcome},
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("sdgcities.node.committee", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: MeetingReport) -> str:
    return _environment().get_template("meeting_report.html").render(report=report)
