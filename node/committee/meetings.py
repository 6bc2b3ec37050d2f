"""Meetings, their attendance and their agendas (§28).

    meeting:  scheduled ──open──▶ open ──close──▶ closed
    item:     pending ──decide──▶ approved | rejected
                 └──────defer (or the meeting closes)──▶ deferred

The secretariat schedules a meeting, opens it, records who attends (sitting members only: the
quorum counts the people who vote) and closes it; what the meeting left undecided is deferred,
and closing appends `meeting.held` to the event log.

The agenda is generated: every recommended application, every open certificate proposal and,
on the global node, every pending request to endorse a member's adapted framework
(`members.endorsements`), unless already waiting on an agenda. A deferred item stays in its
meeting's record; the application or proposal it was about is put on the next agenda
generated, since nothing undecided sits on it any more.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from sdgcities.credentials import isoformat
from sdgcities.federation import EventType
from sdgcities.federation.event_data import MeetingHeld
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.certificates.models import CertificateProposal, ProposalKind, ProposalState
from sdgcities.node.config import Settings
from sdgcities.node.db import add_once, page_of, saved_id
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.members.models import EndorsementRequestRecord, EndorsementState
from sdgcities.node.notifications import service as notices
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import AgendaItem, Attendance, ItemKind, ItemOutcome, Meeting, MeetingStatus
from .quorum import QuorumRule, is_sitting
from .roster import not_sitting_reason, today
from .schemas import MeetingCreate

PROPOSAL_ITEM_KINDS = {
    ProposalKind.SUSPENSION: ItemKind.SUSPENSION,
    ProposalKind.REINSTATEMENT: ItemKind.REINSTATEMENT,
    ProposalKind.REVOCATION: ItemKind.REVOCATION,
}
ITEM_PROPOSAL_KINDS = {item: proposal for proposal, item in PROPOSAL_ITEM_KINDS.items()}


def rule_of(meeting: Meeting) -> QuorumRule:
    return QuorumRule(meeting.quorum_min_fraction, meeting.quorum_min_non_government)


def schedule_meeting(
    *, session: Session, data: MeetingCreate, settings: Settings, actor: Actor
) -> Meeting:
    meeting = Meeting(
        title=data.title,
        scheduled_for=data.scheduled_for,
        quorum_min_fraction=settings.quorum_min_fraction,
        quorum_min_non_government=settings.quorum_min_non_government,
        created_by=actor.user_id,
    )
    session.add(meeting)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="meeting.schedule",
        target_type="meeting",
        target_id=meeting.id,
        detail={"scheduled_for": meeting.scheduled_for.isoformat()},
    )
    notices.notify_meeting_scheduled(session=session, settings=settings, meeting=meeting)
    return meeting


def list_meetings(
    *, session: Session, offset: int, limit: int, status: MeetingStatus | None = None
) -> tuple[list[Meeting], int]:
    conditions = [] if status is None else [col(Meeting.status) == status]
    return page_of(
        session,
        Meeting,
        conditions=conditions,
        order_by=[col(Meeting.scheduled_for).desc(), col(Meeting.id).desc()],
        offset=offset,
        limit=limit,
    )


def get_meeting_or_raise(
    *, session: Session, meeting_id: int, lock: bool = False, share: bool = False
) -> Meeting:
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock or share:
        # A share lock keeps the meeting from closing under a vote or a decision (PostgreSQL).
        query = query.with_for_update(read=share and not lock)
    meeting = session.exec(query).first()
    if meeting is None:
        raise NotFound(f"no meeting {meeting_id}")
    return meeting


def open_meeting(*, session: Session, meeting_id: int, actor: Actor) -> Meeting:
    meeting = get_meeting_or_raise(session=session, meeting_id=meeting_id, lock=True)
    if meeting.status is not MeetingStatus.SCHEDULED:
        raise Conflict(
            f"meeting {meeting.id} is {meeting.status.value}: only a scheduled one opens"
        )
    meeting.status = MeetingStatus.OPEN
    meeting.opened_at = utcnow()
    session.add(meeting)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="meeting.open",
        target_type="meeting",
        target_id=meeting.id,
    )
    return meeting


def close_meeting(*, session: Session, state: NodeState, meeting_id: int, actor: Actor) -> Meeting:
    """Close an open meeting; what it left undecided is deferred to a later agenda."""
    meeting = get_meeting_or_raise(session=session, meeting_id=meeting_id, lock=True)
    if meeting.status is not MeetingStatus.OPEN:
        raise Conflict(f"meeting {meeting.id} is {meeting.status.value}: only an open one closes")
    now = utcnow()
    for item in items_of(session=session, meeting=meeting, lock=True):
        if item.outcome is ItemOutcome.PENDING:
            mark_deferred(item, reason="not decided before the meeting closed", at=now, actor=actor)
            session.add(item)
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = now
    session.add(meeting)
    session.flush()
    items = items_of(session=session, meeting=meeting)
    outcomes = Counter(item.outcome.value for item in items)
    attending = len(attendees(session=session, meeting=meeting))
    record(
        session=session,
        actor=actor,
        action="meeting.close",
        target_type="meeting",
        target_id=meeting.id,
        detail={"attending": attending, "outcomes": dict(outcomes)},
    )
    assert meeting.id is not None
    assert meeting.opened_at is not None  # only an open meeting closes
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.MEETING_HELD,
        subject={"meeting": meeting.id},
        data=MeetingHeld(
            title=meeting.title,
            opened_at=isoformat(meeting.opened_at),
            closed_at=isoformat(now),
            attending=attending,
            items=len(items),
            outcomes={outcome.value: outcomes.get(outcome.value, 0) for outcome in ItemOutcome},
        ),
        occurred_at=now,
    )
    return meeting


def check_not_closed(meeting: Meeting, doing: str) -> None:
    if meeting.status is MeetingStatus.CLOSED:
        raise Conflict(f"meeting {meeting.id} is closed: {doing} is no longer possible")


def check_open(meeting: Meeting, doing: str) -> None:
    if meeting.status is not MeetingStatus.OPEN:
        raise Conflict(f"meeting {meeting.id} is {meeting.status.value}: {doing} while it is open")


def attendees(*, session: Session, meeting: Meeting) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(Attendance, col(Attendance.member_id) == col(User.id))
            .where(Attendance.meeting_id == meeting.id)
            .order_by(col(Attendance.recorded_at), col(Attendance.id))
        ).all()
    )


def is_attending(*, session: Session, meeting: Meeting, member_id: int) -> bool:
    return (
        session.exec(
            select(Attendance.id).where(
                Attendance.meeting_id == meeting.id, Attendance.member_id == member_id
            )
        ).first()
        is not None
    )


def record_attendance(*, session: Session, meeting_id: int, member_id: int, actor: Actor) -> User:
    meeting = get_meeting_or_raise(session=session, meeting_id=meeting_id, share=True)
    check_not_closed(meeting, "recording attendance")
    member = session.get(User, member_id)
    if member is None or member.role is not Role.COMMITTEE_MEMBER:
        raise InvalidRequest(f"user {member_id} is not a committee member")
    if not is_sitting(member, today()):
        raise Conflict(
            f"{member.name} is not a sitting member today: {not_sitting_reason(member, today())}"
        )
    if is_attending(session=session, meeting=meeting, member_id=member_id):
        raise Conflict(f"{member.name} is already recorded as attending meeting {meeting.id}")
    assert meeting.id is not None
    add_once(
        session,
        Attendance(meeting_id=meeting.id, member_id=member_id, recorded_by=actor.user_id),
        refusal=Conflict(f"{member.name} is already recorded as attending meeting {meeting.id}"),
    )
    record(
        session=session,
        actor=actor,
        action="meeting.attendance",
        target_type="meeting",
        target_id=meeting.id,
        detail={"member": member_id},
    )
    return member


def items_of(*, session: Session, meeting: Meeting, lock: bool = False) -> list[AgendaItem]:
    query = select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
    if lock:
        query = query.with_for_update()
    return list(session.exec(query.order_by(col(AgendaItem.id))).all())


def get_item_or_raise(
    *, session: Session, item_id: int, lock: bool = False, share: bool = False
) -> AgendaItem:
    query = select(AgendaItem).where(AgendaItem.id == item_id)
    if lock or share:
        query = query.with_for_update(read=share and not lock)
    item = session.exec(query).first()
    if item is None:
        raise NotFound(f"no agenda item {item_id}")
    return item


def check_pending(item: AgendaItem) -> None:
    if item.outcome is not ItemOutcome.PENDING:
        raise Conflict(f"agenda item {item.id} is already {item.outcome.value}")


def mark_deferred(item: AgendaItem, *, reason: str, at: datetime, actor: Actor) -> None:
    item.outcome = ItemOutcome.DEFERRED
    item.deferral_reason = reason
    item.decided_at = at
    item.decided_by = actor.user_id


def generate_agenda(*, session: Session, meeting_id: int, actor: Actor) -> list[AgendaItem]:
    """Add to the meeting every recommended application, every open proposal and every pending
    endorsement request that is not already waiting on an agenda (this meeting's or another's);
    returns the items added."""
    meeting = get_meeting_or_raise(session=session, meeting_id=meeting_id, lock=True)
    check_not_closed(meeting, "adding to its agenda")
    assert meeting.id is not None
    added = _items_not_on_an_agenda(session=session, meeting_id=meeting.id)
    session.add_all(added)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="meeting.agenda",
        target_type="meeting",
        target_id=meeting.id,
        detail={"added": [item.id for item in added]},
    )
    return added


def _items_not_on_an_agenda(*, session: Session, meeting_id: int) -> list[AgendaItem]:
    """New items of meeting `meeting_id`, one for each application, proposal or endorsement
    request waiting for the committee that no undecided item is about yet."""
    # The candidates are locked before the pending items are read, so that two generations
    # at once (PostgreSQL) see each other's items instead of both adding the same one.
    applications = session.exec(
        select(Application)
        .where(Application.state == ApplicationState.RECOMMENDED)
        .order_by(col(Application.id))
        .with_for_update()
    ).all()
    proposals = session.exec(
        select(CertificateProposal)
        .where(CertificateProposal.state == ProposalState.OPEN)
        .order_by(col(CertificateProposal.id))
        .with_for_update()
    ).all()
    endorsement_requests = session.exec(
        select(EndorsementRequestRecord)
        .where(EndorsementRequestRecord.state == EndorsementState.PENDING)
        .order_by(col(EndorsementRequestRecord.id))
        .with_for_update()
    ).all()
    waiting_applications = _pending_on_agendas(session, AgendaItem.application_id)
    waiting_proposals = _pending_on_agendas(session, AgendaItem.proposal_id)
    waiting_endorsements = _pending_on_agendas(session, AgendaItem.endorsement_request_id)
    return [
        *(
            AgendaItem(meeting_id=meeting_id, kind=ItemKind.AWARD, application_id=application.id)
            for application in applications
            if application.id not in waiting_applications
        ),
        *(
            AgendaItem(
                meeting_id=meeting_id,
                kind=PROPOSAL_ITEM_KINDS[proposal.kind],
                certificate_id=proposal.certificate_id,
                proposal_id=proposal.id,
                reason=proposal.reason,
            )
            for proposal in proposals
            if proposal.id not in waiting_proposals
        ),
        *(
            AgendaItem(
                meeting_id=meeting_id,
                kind=ItemKind.ENDORSEMENT,
                endorsement_request_id=request.id,
            )
            for request in endorsement_requests
            if request.id not in waiting_endorsements
        ),
    ]


def _pending_on_agendas(session: Session, about: Any) -> set[Any]:
    """What the undecided items of every agenda are `about` (their application, proposal or
    endorsement request column)."""
    return set(
        session.exec(
            select(about).where(AgendaItem.outcome == ItemOutcome.PENDING, col(about).is_not(None))
        ).all()
    )


def pending_endorsement_items(*, session: Session, request_ids: list[int]) -> dict[int, AgendaItem]:
    """The undecided agenda item of each endorsement request that is on an agenda, by request."""
    if not request_ids:
        return {}
    items = session.exec(
        select(AgendaItem).where(
            col(AgendaItem.endorsement_request_id).in_(request_ids),
            AgendaItem.outcome == ItemOutcome.PENDING,
        )
    ).all()
    return {saved_id(item.endorsement_request_id): item for item in items}
