"""The city's dashboard, its self-assessment (answers, indicator values, evidence, submission)
and its answers to the reviewers' questions.

Every page is for city applicants and shows their own city only: the services answer 404 for
another city's application, exactly as the API does. Forms post back to the page, which
re-renders with the problems beside their fields (status 400, or the service's refusal status
for an upload) or redirects after success (303).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from sdgcities.node.accounts.models import Role
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import (
    OPEN_STATES,
    Application,
    ApplicationState,
    Evidence,
)
from sdgcities.node.applications.routes import download_evidence as api_download_evidence
from sdgcities.node.applications.schemas import ApplicationCreate
from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.certificates.service import list_certificates
from sdgcities.node.cities.models import City
from sdgcities.node.config import Settings
from sdgcities.node.db import WRITE_INTENT
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import NodeError
from sdgcities.node.evidence import EvidenceError, EvidenceStore, sanitise_filename
from sdgcities.node.frameworks import STAGE_ORDER, Indicator
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.models import FrameworkStatus, FrameworkVersion
from sdgcities.node.reports.service import report_count
from sdgcities.node.review import service as review
from sdgcities.node.review.access import open_clarification_criteria
from sdgcities.node.schemas import Id
from sdgcities.node.timeutil import as_utc, utcnow

from ..errors import error_page
from ..i18n import N_, Language
from ..pages import render
from ..routes import LanguageDep
from ..session import WebCaller, check_csrf, page_access
from .criteria import CriterionText, criterion_in
from .forms import AnswerForm, read_answer_form, read_clarification_form, slug
from .timeline import (
    CERTIFICATE_STATUS_NAMES,
    LEVEL_NAMES,
    NEXT_STEPS,
    STAGE_NAMES,
    STATE_NAMES,
    timeline,
)

router = APIRouter(include_in_schema=False)

City_ = Annotated[WebCaller, page_access(Role.CITY_APPLICANT)]
Code = Annotated[str, Path(max_length=32)]
APPLICATION_PATH: Final = "/{lang:lang}/city/applications/{application_id}"
EVIDENCE_PAGE_PATH: Final = APPLICATION_PATH + "/criteria/{code}/evidence"
_UPLOAD_CHUNK: Final = 1024 * 1024
# What a multipart upload form adds to its file (boundaries, part headers, the form token): the
# node's body cap for the upload page is the evidence cap plus this; the store checks the file.
UPLOAD_FORM_OVERHEAD: Final = 64 * 1024

MISSING_ANSWER: Final = N_("Criterion %(code)s has no answer: write how your city meets it.")
NAMES: Final = {
    "stages": STAGE_NAMES,
    "levels": LEVEL_NAMES,
    "states": STATE_NAMES,
    "certificate_statuses": CERTIFICATE_STATUS_NAMES,
    "next_steps": NEXT_STEPS,
}


def _application_url(language: Language, application_id: int | None, anchor: str = "") -> str:
    return f"/{language.code}/city/applications/{application_id}{anchor}"


# Dashboard --------------------------------------------------------------------------------------


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
        certificates=[(c, _certificate_status(c)) for c in certificates],
        open_application=open_application,
        stages=stages,
        versions=versions,
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
    errors: dict[str, str] = {}
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
        {"stage": stage, "framework_version_id": int(str(version)), "language": language.code}
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
    return RedirectResponse(_application_url(language, application.id), status_code=303)


# The self-assessment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSection:
    """One criterion's section of the self-assessment page."""

    code: str
    slug: str  # the code as part of element ids
    words: CriterionText  # its text and evidence expected in the page's language
    indicators: tuple[Indicator, ...]
    answered: bool
    form: AnswerForm
    evidence: list[Evidence]
    editable: bool  # a draft, or a criterion the reviewers asked about
    upload_error: str | None


