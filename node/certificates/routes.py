"""`/certificates`: the certificates this node issued, those near expiry, and proposals to the
committee to suspend, reinstate or revoke one.

Certificates are issued, suspended, reinstated and revoked only by committee decisions
(`/committee/items/{id}/decide`); here the secretariat and administrators put a proposal, with
its reason, on the committee's next agenda. Staff read every certificate; a city applicant reads
its own city's (404 for any other). The public registry (DESIGN §6) is separate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import ReadSessionDep, SessionDep, access
from sdgcities.node.schemas import Limit, Offset
from sdgcities.node.timeutil import utcnow

from . import service
from .models import Certificate, CertificateStatus, ProposalState
from .schemas import (
    CertificateDetail,
    CertificatePublic,
    CertificatesPublic,
    ProposalCreate,
    ProposalPublic,
    ProposalsPublic,
)

router = APIRouter(tags=["certificates"])

Secretariat = Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT)]
Reader = Annotated[
    Actor,
    access(
        Role.ADMINISTRATOR,
        Role.SECRETARIAT,
        Role.COMMITTEE_MEMBER,
        Role.REVIEWER,
        Role.CITY_APPLICANT,
    ),
]
ProposalReader = Annotated[
    Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT, Role.COMMITTEE_MEMBER)
]
CertificateId = Annotated[str, Path(max_length=64)]


def _fields(certificate: Certificate) -> dict[str, object]:
    return {**certificate.model_dump(), "expired": certificate.valid_until <= utcnow()}


def _public(certificate: Certificate) -> CertificatePublic:
    return CertificatePublic.model_validate(_fields(certificate))


@router.get("/certificates")
def list_certificates(
    session: ReadSessionDep,
    actor: Reader,
    city_locode: Annotated[str | None, Query(max_length=6)] = None,
    status: CertificateStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> CertificatesPublic:
    """Certificates, newest first (a city applicant's: its own city's only)."""
    certificates, count = service.list_certificates(
        session=session,
        actor=actor,
        offset=offset,
        limit=limit,
        city_locode=city_locode,
        status=status,
    )
    return CertificatesPublic(data=[_public(c) for c in certificates], count=count)


@router.get("/certificates/expiring")
def list_expiring(
    session: ReadSessionDep,
    _actor: Secretariat,
    within_days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> CertificatesPublic:
    """Certificates, not revoked, whose validity ends within `within_days`, soonest first.
    Their cities renew them with `POST /certificates/{id}/renewal`."""
    certificates = service.list_expiring(session=session, within=timedelta(days=within_days))
    return CertificatesPublic(data=[_public(c) for c in certificates], count=len(certificates))


@router.get("/certificates/proposals")
def list_proposals(
    session: ReadSessionDep,
    _actor: ProposalReader,
    state: ProposalState | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> ProposalsPublic:
    """Proposals to suspend, reinstate or revoke certificates, newest first."""
    proposals, count = service.list_proposals(
        session=session, offset=offset, limit=limit, state=state
    )
    return ProposalsPublic(data=[ProposalPublic.model_validate(p) for p in proposals], count=count)


@router.get("/certificates/{certificate_id}")
def get_certificate(
    session: ReadSessionDep, actor: Reader, certificate_id: CertificateId
) -> CertificateDetail:
    """A certificate with its signed token and status-list entries."""
    certificate = service.get_certificate_or_raise(
        session=session, certificate_id=certificate_id, actor=actor
    )
    return CertificateDetail.model_validate(_fields(certificate))


@router.post("/certificates/{certificate_id}/proposals", status_code=status.HTTP_201_CREATED)
def propose(
    session: SessionDep, actor: Secretariat, certificate_id: CertificateId, body: ProposalCreate
) -> ProposalPublic:
    """Propose to the committee that it suspend, reinstate or revoke the certificate."""
    proposal = service.propose(
        session=session,
        certificate_id=certificate_id,
        kind=body.kind,
        reason=body.reason,
        actor=actor,
    )
    return ProposalPublic.model_validate(proposal)
