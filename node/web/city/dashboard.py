"""The city's dashboard: its applications with their timelines and what is expected next, its
certificates, and starting an application."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from sdgcities.node.accounts.teams import UN_LANGUAGES, first_un_language
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import OPEN_STATES, Application, ApplicationState
from sdgcities.node.applications.schemas import ApplicationCreate
from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.certificates.service import list_certificates
from sdgcities.node.cities.models import City
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import NodeError
from sdgcities.node.frameworks import STAGE_ORDER
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.models import FrameworkStatus, FrameworkVersion
from sdgcities.node.renewal import service as renewal
from sdgcities.node.reports.service import report_count
from sdgcities.node.timeutil import as_utc, utcnow

from ..i18n import N_, Language
from ..pages import render
from ..routes import LanguageDep
from ..session import WebCaller, check_csrf
from .pages import NAMES, CertificateId, City_, application_url
from .timeline import timeline

router = APIRouter(include_in_schema=False)


def _usable_frameworks(session: Session, caller: WebCaller, city: City) -> list[FrameworkVersion]:
    """The framework versions the city may apply under: usable for certification, and the
    baseline or its own country's; its national framework first."""
    versions, _ = frameworks.list_versions(
        session=session, actor=caller.actor, offset=0, limit=500, status=FrameworkStatus.PUBLISHED
    )
    usable = [
        version
        for version in versions
        if version.usable_for_certification and version.country in (None, city.country)
    ]
    return sorted(usable, key=lambda version: (version.country is None, -(version.id or 0)))


def _dashboard(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    detail: str | None = None,
) -> Response:
    locode = caller.actor.city_locode
    city = session.get(City, locode) if locode else None
    found, _ = applications.list_applications(
        session=session, actor=caller.actor, offset=0, limit=100
    )
    certificates, _ = list_certificates(session=session, actor=caller.actor, offset=0, limit=100)
    items = [
        {
            "application": application,
            "steps": timeline(session=session, application=application),
            "missing": _missing_count(session, application),
            "has_report": report_count(session=session, application=application) > 0,
        }
        for application in found
    ]
    open_application = next((a for a in found if a.state in OPEN_STATES), None)
    window_days = request.app.state.node.settings.renewal_window_days
    now = utcnow()
    stages: list[str] = []
    versions: list[FrameworkVersion] = []
    if city is not None and open_application is None:
        stages = [
            stage
            for stage in STAGE_ORDER
            if applications.previous_stage_certified(
                session=session, city_locode=city.locode, stage=stage
            )
        ]
        versions = _usable_frameworks(session, caller, city)
    return render(
        request,
        "city/dashboard.html",
        language=language,
        caller=caller,
        status_code=status_code,
        city=city,
        items=items,
        certificates=[
            (
                c,
                _certificate_status(c),
                open_application is None
                and renewal.renewal_refusal(
                    session=session, certificate=c, window_days=window_days, now=now
                )
                is None,
            )
            for c in certificates
        ],
        open_application=open_application,
        stages=stages,
        versions=versions,
        # The city's own first UN language, else the page's: the team the review is routed to.
        review_language=(first_un_language(city.languages) if city else None) or language.code,
        errors=errors or {},
        detail=detail,
        names=NAMES,
    )


def _certificate_status(certificate: Certificate) -> str:
    """The status a reader should see: an active certificate past its validity has expired."""
    if (
        certificate.status is CertificateStatus.ACTIVE
        and as_utc(certificate.valid_until) <= utcnow()
    ):
        return "expired"
    return certificate.status.value


def _missing_count(session: Session, application: Application) -> int:
    if application.state is not ApplicationState.DRAFT:
        return 0
    codes = applications.stage_criteria(session=session, application=application)
    return len(
        applications.missing_criteria(
            codes, applications.answers_of(session=session, application=application)
        )
    )


@router.get("/{lang:lang}/city")
def dashboard(
    request: Request, language: LanguageDep, caller: City_, session: ReadSessionDep
) -> Response:
    return _dashboard(request, session=session, language=language, caller=caller)


@router.post("/{lang:lang}/city/applications")
async def start_application(
    request: Request, language: LanguageDep, caller: City_, session: SessionDep, state: StateDep
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    stage = form.get("stage")
    version = form.get("framework_version_id")
    review_language = form.get("language")
    errors: dict[str, str] = {}
    if review_language not in UN_LANGUAGES:
        errors["language"] = N_("Choose the language of the review.")
    if stage not in STAGE_ORDER:
        errors["stage"] = N_("Choose the stage to apply for.")
    if not isinstance(version, str) or not version.isdigit():
        errors["framework_version_id"] = N_("Choose the criteria framework.")
    if errors:
        return _dashboard(
            request,
            session=session,
            language=language,
            caller=caller,
            status_code=400,
            errors=errors,
        )
    data = ApplicationCreate.model_validate(
        {
            "stage": stage,
            "framework_version_id": int(str(version)),
            "language": review_language,
        }
    )
    try:
        application = applications.create_application(
            session=session, data=data, actor=caller.actor, node_id=state.settings.node_id
        )
    except NodeError as exc:
        session.rollback()
        return _dashboard(
            request,
            session=session,
            language=language,
            caller=caller,
            status_code=exc.status_code,
            detail=exc.message,
        )
    return RedirectResponse(application_url(language, application.id), status_code=303)


@router.post("/{lang:lang}/city/certificates/{certificate_id}/renewal")
async def start_renewal(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    state: StateDep,
    certificate_id: CertificateId,
) -> Response:
    """Start renewing a certificate (node/renewal): its answers carried over, to confirm."""
    await check_csrf(request, caller)
    try:
        application = renewal.start_renewal(
            session=session,
            certificate_id=certificate_id,
            actor=caller.actor,
            node_id=state.settings.node_id,
            window_days=state.settings.renewal_window_days,
        )
    except NodeError as exc:
        session.rollback()
        return _dashboard(
            request,
            session=session,
            language=language,
            caller=caller,
            status_code=exc.status_code,
            detail=exc.message,
        )
    return RedirectResponse(application_url(language, application.id), status_code=303)