def _application_page(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    application: Application,
    status_code: int = 200,
    forms: dict[str, AnswerForm] | None = None,
    upload_errors: dict[str, str] | None = None,
    submit_errors: list[str] | None = None,
    clarification_answers: dict[int, str] | None = None,
    clarification_errors: dict[str, str] | None = None,
    refusal: str | None = None,
    detail: str | None = None,
) -> Response:
    framework = applications.framework_of(session=session, application=application)
    document = frameworks.document_of(framework)
    stage = document.stage(application.stage)
    answers = {
        answer.criterion_code: answer
        for answer in applications.answers_of(session=session, application=application)
    }
    evidence = applications.evidence_of(session=session, application=application)
    asked = open_clarification_criteria(session=session, application_id=application.id)
    draft = application.state is ApplicationState.DRAFT
    sections: list[CriterionSection] = []
    for criterion in stage.criteria:
        answer = answers.get(criterion.code)
        form = (forms or {}).get(criterion.code) or AnswerForm.from_answer(
            criterion.code,
            answer.narrative if answer else "",
            answer.indicator_values if answer else [],
        )
        sections.append(
            CriterionSection(
                code=criterion.code,
                slug=slug(criterion.code),
                words=criterion_in(criterion, language.code, framework_language=document.language),
                indicators=criterion.indicators,
                answered=bool(answer and answer.narrative.strip()),
                form=form,
                evidence=[item for item in evidence if item.criterion_code == criterion.code],
                editable=draft or criterion.code in asked,
                upload_error=(upload_errors or {}).get(criterion.code),
            )
        )
    requests = review.clarifications_of(session=session, application_id=application.id)
    # Every problem on the page, in page order, for the error summary: (field id, message, code).
    summary: list[tuple[str, str, str]] = []
    for section in sections:
        summary += [
            (target, message, section.code) for target, message in section.form.errors.items()
        ]
        if section.upload_error:
            summary.append((f"evidence-{section.slug}", section.upload_error, section.code))
    summary += [(f"narrative-{slug(code)}", MISSING_ANSWER, code) for code in submit_errors or []]
    summary += [(target, message, "") for target, message in (clarification_errors or {}).items()]
    return render(
        request,
        "city/application.html",
        language=language,
        caller=caller,
        status_code=status_code,
        application=application,
        city=document_city(session, application),
        framework=framework,
        stage=stage,
        sections=sections,
        editable=any(section.editable for section in sections),
        missing=set(submit_errors or []),
        open_requests=[r for r in requests if r.answered_at is None],
        answered_requests=[r for r in requests if r.answered_at is not None],
        clarification_answers=clarification_answers or {},
        clarification_errors=clarification_errors or {},
        error_summary=summary,
        refusal=refusal,
        detail=detail,
        steps=timeline(session=session, application=application),
        has_report=report_count(session=session, application=application) > 0,
        saved=request.query_params.get("saved"),
        names=NAMES,
    )


def document_city(session: Session, application: Application) -> City | None:
    return session.get(City, application.city_locode)


@router.get(APPLICATION_PATH)
def application_page(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    application_id: Id,
) -> Response:
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor
    )
    return _application_page(
        request, session=session, language=language, caller=caller, application=application
    )


@router.post(APPLICATION_PATH + "/criteria/{code}")
async def save_answer(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    application_id: Id,
    code: Code,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    if code not in applications.stage_criteria(session=session, application=application):
        return _application_page(
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=404,
        )
    typed, update = read_answer_form(form, code)
    if update is None:
        return _application_page(
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=400,
            forms={code: typed},
        )
    try:
        applications.save_answer(
            session=session, application=application, code=code, data=update, actor=caller.actor
        )
    except NodeError as exc:
        session.rollback()
        return _application_page(
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=exc.status_code,
            forms={code: typed},
            detail=exc.message,
        )
    return RedirectResponse(
        _application_url(language, application.id, f"?saved={code}#criterion-{slug(code)}"),
        status_code=303,
    )


@router.post(APPLICATION_PATH + "/submit")
async def submit(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    state: StateDep,
    application_id: Id,
) -> Response:
    await check_csrf(request, caller)
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    page: dict[str, Any] = {
        "session": session,
        "language": language,
        "caller": caller,
        "application": application,
    }
    if application.state is ApplicationState.DRAFT:
        # The service's own rule, read first so that every missing answer is shown at once.
        codes = applications.stage_criteria(session=session, application=application)
        answers = applications.answers_of(session=session, application=application)
        missing = applications.missing_criteria(codes, answers)
        if missing:
            return _application_page(request, status_code=400, submit_errors=missing, **page)
    try:
        applications.submit_application(
            session=session,
            application=application,
            actor=caller.actor,
            node_id=state.settings.node_id,
        )
    except NodeError as exc:
        session.rollback()
        return _application_page(request, status_code=exc.status_code, detail=exc.message, **page)
    return RedirectResponse(_application_url(language, application.id), status_code=303)


# Evidence ---------------------------------------------------------------------------------------


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_UPLOAD_CHUNK):
        yield chunk


UPLOAD_REFUSED: Final = N_("The file could not be added.")
UPLOAD_MESSAGES: Final = {
    413: N_("The file is too large."),
    415: N_(
        "This kind of file is not accepted: upload a PDF, an image (PNG or JPEG), a spreadsheet "
        "(CSV or XLSX), a document (DOCX or ODT) or plain text."
    ),
    409: N_(
        "The file cannot be added now: your city's storage is full, or this criterion cannot "
        "change any more."
    ),
    422: N_("The file is empty."),
}


