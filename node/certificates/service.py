"""Issuing certificates, changing their status, and the proposals the committee decides on.

    active ──suspend──▶ suspended ──reinstate──▶ active
      └─────────┴──────revoke──────▶ revoked   (final: a revocation can never be undone)

Every change here is a committee decision (`node.committee`) and runs in the decision's
transaction: the certificate row, its status-list allocation, the re-signed status list and the
federation event are stored together or not at all. Nothing here commits.

Validity: from the decision for the stage's `validityYears` in the framework document, but never
past the end of the framework's `validUntil` day (UTC). A renewal (node/renewal) is an
application for the same stage that `renews` a certificate: its award records that it renews it
(`Certificate.renews`, in the node's database and the public registry, not in the signed
credential, whose format DESIGN fixes) and its validity follows on from the old one's end when
decided before it; the old certificate stays valid until its own end.

Who sees what: administrators, the secretariat, reviewers and committee members see every
certificate; a city applicant sees its own city's only (404 for any other). The public registry
(DESIGN §6) serves certificates separately.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select, update

from sdgcities.credentials import (
    CertificateIssue,
    Decision,
    FrameworkRef,
    canonical_json,
    isoformat,
)
from sdgcities.federation import MAX_EVENT_BYTES, EventType
from sdgcities.federation.event_data import (
    CityFacts,
    CredentialIssued,
    CredentialStatusChanged,
    DecisionRef,
    FrameworkKey,
)
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application
from sdgcities.node.audit.service import record
from sdgcities.node.cities.models import City
from sdgcities.node.cities.referral import check_certified_here
from sdgcities.node.db import add_once, equal_when_given, page_of
from sdgcities.node.errors import Conflict, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.document import FrameworkDocument, Stage
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.notifications import service as notices
from sdgcities.node.state import NodeState
from sdgcities.node.status.service import allocate_status_entry, set_status_bits
from sdgcities.node.timeutil import utcnow

from .models import (
    Certificate,
    CertificateProposal,
    CertificateStatus,
    ProposalKind,
    ProposalState,
)

ALL_CERTIFICATES_READERS = frozenset(
    {Role.ADMINISTRATOR, Role.SECRETARIAT, Role.REVIEWER, Role.COMMITTEE_MEMBER}
)
EVENT_TYPES = {
    ProposalKind.SUSPENSION: EventType.CREDENTIAL_SUSPENDED,
    ProposalKind.REINSTATEMENT: EventType.CREDENTIAL_REINSTATED,
    ProposalKind.REVOCATION: EventType.CREDENTIAL_REVOKED,
}
# Room left in an event for its other members (sequence, subject, hashes ...): about 400 bytes.
CITY_FACTS_MARGIN = 1024
STATUS_AFTER = {
    ProposalKind.SUSPENSION: CertificateStatus.SUSPENDED,
    ProposalKind.REINSTATEMENT: CertificateStatus.ACTIVE,
    ProposalKind.REVOCATION: CertificateStatus.REVOKED,
}


# Reading ----------------------------------------------------------------------------------------


def visible_to(actor: Actor, certificate: Certificate) -> bool:
    if actor.role is Role.CITY_APPLICANT:
        return actor.city_locode == certificate.city_locode
    return actor.role in ALL_CERTIFICATES_READERS


def get_certificate_or_raise(
    *, session: Session, certificate_id: str, actor: Actor | None = None, lock: bool = False
) -> Certificate:
    """The certificate, if `actor` may see it (`None`: the node itself, which sees all)."""
    query = select(Certificate).where(Certificate.id == certificate_id)
    if lock:
        query = query.with_for_update()
    certificate = session.exec(query).first()
    if certificate is None or (actor is not None and not visible_to(actor, certificate)):
        raise NotFound(f"no certificate {certificate_id}")
    return certificate


def list_certificates(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    city_locode: str | None = None,
    status: CertificateStatus | None = None,
) -> tuple[list[Certificate], int]:
    conditions = []
    if actor.role is Role.CITY_APPLICANT:
        conditions.append(col(Certificate.city_locode) == actor.city_locode)
    elif actor.role not in ALL_CERTIFICATES_READERS:
        return [], 0
    if city_locode is not None:
        conditions.append(col(Certificate.city_locode) == city_locode)
    if status is not None:
        conditions.append(col(Certificate.status) == status)
    return page_of(
        session,
        Certificate,
        conditions=conditions,
        order_by=[col(Certificate.issued_at).desc(), col(Certificate.id)],
        offset=offset,
        limit=limit,
    )


def list_expiring(
    *, session: Session, within: timedelta, now: datetime | None = None
) -> list[Certificate]:
    """Certificates not revoked whose validity ends within `within` from now, soonest first.

    Suspended ones are listed too: a suspension may be lifted before they expire.
    """
    now = now or utcnow()
    return list(
        session.exec(
            select(Certificate)
            .where(
                col(Certificate.status) != CertificateStatus.REVOKED,
                col(Certificate.valid_until) > now,
                col(Certificate.valid_until) <= now + within,
            )
            .order_by(col(Certificate.valid_until), col(Certificate.id))
        ).all()
    )


def holds_valid_certificate(
    *, session: Session, city_locode: str, stage: str, now: datetime | None = None
) -> bool:
    """Whether the city holds an active certificate of `stage` that is valid now."""
    now = now or utcnow()
    found = session.exec(
        select(Certificate.id).where(
            Certificate.city_locode == city_locode,
            Certificate.stage == stage,
            Certificate.status == CertificateStatus.ACTIVE,
            col(Certificate.valid_from) <= now,
            col(Certificate.valid_until) > now,
        )
    ).first()
    return found is not None


# Issuing ----------------------------------------------------------------------------------------


def validity_end(valid_from: datetime, *, years: int, framework_until: date) -> datetime:
    """`years` after `valid_from`, cut at the last second of the framework's final day."""
    start = valid_from.astimezone(UTC)
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February, in a year that has none
        end = start.replace(year=start.year + years, day=28)
    last = datetime.combine(framework_until, time(23, 59, 59), tzinfo=UTC)
    return min(end, last)


