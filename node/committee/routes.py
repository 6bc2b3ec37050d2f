"""`/committee`: members, meetings, attendance, agendas, votes, decisions and meeting reports.

The secretariat (and administrators) schedule, open and close meetings, record attendance,
generate agendas and record decisions; committee members vote, as themselves, and read agendas
and reports. A city applicant sees only the decision on its own application
(`/applications/{id}/decision`, 404 for another city's); the public sees nothing here.

Refusals: 409 when the meeting or item is not in a state that allows it (with the quorum counts
when there is no quorum), or when a member votes twice, votes after recusing, or recuses after
voting; 403 when a member whose term has ended (or not begun) votes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.errors import NotFound
from sdgcities.node.schemas import Id, Limit, Offset

from . import decisions, meetings, planning, roster, voting
from .models import MeetingStatus
from .report import (
    build_report,
    item_detail,
    item_public,
    meeting_public,
    member_public,
    recusal_public,
    render_html,
)
from .schemas import (
    AgendaGenerated,
    ApplicationDecision,
    AttendanceCreate,
    DeferCreate,
    ItemDetail,
    MeetingCreate,
    MeetingDetail,
    MeetingPlanCreate,
    MeetingPlanPublic,
    MeetingReport,
    MeetingsPublic,
    MemberPublic,
    MembersPublic,
    QuorumPublic,
    RecusalCreate,
    RecusalPublic,
    RotationPublic,
    VoteCreate,
    VotePublic,
)

router = APIRouter(tags=["committee"])

Secretariat = Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT)]
CommitteeReader = Annotated[
    Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT, Role.COMMITTEE_MEMBER)
]
Member = Annotated[Actor, access(Role.COMMITTEE_MEMBER)]
DecisionReader = Annotated[
    Actor,
    access(
        Role.ADMINISTRATOR,
        Role.SECRETARIAT,
        Role.COMMITTEE_MEMBER,
        Role.REVIEWER,
        Role.CITY_APPLICANT,
    ),
]
# The report page shows user input (names, titles, reasons): escaped, and nothing in it may run.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}


def _meeting_detail(session: Session, meeting_id: int) -> MeetingDetail:
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=meeting_id)
    quorum = voting.count_quorum(session=session, meeting=meeting, on=roster.today())
    return MeetingDetail(
        **meeting_public(meeting).model_dump(),
        attendance=[
            member_public(member) for member in meetings.attendees(session=session, meeting=meeting)
        ],
        quorum_now=QuorumPublic.model_validate(quorum.to_record()),
        agenda=[item_public(item) for item in meetings.items_of(session=session, meeting=meeting)],
    )


def _item_detail(session: Session, item_id: int) -> ItemDetail:
    item = meetings.get_item_or_raise(session=session, item_id=item_id)
    return item_detail(session=session, item=item)


# Members ----------------------------------------------------------------------------------------


@router.get("/committee/members")
def list_members(
    session: ReadSessionDep,
    _actor: CommitteeReader,
    within_days: Annotated[
        int, Query(ge=1, le=366, description="The rotation window: the coming quarter by default")
    ] = 91,
) -> MembersPublic:
    """Every committee member, sitting, past and future, with their terms, and who rotates off
    and on within `within_days`."""
    members = [member_public(member) for member in roster.list_members(session=session)]
    today = roster.today()
    coming = planning.rotation(session=session, on=today, until=today + timedelta(days=within_days))
    return MembersPublic(
        data=members,
        count=len(members),
        sitting=sum(1 for member in members if member.standing == "sitting"),
        rotation=RotationPublic(
            until=coming.until,
            leaving=[member_public(member) for member in coming.leaving],
            joining=[member_public(member) for member in coming.joining],
            sitting_then=coming.sitting_then,
            non_government_sitting_then=coming.non_government_sitting_then,
        ),
    )


# Meetings ---------------------------------------------------------------------------------------


@router.post("/committee/meetings", status_code=status.HTTP_201_CREATED)
def schedule_meeting(
    session: SessionDep, state: StateDep, actor: Secretariat, body: MeetingCreate
) -> MeetingDetail:
    """Schedule a meeting; it keeps the node's quorum rule as it stands now."""
    meeting = meetings.schedule_meeting(
        session=session, data=body, settings=state.settings, actor=actor
    )
    assert meeting.id is not None
    return _meeting_detail(session, meeting.id)