@router.post(EVIDENCE_PAGE_PATH)
async def upload_evidence(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    state: StateDep,
    application_id: Id,
    code: Code,
) -> Response:
    """The same steps as the API's upload: checked before the file is stored, stored by its
    content (its type judged from its bytes), checked again before it is attached."""
    await check_csrf(request, caller)
    form = await request.form()
    try:
        return await _store_upload(
            request,
            form.get("file"),
            language=language,
            caller=caller,
            session=session,
            settings=state.settings,
            application_id=application_id,
            code=code,
        )
    finally:
        # The spooled file of the form is ours to close: the endpoint read the form itself.
        await form.close()


async def _store_upload(
    request: Request,
    upload: UploadFile | str | None,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    settings: Settings,
    application_id: int,
    code: str,
) -> Response:

    async def refuse(status_code: int, message: str) -> Response:
        application = await run_in_threadpool(
            applications.get_application_or_raise,
            session=session,
            application_id=application_id,
            actor=caller.actor,
        )
        return await run_in_threadpool(
            _application_page,
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=status_code,
            upload_errors={code: message},
        )

    if not isinstance(upload, UploadFile) or not upload.filename:
        return await refuse(400, N_("Choose a file to upload."))
    try:
        remaining = await run_in_threadpool(
            applications.check_upload,
            session=session,
            application_id=application_id,
            code=code,
            actor=caller.actor,
            quota=settings.city_quota_bytes,
        )
    except NodeError as exc:
        if exc.status_code == 404:
            raise
        await run_in_threadpool(session.rollback)
        return await refuse(exc.status_code, UPLOAD_MESSAGES.get(exc.status_code, UPLOAD_REFUSED))
    await run_in_threadpool(session.commit)
    store = EvidenceStore(settings.evidence_dir, max_bytes=settings.evidence_max_bytes)
    try:
        stored = await store.store(_chunks(upload), quota_remaining=remaining)
    except EvidenceError as exc:
        error = applications.node_error_for(exc)
        return await refuse(
            error.status_code, UPLOAD_MESSAGES.get(error.status_code, UPLOAD_REFUSED)
        )

    def attach() -> None:
        session.connection(execution_options={WRITE_INTENT: True})
        applications.add_evidence(
            session=session,
            application_id=application_id,
            code=code,
            stored=stored,
            filename=sanitise_filename(upload.filename),
            actor=caller.actor,
            quota=settings.city_quota_bytes,
        )

    try:
        await run_in_threadpool(attach)
    except NodeError as exc:
        await run_in_threadpool(session.rollback)
        return await refuse(exc.status_code, UPLOAD_MESSAGES.get(exc.status_code, UPLOAD_REFUSED))
    return RedirectResponse(
        _application_url(language, application_id, f"?saved={code}#criterion-{slug(code)}"),
        status_code=303,
    )


@router.get(APPLICATION_PATH + "/evidence/{evidence_id}")
def download_evidence(
    request: Request,
    caller: City_,
    session: ReadSessionDep,
    state: StateDep,
    application_id: Id,
    evidence_id: Id,
) -> Response:
    """The city's own evidence file, served exactly as the API serves it (its digest checked,
    an attachment that no browser runs); a file that fails its check is a 409 page."""
    response = api_download_evidence(
        session=session,
        state=state,
        actor=caller.actor,
        application_id=application_id,
        evidence_id=evidence_id,
    )
    if response.status_code >= 400:
        return error_page(request, status_code=response.status_code)
    return response


# Clarifications ---------------------------------------------------------------------------------


@router.post(APPLICATION_PATH + "/clarifications")
async def answer_clarifications(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    application_id: Id,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    open_ids = [
        request_.id
        for request_ in review.clarifications_of(session=session, application_id=application.id)
        if request_.answered_at is None and request_.id is not None
    ]
    page: dict[str, Any] = {
        "session": session,
        "language": language,
        "caller": caller,
        "application": application,
    }
    if not open_ids:
        return _application_page(
            request, status_code=409, refusal=N_("There is no open question to answer."), **page
        )
    typed, errors, response = read_clarification_form(form, open_ids)
    if response is None:
        return _application_page(
            request,
            status_code=400,
            clarification_answers=typed,
            clarification_errors=errors,
            **page,
        )
    try:
        review.respond_to_clarifications(
            session=session, application=application, data=response, actor=caller.actor
        )
    except NodeError as exc:
        session.rollback()
        return _application_page(
            request,
            status_code=exc.status_code,
            clarification_answers=typed,
            detail=exc.message,
            **page,
        )
    return RedirectResponse(
        _application_url(language, application.id, "?saved=answers#clarifications"),
        status_code=303,
    )
