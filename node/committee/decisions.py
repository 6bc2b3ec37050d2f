"""The committee's decisions on agenda items (§25, §26, §28).

A decision is recorded only while its meeting is open, only when the quorum is met at that moment
(`quorum`), and only once someone has voted. An item is approved when more members voted yes
than no; abstentions count as votes cast but for neither side. The decision and its effect
(`effects`) are one transaction: the outcome and the `decision.recorded` event are stored, then
the effect is carried out; if any part fails, nothing of the decision is stored. An item may
also be deferred instead of decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from sdgcities.credentials import Decision
from sdgcities.federation import EventType
from sdgcities.federation.event_data import DecisionRecorded, Votes
from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.certificates import service as certificates
from sdgcities.node.certificates.models import Certificate, CertificateProposal
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict
from sdgcities.node.events.service import append_event
from sdgcities.node.members.models import EndorsementRequestRecord, EndorsementState
from sdgcities.node.notifications import service as notices
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from . import effects
from .meetings import (
    ITEM_PROPOSAL_KINDS,
    check_not_closed,
    check_open,
    check_pending,
    get_item_or_raise,
    get_meeting_or_raise,
    mark_deferred,
)
from .models import AgendaItem, ItemKind, ItemOutcome, Meeting, VoteChoice
from .quorum import QuorumCount
from .voting import count_quorum, tally, votes_of


def defer_item(*, session: Session, item_id: int, reason: str, actor: Actor) -> AgendaItem:
    item = get_item_or_raise(session=session, item_id=item_id, lock=True)
    meeting = get_meeting_or_raise(session=session, meeting_id=item.meeting_id, share=True)
    check_not_closed(meeting, "deferring its items")
    check_pending(item)
    mark_deferred(item, reason=reason, at=utcnow(), actor=actor)
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


def decide_item(*, session: Session, state: NodeState, item_id: int, actor: Actor) -> AgendaItem:
    """Record the committee's decision on an item and carry it out, all in this transaction."""
    item = get_item_or_raise(session=session, item_id=item_id, lock=True)
    meeting = get_meeting_or_raise(session=session, meeting_id=item.meeting_id, share=True)
    check_open(meeting, "decisions are recorded")
    check_pending(item)
    now = utcnow()
    quorum, votes = _quorum_and_votes(session=session, meeting=meeting, item=item, on=now.date())
    approved = votes[VoteChoice.YES] > votes[VoteChoice.NO]
    decision = Decision(
        committee=f"{state.settings.node_name} committee",
        meeting=f"meeting {meeting.id}: {meeting.title}",
        decided_at=now,
    )
    # Each kind reads and checks everything its effect needs before anything is written; the
    # outcome and its event are recorded alike, then the effect is carried out.
    effect = _effect_of(
        session=session, state=state, item=item, approved=approved, decision=decision, actor=actor
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
        subject=effect.subject,
        facts=effect.facts,
    )
    effect.carry_out()
    notices.notify_decision(session=session, settings=state.settings, item=item)
    return item


def _quorum_and_votes(
    *, session: Session, meeting: Meeting, item: AgendaItem, on: date
) -> tuple[QuorumCount, dict[str, int]]:
    """The quorum for the item and its votes; 409 without a quorum or before anyone voted."""
    quorum = count_quorum(session=session, meeting=meeting, on=on, item=item)
    if not quorum.met:
        raise Conflict(f"no quorum for agenda item {item.id}: {'; '.join(quorum.shortfalls())}")
    votes = tally([vote for vote, _member in votes_of(session=session, item=item)])
    if sum(votes.values()) == 0:
        raise Conflict(
            f"nobody has voted on agenda item {item.id} yet: record the votes, or defer the item"
        )
    return quorum, votes


@dataclass(frozen=True, slots=True)
class _Effect:
    """What a decision on one kind of item adds to its event, and how it is carried out."""

    subject: dict[str, str | int]
    facts: dict[str, Any]
    carry_out: Callable[[], None]


def _effect_of(
    *,
    session: Session,
    state: NodeState,
    item: AgendaItem,
    approved: bool,
    decision: Decision,
    actor: Actor,
) -> _Effect:
    """The effect of deciding `item`, its target read and checked (nothing is written yet)."""
    if item.kind is ItemKind.AWARD:
        application = _award_target(session=session, item=item)
        return _Effect(
            subject={"locode": application.city_locode, "application": saved_id(application.id)},
            facts={"stage": application.stage},
            carry_out=partial(
                effects.award,
                session=session,
                state=state,
                item=item,
                application=application,
                decision=decision,
                actor=actor,
            ),
        )
    if item.kind is ItemKind.ENDORSEMENT:
        request = _endorsement_target(session=session, state=state, item=item, approved=approved)
        return _Effect(
            subject={"node": request.node_id, "endorsement": saved_id(request.id)},
            facts={
                "framework": request.framework_id,
                "version": request.version,
                "digest": request.digest,
            },
            carry_out=partial(
                effects.decide_endorsement,
                session=session,
                state=state,
                item=item,
                request=request,
                decision=decision,
                actor=actor,
            ),
        )
    proposal, certificate = _proposal_target(session=session, item=item, approved=approved)
    return _Effect(
        subject={"locode": certificate.city_locode, "credential": certificate.id},
        facts={"reason": item.reason},
        carry_out=partial(
            effects.carry_out_proposal,
            session=session,
            state=state,
            item=item,
            proposal=proposal,
            certificate=certificate,
            decision=decision,
            actor=actor,
        ),
    )


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
        data=DecisionRecorded(
            kind=item.kind.value,
            outcome=item.outcome.value,
            quorum=quorum.to_event(),
            votes=Votes(**votes),
            **facts,
        ),
        occurred_at=item.decided_at,
    )


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
