"""The certification committee: members, meetings, agendas, votes and decisions (§25, §26, §28).

    meeting:  scheduled ──open──▶ open ──close──▶ closed
    item:     pending ──decide──▶ approved | rejected
                 └──────defer (or the meeting closes)──▶ deferred

A decision is recorded only while its meeting is open, only when the quorum is met at that moment
(`quorum`), and only once someone has voted. An item is approved when more members voted yes
than no; abstentions count as votes cast but for neither side. The decision and its effect are
one transaction: an award issues the certificate, a suspension, reinstatement or revocation
changes the certificate's status-list bits and republishes the list, and the federation events
go into the log; if any part fails, nothing of the decision is stored.

Voting: a member votes as themselves, once per item, while the meeting is open, when sitting
(an ended term answers 403: the person may no longer vote, whatever the meeting) and recorded as
attending (409 otherwise: the secretariat records attendance first, so that the quorum counts the
people who vote), and not recused from the item.

Recusal: a member with a conflict of interest stands aside from one item, with the reason, before
voting on it (a vote cast is not withdrawn) and while the item is pending and its meeting not
closed. For that item the member then counts as neither a sitting nor an attending member
(`quorum`), and may not vote on it.

A deferred item stays in its meeting's record; the application or proposal it was about is put
on the next agenda generated, since nothing undecided sits on it any more.

On the global node the agenda also carries members' requests to endorse their adapted
frameworks: the global committee decides them as any item, and an approved one is signed by the
root key and goes on the next trust list (`members.endorsements`). Nobody endorses alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sdgcities.credentials import Decision, isoformat
from sdgcities.federation import EventType
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.certificates import service as certificates
from sdgcities.node.certificates.models import (
    Certificate,
    CertificateProposal,
    ProposalKind,
    ProposalState,
)
from sdgcities.node.config import Settings
from sdgcities.node.db import page_of, saved_id
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.members import endorsements
from sdgcities.node.members.models import EndorsementRequestRecord, EndorsementState
from sdgcities.node.notifications import service as notices
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import (
    AgendaItem,
    Attendance,
    ItemKind,
    ItemOutcome,
    Meeting,
    MeetingStatus,
    Recusal,
    Vote,
    VoteChoice,
)
from .quorum import QuorumCount, QuorumRule, is_sitting
from .schemas import MeetingCreate

PROPOSAL_ITEM_KINDS = {
    ProposalKind.SUSPENSION: ItemKind.SUSPENSION,
    ProposalKind.REINSTATEMENT: ItemKind.REINSTATEMENT,
    ProposalKind.REVOCATION: ItemKind.REVOCATION,
}
ITEM_PROPOSAL_KINDS = {item: proposal for proposal, item in PROPOSAL_ITEM_KINDS.items()}


def today() -> date:
    return utcnow().date()


# Members ----------------------------------------------------------------------------------------


def list_members(*, session: Session) -> list[User]:
    """Every committee member past, present and future, newest term first."""
    return list(
        session.exec(
            select(User)
            .where(User.role == Role.COMMITTEE_MEMBER)
            .order_by(col(User.term_start).desc().nulls_last(), col(User.name), col(User.id))
        ).all()
    )


def standing(member: User, on: date) -> str:
    """`sitting`, `past` (term ended), `future` (term not begun) or `inactive` (deactivated)."""
    if not member.active:
        return "inactive"
    if member.term_end is not None and on > member.term_end:
        return "past"
    if member.term_start is not None and on < member.term_start:
        return "future"
    return "sitting"


def sitting_members(*, session: Session, on: date) -> list[User]:
    return [member for member in list_members(session=session) if is_sitting(member, on)]


def _not_sitting_reason(member: User, on: date) -> str:
    if not member.active:
        return f"the account of {member.name} is deactivated"
    if member.term_end is not None and on > member.term_end:
        return (
            f"the committee term of {member.name} ended on {member.term_end.isoformat()}: "
            "members whose term has ended cannot vote"
        )
    assert member.term_start is not None
    return f"the committee term of {member.name} begins on {member.term_start.isoformat()}"


# Meetings ---------------------------------------------------------------------------------------


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
            _defer(item, reason="not decided before the meeting closed", at=now, actor=actor)
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
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.MEETING_HELD,
        subject={"meeting": meeting.id},
        data={
            "title": meeting.title,
            "openedAt": _moment(meeting.opened_at),
            "closedAt": _moment(now),
            "attending": attending,
            "items": len(items),
            "outcomes": {outcome.value: outcomes.get(outcome.value, 0) for outcome in ItemOutcome},
        },
        occurred_at=now,
    )
    return meeting


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)


def _check_not_closed(meeting: Meeting, doing: str) -> None:
    if meeting.status is MeetingStatus.CLOSED:
        raise Conflict(f"meeting {meeting.id} is closed: {doing} is no longer possible")


# Attendance -------------------------------------------------------------------------------------


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
    _check_not_closed(meeting, "recording attendance")
    member = session.get(User, member_id)
    if member is None or member.role is not Role.COMMITTEE_MEMBER:
        raise InvalidRequest(f"user {member_id} is not a committee member")
    if not is_sitting(member, today()):
        raise Conflict(
            f"{member.name} is not a sitting member today: {_not_sitting_reason(member, today())}"
        )
    if is_attending(session=session, meeting=meeting, member_id=member_id):
        raise Conflict(f"{member.name} is already recorded as attending meeting {meeting.id}")
    assert meeting.id is not None
    try:
        with session.begin_nested():
            session.add(
                Attendance(meeting_id=meeting.id, member_id=member_id, recorded_by=actor.user_id)
            )
    except IntegrityError as exc:  # recorded by someone else in the meantime
        raise Conflict(
            f"{member.name} is already recorded as attending meeting {meeting.id}"
        ) from exc
    record(
        session=session,
        actor=actor,
        action="meeting.attendance",
        target_type="meeting",
        target_id=meeting.id,
        detail={"member": member_id},
    )
    return member


def count_quorum(
    *, session: Session, meeting: Meeting, on: date, item: AgendaItem | None = None
) -> QuorumCount:
    """The meeting's quorum on `on`; for `item`, without the members recused from it."""
    return rule_of(meeting).count(
        sitting=sitting_members(session=session, on=on),
        attending=attendees(session=session, meeting=meeting),
        recused=set() if item is None else recused_ids(session=session, item=item),
    )