def issue_certificate(
    *,
    session: Session,
    state: NodeState,
    application: Application,
    agenda_item_id: int,
    decision: Decision,
    actor: Actor,
) -> Certificate:
    """Sign and store the certificate an award decision grants, with its status entries and its
    `credential.issued` event, in the caller's transaction."""
    framework, document, stage, city = _award_subject(
        session=session, state=state, application=application
    )
    issued_at = utcnow().replace(microsecond=0)
    renewed = (
        get_certificate_or_raise(session=session, certificate_id=application.renews)
        if application.renews is not None
        else None
    )
    valid_from, valid_until = _validity(
        framework, document, stage, decision=decision, renewed=renewed
    )
    status_list_id, status = allocate_status_entry(session=session, state=state, now=issued_at)
    assert framework.digest is not None  # usable, so published
    issue = CertificateIssue(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer_did=state.settings.did,
        issuer_name=state.settings.node_name,
        locode=city.locode,
        city_name=city.name,
        country=city.country,
        stage=stage.key,
        framework=FrameworkRef(framework.framework_id, framework.version, framework.digest),
        decision=decision,
        criteria=stage.codes,
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
    )
    certificate = _store_certificate(
        session=session,
        issue=issue,
        token=issue.sign(state.signing_key, issued_at=issued_at),
        issued_at=issued_at,
        status_list_id=status_list_id,
        application=application,
        agenda_item_id=agenda_item_id,
        framework=framework,
        renewed=renewed,
        actor=actor,
    )
    _append_issued_event(
        session=session,
        state=state,
        certificate=certificate,
        framework=framework,
        city=city,
        decision=DecisionRef(meeting=decision.meeting, item=agenda_item_id),
    )
    notices.notify_certificate(session=session, settings=state.settings, certificate=certificate)
    return certificate


def _award_subject(
    *, session: Session, state: NodeState, application: Application
) -> tuple[FrameworkVersion, FrameworkDocument, Stage, City]:
    """The framework version (and its document), stage and city an award certifies, once it is
    checked that this node may certify them."""
    framework = session.get(FrameworkVersion, application.framework_version_id)
    assert framework is not None  # a foreign key; versions are never deleted
    frameworks.check_usable(framework)
    document = frameworks.document_of(framework)
    stage = document.stage(application.stage)
    city = session.get(City, application.city_locode)
    assert city is not None
    # On the global node, a country whose node joined while the application was open is that
    # node's now: what the global node signed would be outside its jurisdiction (DESIGN §3).
    check_certified_here(session=session, node_id=state.settings.node_id, locode=city.locode)
    return framework, document, stage, city