@router.post("/committee/meetings/plan", status_code=status.HTTP_201_CREATED)
def plan_meetings(
    session: SessionDep, state: StateDep, actor: Secretariat, body: MeetingPlanCreate
) -> MeetingPlanPublic:
    """Schedule a year's meetings at once (`SDGCITIES_COMMITTEE_MEETINGS_PER_YEAR`, four by
    default: one a quarter); a year is planned once (409 for a second plan)."""
    plan = planning.plan_year(session=session, year=body.year, settings=state.settings, actor=actor)
    return MeetingPlanPublic(
        year=plan.year,
        per_year=plan.per_year,
        data=[meeting_public(meeting) for meeting in plan.meetings],
        count=len(plan.meetings),
        skipped=plan.skipped,
    )


@router.get("/committee/meetings")
def list_meetings(
    session: ReadSessionDep,
    _actor: CommitteeReader,
    status: MeetingStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> MeetingsPublic:
    """Meetings, latest first."""
    found, count = meetings.list_meetings(
        session=session, offset=offset, limit=limit, status=status
    )
    return MeetingsPublic(data=[meeting_public(m) for m in found], count=count)


@router.get("/committee/meetings/{meeting_id}")
def get_meeting(session: ReadSessionDep, _actor: CommitteeReader, meeting_id: Id) -> MeetingDetail:
    """A meeting with its attendance, its agenda and the quorum as it stands today."""
    return _meeting_detail(session, meeting_id)


@router.post("/committee/meetings/{meeting_id}/open")
def open_meeting(session: SessionDep, actor: Secretariat, meeting_id: Id) -> MeetingDetail:
    """Open a scheduled meeting: members may vote and decisions may be recorded."""
    meetings.open_meeting(session=session, meeting_id=meeting_id, actor=actor)
    return _meeting_detail(session, meeting_id)


@router.post("/committee/meetings/{meeting_id}/close")
def close_meeting(
    session: SessionDep, state: StateDep, actor: Secretariat, meeting_id: Id
) -> MeetingDetail:
    """Close an open meeting; items still pending are deferred to a later agenda."""
    meetings.close_meeting(session=session, state=state, meeting_id=meeting_id, actor=actor)
    return _meeting_detail(session, meeting_id)


@router.post("/committee/meetings/{meeting_id}/attendance", status_code=status.HTTP_201_CREATED)
def record_attendance(
    session: SessionDep, actor: Secretariat, meeting_id: Id, body: AttendanceCreate
) -> MemberPublic:
    """Record a sitting member as present at a scheduled or open meeting."""
    member = meetings.record_attendance(
        session=session, meeting_id=meeting_id, member_id=body.member_id, actor=actor
    )
    return member_public(member)


@router.post("/committee/meetings/{meeting_id}/agenda/generate")
def generate_agenda(session: SessionDep, actor: Secretariat, meeting_id: Id) -> AgendaGenerated:
    """Add every recommended application, every open proposal and (global node) every pending
    endorsement request not already waiting on an agenda."""
    added = meetings.generate_agenda(session=session, meeting_id=meeting_id, actor=actor)
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=meeting_id)
    return AgendaGenerated(
        added=[item_public(item) for item in added],
        agenda=[item_public(item) for item in meetings.items_of(session=session, meeting=meeting)],
    )


@router.get("/committee/meetings/{meeting_id}/report")
def meeting_report(
    session: ReadSessionDep, state: StateDep, _actor: CommitteeReader, meeting_id: Id
) -> MeetingReport:
    """The meeting report: attendance, each item with its votes, the outcomes."""
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=meeting_id)
    return build_report(session=session, settings=state.settings, meeting=meeting)