# The agenda -------------------------------------------------------------------------------------


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


def generate_agenda(*, session: Session, meeting_id: int, actor: Actor) -> list[AgendaItem]:
    """Add to the meeting every recommended application, every open proposal and every pending
    endorsement request that is not already waiting on an agenda (this meeting's or another's);
    returns the items added."""
    meeting = get_meeting_or_raise(session=session, meeting_id=meeting_id, lock=True)
    _check_not_closed(meeting, "adding to its agenda")
    assert meeting.id is not None
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
    waiting_applications = set(
        session.exec(
            select(AgendaItem.application_id).where(
                AgendaItem.outcome == ItemOutcome.PENDING,
                col(AgendaItem.application_id).is_not(None),
            )
        ).all()
    )
    waiting_proposals = set(
        session.exec(
            select(AgendaItem.proposal_id).where(
                AgendaItem.outcome == ItemOutcome.PENDING, col(AgendaItem.proposal_id).is_not(None)
            )
        ).all()
    )
    added = [
        AgendaItem(meeting_id=meeting.id, kind=ItemKind.AWARD, application_id=application.id)
        for application in applications
        if application.id not in waiting_applications
    ]
    added += [
        AgendaItem(
            meeting_id=meeting.id,
            kind=PROPOSAL_ITEM_KINDS[proposal.kind],
            certificate_id=proposal.certificate_id,
            proposal_id=proposal.id,
            reason=proposal.reason,
        )
        for proposal in proposals
        if proposal.id not in waiting_proposals
    ]
    waiting_endorsements = set(
        session.exec(
            select(AgendaItem.endorsement_request_id).where(
                AgendaItem.outcome == ItemOutcome.PENDING,
                col(AgendaItem.endorsement_request_id).is_not(None),
            )
        ).all()
    )
    added += [
        AgendaItem(
            meeting_id=meeting.id,
            kind=ItemKind.ENDORSEMENT,
            endorsement_request_id=request.id,
        )
        for request in endorsement_requests
        if request.id not in waiting_endorsements
    ]
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


