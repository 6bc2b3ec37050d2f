"""`/cities/{locode}/certifications` and `/cities/{locode}/esg-indicators`: what a city
declares of its other certifications and ESG indicators (report §30d, §30e).

Only the city's own applicants write (another city's is 404); administrators may also remove an
entry; the secretariat and administrators read. Investors read the same through the public
registry (`/registry/cities/{locode}`, the exports).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications.routes import OCTET_STREAM, RawUpload
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.evidence import StoredEvidence
from sdgcities.node.schemas import Id
from sdgcities.node.timeutil import utcnow

from . import service
from .models import EsgIndicator, OtherCertification
from .schemas import (
    CertificationCreate,
    CertificationPublic,
    CertificationsPublic,
    CertificationUpdate,
    IndicatorCreate,
    IndicatorPublic,
    IndicatorsPublic,
    IndicatorUpdate,
)

router = APIRouter(tags=["other certifications"])

Declarer = Annotated[Actor, access(Role.CITY_APPLICANT)]
Remover = Annotated[Actor, access(Role.CITY_APPLICANT, Role.ADMINISTRATOR)]
Reader = Annotated[Actor, access(Role.CITY_APPLICANT, Role.SECRETARIAT, Role.ADMINISTRATOR)]
Locode = Annotated[str, Path(max_length=6, description="UN/LOCODE, e.g. KE-NBO")]

CERTIFICATIONS = "/cities/{locode}/certifications"
CERTIFICATION = CERTIFICATIONS + "/{certification_id}"
DOCUMENT_UPLOAD_PATH = CERTIFICATION + "/document"
INDICATORS = "/cities/{locode}/esg-indicators"
INDICATOR = INDICATORS + "/{indicator_id}"


def certification_public(certification: OtherCertification) -> CertificationPublic:
    return CertificationPublic.model_validate(
        {
            **certification.model_dump(),
            "verification": service.verification_of(certification, utcnow()),
        }
    )


def _certification(
    session: Session, actor: Actor, locode: str, certification_id: int
) -> OtherCertification:
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    return service.get_certification_or_raise(
        session=session, city=city, certification_id=certification_id
    )


def _indicator(session: Session, actor: Actor, locode: str, indicator_id: int) -> EsgIndicator:
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    return service.get_indicator_or_raise(session=session, city=city, indicator_id=indicator_id)


@router.get(CERTIFICATIONS)
def list_certifications(
    session: ReadSessionDep, actor: Reader, locode: Locode
) -> CertificationsPublic:
    """The city's other certifications, the latest awarded first, each `verified` or
    `declared` (by the city)."""
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    found = service.list_certifications(session=session, city=city)
    return CertificationsPublic(data=[certification_public(c) for c in found], count=len(found))


@router.post(CERTIFICATIONS, status_code=status.HTTP_201_CREATED)
def add_certification(
    data: CertificationCreate,
    session: SessionDep,
    state: StateDep,
    actor: Declarer,
    locode: Locode,
) -> CertificationPublic:
    """Records another certification or assessment of the city (ISO 37120 through WCCD, a
    national scheme). A `credential` from its issuer is checked now: verified when its
    signature checks against a key this node resolves offline (did:key, did:jwk, or an issuer
    the operator pinned), it is about this city and valid now; kept as declared when its issuer
    cannot be resolved or its dates do not cover now; refused (422) when malformed, forged or
    about another city."""
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    certification = service.create_certification(
        session=session,
        city=city,
        data=data,
        actor=actor,
        keys=state.settings.certification_issuer_keys,
    )
    return certification_public(certification)


@router.patch(CERTIFICATION)
def change_certification(
    data: CertificationUpdate,
    session: SessionDep,
    state: StateDep,
    actor: Declarer,
    locode: Locode,
    certification_id: Id,
) -> CertificationPublic:
    """Changes what the city declares; a new `credential` is checked as on creation, and
    `"credential": null` removes it."""
    certification = _certification(session, actor, locode, certification_id)
    service.update_certification(
        session=session,
        certification=certification,
        data=data,
        actor=actor,
        keys=state.settings.certification_issuer_keys,
    )
    return certification_public(certification)


@router.delete(CERTIFICATION, status_code=status.HTTP_204_NO_CONTENT)
def remove_certification(
    session: SessionDep, actor: Remover, locode: Locode, certification_id: Id
) -> Response:
    """Removes the certification (an administrator may, to moderate). Its stored document
    stays, as evidence files do (others may share its digest)."""
    certification = _certification(session, actor, locode, certification_id)
    service.delete_certification(session=session, certification=certification, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    DOCUMENT_UPLOAD_PATH,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_document(
    request: Request,
    session: ReadSessionDep,
    state: StateDep,
    actor: Declarer,
    locode: Locode,
    certification_id: Id,
    filename: Annotated[str | None, Query(max_length=1024)] = None,
) -> CertificationPublic:
    """Attaches (or replaces) the certification's document, checked as evidence files are
    (PDF, PNG, JPEG, CSV, XLSX, DOCX, ODT or plain text, judged from its bytes; the evidence
    size cap; the city's evidence quota). The public can download it from the registry."""
    upload = RawUpload.of(request, settings=state.settings, filename=filename)
    quota = state.settings.city_quota_bytes

    def attach(stored: StoredEvidence) -> CertificationPublic:
        certification = service.attach_document(
            session=session,
            locode=locode,
            certification_id=certification_id,
            stored=stored,
            filename=upload.name,
            actor=actor,
            quota=quota,
        )
        return certification_public(certification)

    return await upload.receive(
        request,
        session=session,
        check=partial(
            service.check_document_upload,
            session=session,
            locode=locode,
            certification_id=certification_id,
            actor=actor,
            quota=quota,
        ),
        attach=attach,
    )


@router.get(INDICATORS)
def list_indicators(session: ReadSessionDep, actor: Reader, locode: Locode) -> IndicatorsPublic:
    """The ESG indicator values the city declared, by code, the latest year first."""
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    found = service.list_indicators(session=session, city=city)
    return IndicatorsPublic(
        data=[IndicatorPublic.model_validate(i) for i in found], count=len(found)
    )


@router.post(INDICATORS, status_code=status.HTTP_201_CREATED)
def add_indicator(
    data: IndicatorCreate, session: SessionDep, actor: Declarer, locode: Locode
) -> IndicatorPublic:
    """Declares one value of an ESG indicator (one per code and year: 409 for a second)."""
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    return IndicatorPublic.model_validate(
        service.create_indicator(session=session, city=city, data=data, actor=actor)
    )


@router.patch(INDICATOR)
def change_indicator(
    data: IndicatorUpdate, session: SessionDep, actor: Declarer, locode: Locode, indicator_id: Id
) -> IndicatorPublic:
    indicator = _indicator(session, actor, locode, indicator_id)
    return IndicatorPublic.model_validate(
        service.update_indicator(session=session, indicator=indicator, data=data, actor=actor)
    )


@router.delete(INDICATOR, status_code=status.HTTP_204_NO_CONTENT)
def remove_indicator(
    session: SessionDep, actor: Remover, locode: Locode, indicator_id: Id
) -> Response:
    indicator = _indicator(session, actor, locode, indicator_id)
    service.delete_indicator(session=session, indicator=indicator, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