def _validity(
    framework: FrameworkVersion,
    document: FrameworkDocument,
    stage: Stage,
    *,
    decision: Decision,
    renewed: Certificate | None,
) -> tuple[datetime, datetime]:
    """From the decision (or the renewed certificate's end, if later) for the stage's years, cut
    at the framework's end; `Conflict` when the framework can no longer certify."""
    # The token says seconds; the row must say exactly what the token says.
    valid_from = decision.decided_at.astimezone(UTC).replace(microsecond=0)
    if renewed is not None:
        valid_from = max(valid_from, renewed.valid_until)
    valid_until = validity_end(
        valid_from, years=stage.validity_years, framework_until=document.valid_until
    )
    if valid_until <= valid_from:
        raise Conflict(
            f"{framework.label} was valid until {document.valid_until.isoformat()}: it can no "
            "longer certify, so the award cannot be issued; defer the item"
        )
    return valid_from, valid_until


def _store_certificate(
    *,
    session: Session,
    issue: CertificateIssue,
    token: str,
    issued_at: datetime,
    status_list_id: str,
    application: Application,
    agenda_item_id: int,
    framework: FrameworkVersion,
    renewed: Certificate | None,
    actor: Actor,
) -> Certificate:
    """The certificate's row, saying exactly what its signed `token` says, and its audit record."""
    assert application.id is not None
    assert framework.id is not None
    certificate = Certificate(
        id=issue.credential_id,
        city_locode=issue.locode,
        stage=issue.stage,
        level=issue.level,
        application_id=application.id,
        agenda_item_id=agenda_item_id,
        framework_version_id=framework.id,
        valid_from=issue.valid_from,
        valid_until=issue.valid_until,
        issued_at=issued_at,
        token=token,
        status_list_id=status_list_id,
        status_index=issue.status.index,
        renews=renewed.id if renewed is not None else None,
    )
    session.add(certificate)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="certificate.issue",
        target_type="certificate",
        target_id=certificate.id,
        detail={
            "application": application.id,
            "agenda_item": agenda_item_id,
            "renews": certificate.renews,
        },
    )
    return certificate


def _append_issued_event(
    *,
    session: Session,
    state: NodeState,
    certificate: Certificate,
    framework: FrameworkVersion,
    city: City,
    decision: DecisionRef,
) -> None:
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.CREDENTIAL_ISSUED,
        subject={"locode": city.locode, "credential": certificate.id},
        data=_with_city_facts(
            CredentialIssued(
                **_public_facts(certificate, framework),
                decision=decision,
                # The signed token itself, so the global registry can serve the certificate.
                jwt=certificate.token,
                # The certificate this one follows on from (report §18, §42c), so the global
                # registry shows the city's history as this node's does; the token does not
                # state it.
                renews=certificate.renews,
            ),
            city,
        ),
        occurred_at=certificate.issued_at,
    )


def _with_city_facts(data: CredentialIssued, city: City) -> CredentialIssued:
    """`data` with the city's public fields the token does not carry (for the global registry).

    Only what the public registry shows. Priorities are left out from the end if the event would
    otherwise pass the federation's size cap (a long list in a script of 3-byte characters),
    since an event too large would stop the award itself.
    """
    facts = CityFacts(
        region=city.region, population=city.population, priorities=tuple(city.priorities)
    )
    budget = MAX_EVENT_BYTES - CITY_FACTS_MARGIN - len(canonical_json(data.to_data()))
    while facts.priorities and len(canonical_json(facts.to_data())) > budget:
        facts = dataclasses.replace(facts, priorities=facts.priorities[:-1])
    return dataclasses.replace(data, city=facts)


def _public_facts(certificate: Certificate, framework: FrameworkVersion) -> dict[str, Any]:
    """The members a certificate's events share (`CredentialIssued`, `CredentialStatusChanged`)."""
    return {
        "id": certificate.id,
        "stage": certificate.stage,
        "level": certificate.level,
        "framework": FrameworkKey(
            id=framework.framework_id, version=framework.version, digest=framework.digest
        ),
        "valid_from": isoformat(certificate.valid_from),
        "valid_until": isoformat(certificate.valid_until),
    }


# Status changes ---------------------------------------------------------------------------------


def check_change(certificate: Certificate, kind: ProposalKind) -> None:
    """Raise `Conflict`, with the reason, unless `kind` can be applied to `certificate` now."""
    if certificate.status is CertificateStatus.REVOKED:
        raise Conflict(f"certificate {certificate.id} is revoked: a revocation can never be undone")
    if kind is ProposalKind.SUSPENSION and certificate.status is CertificateStatus.SUSPENDED:
        raise Conflict(f"certificate {certificate.id} is already suspended")
    if kind is ProposalKind.REINSTATEMENT and certificate.status is not CertificateStatus.SUSPENDED:
        raise Conflict(
            f"certificate {certificate.id} is {certificate.status.value}: only a suspended "
            "certificate can be reinstated"
        )