# Votes ------------------------------------------------------------------------------------------


def votes_of(*, session: Session, item: AgendaItem) -> list[tuple[Vote, User]]:
    rows = session.exec(
        select(Vote, User)
        .join(User, col(User.id) == col(Vote.member_id))
        .where(Vote.item_id == item.id)
        .order_by(col(Vote.cast_at), col(Vote.id))
    ).all()
    return [(vote, member) for vote, member in rows]


def tally(votes: list[Vote]) -> dict[str, int]:
    counted = Counter(vote.choice for vote in votes)
    return {choice.value: counted.get(choice, 0) for choice in VoteChoice}


def _check_pending(item: AgendaItem) -> None:
    if item.outcome is not ItemOutcome.PENDING:
        raise Conflict(f"agenda item {item.id} is already {item.outcome.value}")


def _check_open(meeting: Meeting, doing: str) -> None:
    if meeting.status is not MeetingStatus.OPEN:
        raise Conflict(f"meeting {meeting.id} is {meeting.status.value}: {doing} while it is open")


def _member_on_item(
    *, session: Session, item_id: int, actor: Actor
) -> tuple[AgendaItem, Meeting, User]:
    """The item, its meeting and the calling member, for a vote or a recusal.

    Shared locks: a decision (which locks the item for update) waits for votes and recusals
    being recorded, and one recorded after a decision sees the item decided.
    """
    item = get_item_or_raise(session=session, item_id=item_id, share=True)
    meeting = get_meeting_or_raise(session=session, meeting_id=item.meeting_id, share=True)
    assert actor.user_id is not None
    member = session.get(User, actor.user_id)
    assert member is not None  # the caller's account, just read by the access check
    return item, meeting, member


def cast_vote(*, session: Session, item_id: int, choice: VoteChoice, actor: Actor) -> Vote:
    item, meeting, member = _member_on_item(session=session, item_id=item_id, actor=actor)
    _check_open(meeting, "members vote")
    _check_pending(item)
    assert actor.user_id is not None
    assert item.id is not None
    on = today()
    if not is_sitting(member, on):
        raise Forbidden(_not_sitting_reason(member, on))
    if not is_attending(session=session, meeting=meeting, member_id=actor.user_id):
        raise Conflict(
            f"{member.name} is not recorded as attending meeting {meeting.id}: the secretariat "
            "records attendance before members vote"
        )
    if is_recused(session=session, item=item, member_id=actor.user_id):
        raise Conflict(
            f"{member.name} has recused themselves from agenda item {item.id} and may not vote "
            "on it"
        )
    already = Conflict(
        f"{member.name} has already voted on agenda item {item.id}: each member votes once per item"
    )
    if has_voted(session=session, item=item, member_id=actor.user_id):
        raise already
    vote = Vote(item_id=item.id, member_id=actor.user_id, choice=choice)
    try:
        with session.begin_nested():
            session.add(vote)
    except IntegrityError as exc:  # the same member voting twice at once
        raise already from exc
    record(
        session=session,
        actor=actor,
        action="committee.vote",
        target_type="agenda_item",
        target_id=item.id,
        detail={"choice": choice.value},
    )
    return vote


# Recusals ---------------------------------------------------------------------------------------


def recusals_of(*, session: Session, item: AgendaItem) -> list[tuple[Recusal, User]]:
    rows = session.exec(
        select(Recusal, User)
        .join(User, col(User.id) == col(Recusal.member_id))
        .where(Recusal.item_id == item.id)
        .order_by(col(Recusal.recorded_at), col(Recusal.id))
    ).all()
    return [(recusal, member) for recusal, member in rows]


def recused_ids(*, session: Session, item: AgendaItem) -> set[int]:
    return set(session.exec(select(Recusal.member_id).where(Recusal.item_id == item.id)).all())