@router.get("/committee/meetings/{meeting_id}/report.html", response_class=HTMLResponse)
def meeting_report_html(
    session: ReadSessionDep, state: StateDep, _actor: CommitteeReader, meeting_id: Id
) -> HTMLResponse:
    """The meeting report as a page to read, print or file."""
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=meeting_id)
    report = build_report(session=session, settings=state.settings, meeting=meeting)
    return HTMLResponse(render_html(report), headers=HTML_HEADERS)


# Items ------------------------------------------------------------------------------------------


@router.get("/committee/items/{item_id}")
def get_item(session: ReadSessionDep, _actor: CommitteeReader, item_id: Id) -> ItemDetail:
    """An agenda item with its votes so far."""
    return _item_detail(session, item_id)


@router.post("/committee/items/{item_id}/votes", status_code=status.HTTP_201_CREATED)
def cast_vote(session: SessionDep, actor: Member, item_id: Id, body: VoteCreate) -> VotePublic:
    """Vote on an item, once, as a sitting member recorded as attending its open meeting."""
    vote = voting.cast_vote(session=session, item_id=item_id, choice=body.choice, actor=actor)
    assert actor.user_id is not None
    return VotePublic(
        member_id=actor.user_id, member_name=actor.name, choice=vote.choice, cast_at=vote.cast_at
    )


@router.post("/committee/items/{item_id}/recusal", status_code=status.HTTP_201_CREATED)
def recuse(session: SessionDep, actor: Member, item_id: Id, body: RecusalCreate) -> RecusalPublic:
    """Stand aside from an item for a conflict of interest, before voting on it: for that item
    the member then counts as neither a vote nor a member of its quorum."""
    recusal = voting.recuse(session=session, item_id=item_id, reason=body.reason, actor=actor)
    return recusal_public(recusal, name=actor.name)


@router.post("/committee/items/{item_id}/decide")
def decide_item(
    session: SessionDep, state: StateDep, actor: Secretariat, item_id: Id
) -> ItemDetail:
    """Record the decision, after checking the quorum, and carry it out in the same
    transaction: issue the certificate, or change its status and republish the status list."""
    decisions.decide_item(session=session, state=state, item_id=item_id, actor=actor)
    return _item_detail(session, item_id)


@router.post("/committee/items/{item_id}/defer")
def defer_item(
    session: SessionDep, actor: Secretariat, item_id: Id, body: DeferCreate
) -> ItemDetail:
    """Leave an item undecided, with the reason; the next generated agenda takes it up again."""
    decisions.defer_item(session=session, item_id=item_id, reason=body.reason, actor=actor)
    return _item_detail(session, item_id)


# What a city sees -------------------------------------------------------------------------------


@router.get("/applications/{application_id}/decision")
def application_decision(
    session: ReadSessionDep, state: StateDep, actor: DecisionReader, application_id: Id
) -> ApplicationDecision:
    """The committee's decision on an application, with where its stage report is."""
    application = session.get(Application, application_id)
    if application is None or (
        actor.role is Role.CITY_APPLICANT and actor.city_locode != application.city_locode
    ):
        raise NotFound(f"no application {application_id}")
    item = decisions.decision_on(session=session, application=application)
    if item is None or item.decided_at is None:
        raise NotFound(f"application {application_id} has no committee decision yet")
    meeting = meetings.get_meeting_or_raise(session=session, meeting_id=item.meeting_id)
    assert application.id is not None
    assert meeting.id is not None
    return ApplicationDecision(
        application_id=application.id,
        city_locode=application.city_locode,
        stage=application.stage,
        outcome=item.outcome,
        decided_at=item.decided_at,
        committee=f"{state.settings.node_name} committee",
        meeting_id=meeting.id,
        meeting_title=meeting.title,
        votes=item.tally or {},
        certificate_id=item.certificate_id,
        stage_report=decisions.stage_report_path(application),
    )