def change_status(
    *,
    session: Session,
    state: NodeState,
    certificate: Certificate,
    kind: ProposalKind,
    reason: str,
    decision: Decision,
    agenda_item_id: int,
    actor: Actor,
) -> Certificate:
    """Suspend, reinstate or revoke as the committee decided: the status-list bit, the re-signed
    list, the row and the federation event, in the caller's transaction."""
    check_change(certificate, kind)
    now = decision.decided_at
    set_status_bits(
        session=session,
        state=state,
        list_id=certificate.status_list_id,
        index=certificate.status_index,
        revoked=True if kind is ProposalKind.REVOCATION else None,
        suspended=None if kind is ProposalKind.REVOCATION else kind is ProposalKind.SUSPENSION,
        now=now,
    )
    previous = certificate.status
    certificate.status = STATUS_AFTER[kind]
    certificate.status_changed_at = now
    session.add(certificate)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"certificate.{kind.value}",
        target_type="certificate",
        target_id=certificate.id,
        detail={"from": previous.value, "agenda_item": agenda_item_id, "reason": reason},
    )
    framework = session.get(FrameworkVersion, certificate.framework_version_id)
    assert framework is not None
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EVENT_TYPES[kind],
        subject={"locode": certificate.city_locode, "credential": certificate.id},
        data=CredentialStatusChanged(
            **_public_facts(certificate, framework),
            status=certificate.status.value,
            reason=reason,
            decision=DecisionRef(meeting=decision.meeting, item=agenda_item_id),
        ),
        occurred_at=now,
    )
    notices.notify_certificate(
        session=session, settings=state.settings, certificate=certificate, reason=reason
    )
    return certificate


# Proposals --------------------------------------------------------------------------------------


def propose(
    *, session: Session, certificate_id: str, kind: ProposalKind, reason: str, actor: Actor
) -> CertificateProposal:
    """Ask the committee to suspend, reinstate or revoke a certificate, for `reason`.

    Called by the secretariat and administrators through the API, and by the node itself when a
    spot-check finds a problem. The committee's next generated agenda carries it.
    """
    certificate = get_certificate_or_raise(
        session=session, certificate_id=certificate_id, lock=True
    )
    check_change(certificate, kind)
    existing = session.exec(
        select(CertificateProposal.id).where(
            CertificateProposal.certificate_id == certificate.id,
            CertificateProposal.kind == kind,
            CertificateProposal.state == ProposalState.OPEN,
        )
    ).first()
    duplicate = Conflict(
        f"certificate {certificate.id} already has an open {kind.value} proposal"
        + (f" ({existing})" if existing is not None else "")
    )
    if existing is not None:
        raise duplicate
    proposal = CertificateProposal(
        certificate_id=certificate.id, kind=kind, reason=reason, proposed_by=actor.user_id
    )
    add_once(session, proposal, refusal=duplicate)
    record(
        session=session,
        actor=actor,
        action="certificate.propose",
        target_type="certificate",
        target_id=certificate.id,
        detail={"proposal": proposal.id, "kind": kind.value, "reason": reason},
    )
    return proposal


def list_proposals(
    *,
    session: Session,
    offset: int,
    limit: int,
    certificate_id: str | None = None,
    state: ProposalState | None = None,
) -> tuple[list[CertificateProposal], int]:
    return page_of(
        session,
        CertificateProposal,
        conditions=equal_when_given(
            (CertificateProposal.certificate_id, certificate_id),
            (CertificateProposal.state, state),
        ),
        order_by=[col(CertificateProposal.id).desc()],
        offset=offset,
        limit=limit,
    )


def close_proposal(
    *, session: Session, proposal: CertificateProposal, state: ProposalState, at: datetime
) -> None:
    proposal.state = state
    proposal.decided_at = at
    session.add(proposal)
    session.flush()


def supersede_proposals(*, session: Session, certificate: Certificate) -> None:
    """Close the open proposals of a revoked certificate: nothing about it is left to decide."""
    session.exec(
        update(CertificateProposal)
        .where(
            col(CertificateProposal.certificate_id) == certificate.id,
            col(CertificateProposal.state) == ProposalState.OPEN,
        )
        .values(state=ProposalState.SUPERSEDED, decided_at=certificate.status_changed_at)
    )
    session.flush()