def is_recused(*, session: Session, item: AgendaItem, member_id: int) -> bool:
    return member_id in recused_ids(session=session, item=item)


def has_voted(*, session: Session, item: AgendaItem, member_id: int) -> bool:
    return (
        session.exec(
            select(Vote.id).where(Vote.item_id == item.id, Vote.member_id == member_id)
        ).first()
        is not None
    )


def recuse(*, session: Session, item_id: int, reason: str, actor: Actor) -> Recusal:
    """The calling member stands aside from the item for a conflict of interest."""
    item, meeting, member = _member_on_item(session=session, item_id=item_id, actor=actor)
    _check_not_closed(meeting, "recusing from its items")
    _check_pending(item)
    assert actor.user_id is not None
    assert item.id is not None
    already = Conflict(f"{member.name} has already recused themselves from agenda item {item.id}")
    if is_recused(session=session, item=item, member_id=actor.user_id):
        raise already
    if has_voted(session=session, item=item, member_id=actor.user_id):
        raise Conflict(
            f"{member.name} has already voted on agenda item {item.id}: a vote cast is not "
            "withdrawn, so recusal comes before voting"
        )
    recusal = Recusal(item_id=item.id, member_id=actor.user_id, reason=reason)
    try:
        with session.begin_nested():
            session.add(recusal)
    except IntegrityError as exc:  # the same member recusing twice at once
        raise already from exc
    record(
        session=session,
        actor=actor,
        action="committee.recuse",
        target_type="agenda_item",
        target_id=item.id,
        detail={"reason": reason},
    )
    return recusal


# Decisions --------------------------------------------------------------------------------------


def defer_item(*, session: Session, item_id: int, reason: str, actor: Actor) -> AgendaItem:
    item = get_item_or_raise(session=session, item_id=item_id, lock=True)
    meeting = get_meeting_or_raise(session=session, meeting_id=item.meeting_id, share=True)
    _check_not_closed(meeting, "deferring its items")
    _check_pending(item)
    _defer(item, reason=reason, at=utcnow(), actor=actor)
    session.add(item)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="committee.defer",
        target_type="agenda_item",
        target_id=item.id,
        detail={"reason": reason},
    )
    return item


def _defer(item: AgendaItem, *, reason: str, at: datetime, actor: Actor) -> None:
    item.outcome = ItemOutcome.DEFERRED
    item.deferral_reason = reason
    item.decided_at = at
    item.decided_by = actor.user_id


def decide_item(*, session: Session, state: NodeState, item_id: int, actor: Actor) -> AgendaItem:
    """Record the committee's decision on an item and carry it out, all in this transaction."""
    item = get_item_or_raise(session=session, item_id=item_id, lock=True)
    meeting = get_meeting_or_raise(session=session, meeting_id=item.meeting_id, share=True)
    _check_open(meeting, "decisions are recorded")
    _check_pending(item)
    now = utcnow()
    quorum = count_quorum(session=session, meeting=meeting, on=now.date(), item=item)
    if not quorum.met:
        raise Conflict(f"no quorum for agenda item {item.id}: {'; '.join(quorum.shortfalls())}")
    votes = tally([vote for vote, _member in votes_of(session=session, item=item)])
    if sum(votes.values()) == 0:
        raise Conflict(
            f"nobody has voted on agenda item {item.id} yet: record the votes, or defer the item"
        )
    approved = votes[VoteChoice.YES] > votes[VoteChoice.NO]
    decision = Decision(
        committee=f"{state.settings.node_name} committee",
        meeting=f"meeting {meeting.id}: {meeting.title}",
        decided_at=now,
    )
    # Each kind reads and checks everything its effect needs before anything is written; the
    # outcome and its event are recorded alike, then the effect is carried out.
    subject: dict[str, str | int]
    facts: dict[str, Any]
    carry_out: Callable[[], None]
    if item.kind is ItemKind.AWARD:
        application = _award_target(session=session, item=item)
        subject = {"locode": application.city_locode, "application": saved_id(application.id)}
        facts = {"stage": application.stage}
        carry_out = partial(
            _award,
            session=session,
            state=state,
            item=item,
            application=application,
            decision=decision,
            actor=actor,
        )
    elif item.kind is ItemKind.ENDORSEMENT:
        request = _endorsement_target(session=session, state=state, item=item, approved=approved)
        subject = {"node": request.node_id, "endorsement": saved_id(request.id)}
        facts = {
            "framework": request.framework_id,
            "version": request.version,
            "digest": request.digest,
        }
        carry_out = partial(
            _decide_endorsement,
            session=session,
            state=state,
            item=item,
            request=request,
            decision=decision,
            actor=actor,
        )
    else:
        proposal, certificate = _proposal_target(session=session, item=item, approved=approved)
        subject = {"locode": certificate.city_locode, "credential": certificate.id}
        facts = {"reason": item.reason}
        carry_out = partial(
            _carry_out_proposal,
            session=session,
            state=state,
            item=item,
            proposal=proposal,
            certificate=certificate,
            decision=decision,
            actor=actor,
        )
    _record_outcome(
        session=session,
        item=item,
        approved=approved,
        quorum=quorum,
        votes=votes,
        at=now,
        actor=actor,
    )
    _record_decision_event(
        session=session,
        state=state,
        item=item,
        quorum=quorum,
        votes=votes,
        subject=subject,
        facts=facts,
    )
    carry_out()
    notices.notify_decision(session=session, settings=state.settings, item=item)
    return item


