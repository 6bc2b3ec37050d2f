"""What a committee decision carries out, in the decision's transaction (§25, §26, §28).

An award issues the certificate (or declines the application); a suspension, reinstatement or
revocation changes the certificate's status-list bits and republishes the list, and a revocation
makes the certificate's other waiting items moot; on the global node, an approved endorsement is
signed by the root key and goes on the next trust list (`members.endorsements`): nobody endorses
alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from sdgcities.credentials import Decision
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
from sdgcities.node.db import saved_id
from sdgcities.node.members import endorsements
from sdgcities.node.members.models import EndorsementRequestRecord
from sdgcities.node.state import NodeState

from .meetings import mark_deferred
from .models import AgendaItem, ItemOutcome


def award(
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


def carry_out_proposal(
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


def decide_endorsement(
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
        mark_deferred(
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
