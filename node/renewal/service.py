"""Renewal: an application for the same stage, pre-filled from the one a certificate was awarded
for, that the city confirms criterion by criterion (§18: the certification "is envisioned to be
issued iteratively"; §42c asks whether it "ha[s] an expiry date").

A city applicant (or an administrator on its behalf) starts one for a certificate of its city
that is active and ends within `renewal_window_days`: 403 for another city's certificate, 409
before the window opens, once it has ended, while it is suspended or revoked, once it has been
renewed, or while the city has another open application. The renewal is an ordinary application
(node/applications) with `renews` set, under the certificate's framework version or a later one
the city names. Each answer of the award's application is copied (narrative and indicator
values) and marked `to_confirm`, and its evidence is re-linked: new rows naming the same
content-addressed file, so no bytes are copied (the rows count towards the city's quota, as
every row does). Criteria the chosen framework version no longer has are dropped; new ones
start empty, so submission asks for them like any missing answer.

The city confirms an answer as it stands (`confirm_answer`) or updates it (saving an answer
confirms it); submission is refused while any is still to confirm. Review and committee decide
it like any other; on award the new certificate records what it renews (node/certificates).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import (
    Application,
    ApplicationState,
    CriterionAnswer,
    Evidence,
)
from sdgcities.node.applications.schemas import ApplicationCreate
from sdgcities.node.audit.service import record
from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.certificates.service import get_certificate_or_raise
from sdgcities.node.errors import Conflict, Forbidden
from sdgcities.node.timeutil import utcnow


def window_opens(certificate: Certificate, *, window_days: int) -> datetime:
    return certificate.valid_until - timedelta(days=window_days)


def renewed_by(*, session: Session, certificate_id: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.renews == certificate_id)).first()


def renewal_refusal(
    *, session: Session, certificate: Certificate, window_days: int, now: datetime
) -> str | None:
    """Why `certificate` cannot be renewed now, or `None` when it can."""
    if certificate.status is not CertificateStatus.ACTIVE:
        return (
            f"certificate {certificate.id} is {certificate.status.value}: only an active "
            "certificate can be renewed"
        )
    if certificate.valid_until <= now:
        return (
            f"certificate {certificate.id} ended on {certificate.valid_until.date().isoformat()}: "
            "an ended certificate is not renewed; apply for the stage anew"
        )
    opens = window_opens(certificate, window_days=window_days)
    if now < opens:
        return (
            f"certificate {certificate.id} can be renewed from {opens.date().isoformat()}, "
            f"{window_days} days before it ends on {certificate.valid_until.date().isoformat()}"
        )
    successor = renewed_by(session=session, certificate_id=certificate.id)
    if successor is not None:
        return f"certificate {certificate.id} is already renewed by {successor.id}"
    return None


def start_renewal(
    *,
    session: Session,
    certificate_id: str,
    actor: Actor,
    node_id: str,
    window_days: int,
    framework_version_id: int | None = None,
    now: datetime | None = None,
) -> Application:
    now = now or utcnow()
    # Locked: two renewals of one certificate must see each other (PostgreSQL).
    certificate = get_certificate_or_raise(
        session=session, certificate_id=certificate_id, lock=True
    )
    if actor.role is Role.CITY_APPLICANT and actor.city_locode != certificate.city_locode:
        raise Forbidden(
            f"certificate {certificate_id} is of city {certificate.city_locode}: a city renews "
            "its own certificates only"
        )
    refusal = renewal_refusal(
        session=session, certificate=certificate, window_days=window_days, now=now
    )
    if refusal is not None:
        raise Conflict(refusal)
    source = session.get(Application, certificate.application_id)
    assert source is not None  # a foreign key; applications are never deleted
    application = applications.create_application(
        session=session,
        data=ApplicationCreate(
            city_locode=certificate.city_locode,
            stage=certificate.stage,
            framework_version_id=framework_version_id or certificate.framework_version_id,
            language=source.language,
        ),
        actor=actor,
        node_id=node_id,
    )
    application.renews = certificate.id
    session.add(application)
    carried = _carry_over(session=session, source=source, renewal=application)
    record(
        session=session,
        actor=actor,
        action="application.renew",
        target_type="application",
        target_id=application.id,
        detail={"certificate": certificate.id, "from": source.id, "carried_over": carried},
    )
    return application


def _carry_over(*, session: Session, source: Application, renewal: Application) -> list[str]:
    """Copy the source's answers and re-link its evidence for the criteria the renewal's stage
    still has; returns the criteria carried over."""
    assert renewal.id is not None
    codes = set(applications.stage_criteria(session=session, application=renewal))
    carried = []
    for answer in applications.answers_of(session=session, application=source):
        if answer.criterion_code not in codes:
            continue
        session.add(
            CriterionAnswer(
                application_id=renewal.id,
                criterion_code=answer.criterion_code,
                narrative=answer.narrative,
                indicator_values=list(answer.indicator_values),
                updated_by=answer.updated_by,
                updated_at=answer.updated_at,
                to_confirm=True,
            )
        )
        carried.append(answer.criterion_code)
    for evidence in applications.evidence_of(session=session, application=source):
        if evidence.criterion_code not in codes:
            continue
        session.add(
            Evidence(
                application_id=renewal.id,
                city_locode=renewal.city_locode,
                criterion_code=evidence.criterion_code,
                digest=evidence.digest,
                size=evidence.size,
                media_type=evidence.media_type,
                filename=evidence.filename,
                uploaded_by=evidence.uploaded_by,
                uploaded_at=evidence.uploaded_at,
            )
        )
    session.flush()
    return sorted(carried)


def confirm_answer(
    *, session: Session, application: Application, code: str, actor: Actor
) -> CriterionAnswer:
    """Confirm a carried-over answer as it stands, with its evidence (`application` locked)."""
    if application.state is not ApplicationState.DRAFT:
        raise Conflict(
            f"application {application.id} is {application.state.value}: answers are confirmed "
            "while it is a draft"
        )
    answer = session.exec(
        select(CriterionAnswer).where(
            CriterionAnswer.application_id == application.id,
            col(CriterionAnswer.criterion_code) == code,
        )
    ).first()
    if answer is None or not answer.to_confirm:
        raise Conflict(
            f"application {application.id} has no carried-over answer to confirm for "
            f"criterion {code}"
        )
    answer.to_confirm = False
    answer.updated_by = actor.user_id
    answer.updated_at = utcnow()
    session.add(answer)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="application.confirm",
        target_type="application",
        target_id=application.id,
        detail={"criterion": code},
    )
    return answer