def _record_outcome(
    *,
    session: Session,
    item: AgendaItem,
    approved: bool,
    quorum: QuorumCount,
    votes: dict[str, int],
    at: datetime,
    actor: Actor,
) -> None:
    item.outcome = ItemOutcome.APPROVED if approved else ItemOutcome.REJECTED
    item.decided_at = at
    item.decided_by = actor.user_id
    item.quorum = quorum.to_record()
    item.tally = votes
    session.add(item)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="committee.decide",
        target_type="agenda_item",
        target_id=item.id,
        detail={"outcome": item.outcome.value, "votes": votes},
    )


def _award_target(*, session: Session, item: AgendaItem) -> Application:
    assert item.application_id is not None
    application = session.exec(
        select(Application).where(Application.id == item.application_id).with_for_update()
    ).one()
    if application.state is not ApplicationState.RECOMMENDED:
        raise Conflict(
            f"application {application.id} is {application.state.value}, no longer recommended: "
            "defer the item"
        )
    return application


def _proposal_target(
    *, session: Session, item: AgendaItem, approved: bool
) -> tuple[CertificateProposal, Certificate]:
    assert item.proposal_id is not None
    assert item.certificate_id is not None
    proposal = session.exec(
        select(CertificateProposal)
        .where(CertificateProposal.id == item.proposal_id)
        .with_for_update()
    ).one()
    certificate = certificates.get_certificate_or_raise(
        session=session, certificate_id=item.certificate_id, lock=True
    )
    if approved:
        certificates.check_change(certificate, ITEM_PROPOSAL_KINDS[item.kind])
    return proposal, certificate


def _endorsement_target(
    *, session: Session, state: NodeState, item: AgendaItem, approved: bool
) -> EndorsementRequestRecord:
    assert item.endorsement_request_id is not None
    request = session.exec(
        select(EndorsementRequestRecord)
        .where(EndorsementRequestRecord.id == item.endorsement_request_id)
        .with_for_update()
    ).one()
    if request.state is not EndorsementState.PENDING:
        raise Conflict(
            f"endorsement request {request.id} is {request.state.value}, no longer pending: "
            "defer the item"
        )
    if approved and state.root_key is None:
        raise Conflict("this node holds no global root key: only the global node endorses")
    return request


def _record_decision_event(
    *,
    session: Session,
    state: NodeState,
    item: AgendaItem,
    quorum: QuorumCount,
    votes: dict[str, int],
    subject: dict[str, str | int],
    facts: dict[str, Any],
) -> None:
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.DECISION_RECORDED,
        subject={"meeting": item.meeting_id, "item": saved_id(item.id), **subject},
        data={
            "kind": item.kind.value,
            "outcome": item.outcome.value,
            "quorum": quorum.to_json(),
            "votes": votes,
            **facts,
        },
        occurred_at=item.decided_at,
    )


def _award(
    *,
    session: Session,
    state: NodeState,
    item: AgendaItem,
    application: Application,
    decision: Decision,
    actor: Actor,
) -> None:
    if item.outcome is ItemOutcome.APPROVED:
        certificate = certificates.issue_certificate(
            session=session,
            state=state,
            application=application,
            agenda_item_id=saved_id(item.id),
            decision=decision,
            actor=actor,
        )
        item.certificate_id = certificate.id
        session.add(item)
        application.state = ApplicationState.AWARDED
    else:
        application.state = ApplicationState.DECLINED
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"application.{application.state.value}",
        target_type="application",
        target_id=application.id,
        detail={"agenda_item": item.id},
    )


def _carry_out_proposal(
    *,
    session: Session,
    state: NodeState,
    item: AgendaItem,
    proposal: CertificateProposal,
    certificate: Certificate,
    decision: Decision,
    actor: Actor,
) -> None:
    approved = item.outcome is ItemOutcome.APPROVED
    certificates.close_proposal(
        session=session,
        proposal=proposal,
        state=ProposalState.APPROVED if approved else ProposalState.REJECTED,
        at=decision.decided_at,
    )
    if not approved:
        return
    certificates.change_status(
        session=session,
        state=state,
        certificate=certificate,
        kind=proposal.kind,
        reason=proposal.reason,
        decision=decision,
        agenda_item_id=saved_id(item.id),
        actor=actor,
    )
    if proposal.kind is ProposalKind.REVOCATION:
        _defer_moot_items(session=session, certificate=certificate, item=item, actor=actor)


def _decide_endorsement(
    *,
    session: Session,
    state: NodeState,
    item: AgendaItem,
    request: EndorsementRequestRecord,
    decision: Decision,
    actor: Actor,
) -> None:
    decided_by = f"{decision.committee}, meeting {item.meeting_id}, agenda item {item.id}"
    if item.outcome is ItemOutcome.APPROVED:
        endorsements.endorse(
            session=session,
            settings=state.settings,
            root_key=state.root_key,
            request_id=saved_id(request.id),
            decided_by=decided_by,
            actor=actor,
        )
    else:
        endorsements.refuse(
            session=session,
            request_id=saved_id(request.id),
            reason=f"not endorsed by the committee's vote ({decided_by})",
            decided_by=decided_by,
            actor=actor,
        )


def _defer_moot_items(
    *, session: Session, certificate: Certificate, item: AgendaItem, actor: Actor
) -> None:
    """After a revocation, nothing else can be decided about the certificate: its other
    proposals close and their waiting items are deferred, so they leave every agenda."""
    certificates.supersede_proposals(session=session, certificate=certificate)
    waiting = session.exec(
        select(AgendaItem)
        .where(
            AgendaItem.certificate_id == certificate.id,
            AgendaItem.outcome == ItemOutcome.PENDING,
            AgendaItem.id != item.id,
        )
        .with_for_update()
    ).all()
    for other in waiting:
        _defer(
            other,
            reason=f"certificate revoked by agenda item {item.id}",
            at=_at(item.decided_at),
            actor=actor,
        )
        session.add(other)
    session.flush()


def _at(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment


# What a city sees -------------------------------------------------------------------------------


def decision_on(*, session: Session, application: Application) -> AgendaItem | None:
    """The committee's decision on `application`, if it has one."""
    return session.exec(
        select(AgendaItem)
        .where(
            AgendaItem.application_id == application.id,
            col(AgendaItem.outcome).in_((ItemOutcome.APPROVED, ItemOutcome.REJECTED)),
        )
        .order_by(col(AgendaItem.decided_at).desc())
    ).first()


def stage_report_path(application: Application) -> str:
    """Where the city reads the stage report behind the decision: per criterion met or not,
    the gaps, and the tools that help close them (node/applications, §25)."""
    return f"/applications/{application.id}/report"
