"""The city's self-assessment page (answers, indicator values, submission) and its answers
to the reviewers' questions; the page's renderer, shared with the evidence routes.

Every page is for city applicants and shows their own city only: the services answer 404 for
another city's application, exactly as the API does. Forms post back to the page, which
re-renders with the problems beside their fields (status 400, or the service's refusal status)
or redirects after success (303).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from sdgcities.node.accounts.models import Role
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, ApplicationState, Evidence
from sdgcities.node.cities.models import City
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import NodeError
from sdgcities.node.frameworks import Indicator
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.renewal import service as renewal
from sdgcities.node.reports.service import report_count
from sdgcities.node.review.access import clarifications_of, open_clarification_criteria
from sdgcities.node.review.clarification import respond_to_clarifications
from sdgcities.node.schemas import Id

from .. import fees as fee_pages
from ..i18n import N_, Language
from ..pages import render
from ..routes import LanguageDep
from ..session import WebCaller, check_csrf, page_access
from ..terms import LEVEL_NAMES, STAGE_NAMES
from .criteria import CriterionText, criterion_in
from .forms import AnswerForm, read_answer_form, read_clarification_form, slug
from .timeline import CERTIFICATE_STATUS_NAMES, NEXT_STEPS, STATE_NAMES, timeline

router = APIRouter(include_in_schema=False)

City_ = Annotated[WebCaller, page_access(Role.CITY_APPLICANT)]
Code = Annotated[str, Path(max_length=32)]
CertificateId = Annotated[str, Path(min_length=1, max_length=64)]
APPLICATION_PATH: Final = "/{lang:lang}/city/applications/{application_id}"

MISSING_ANSWER: Final = N_("Criterion %(code)s has no answer: write how your city meets it.")
NAMES: Final = {
    "stages": STAGE_NAMES,
    "levels": LEVEL_NAMES,
    "states": STATE_NAMES,
    "certificate_statuses": CERTIFICATE_STATUS_NAMES,
    "next_steps": NEXT_STEPS,
}


def application_url(language: Language, application_id: int | None, anchor: str = "") -> str:
    return f"/{language.code}/city/applications/{application_id}{anchor}"


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
    to_confirm: bool  # a renewal's answer carried over, not yet confirmed or updated


def render_application(
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
                to_confirm=bool(answer and answer.to_confirm),
            )
        )
    requests = clarifications_of(session=session, application_id=application.id)
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
        **fee_pages.fee_context(session=session, language=language, application=application),
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
    return render_application(
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
        return render_application(
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=404,
        )
    typed, update = read_answer_form(form, code)
    if update is None:
        return render_application(
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
        return render_application(
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
        application_url(language, application.id, f"?saved={code}#criterion-{slug(code)}"),
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
            return render_application(request, status_code=400, submit_errors=missing, **page)
    try:
        applications.submit_application(
            session=session,
            application=application,
            actor=caller.actor,
            node_id=state.settings.node_id,
            fee_required=state.settings.fees_required_before_submission,
        )
    except NodeError as exc:
        session.rollback()
        return render_application(request, status_code=exc.status_code, detail=exc.message, **page)
    return RedirectResponse(application_url(language, application.id), status_code=303)


@router.post(APPLICATION_PATH + "/criteria/{code}/confirm")
async def confirm_answer(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    application_id: Id,
    code: Code,
) -> Response:
    """Confirm a renewal's carried-over answer as it stands (node/renewal)."""
    await check_csrf(request, caller)
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    try:
        renewal.confirm_answer(
            session=session, application=application, code=code, actor=caller.actor
        )
    except NodeError as exc:
        session.rollback()
        return render_application(
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=exc.status_code,
            detail=exc.message,
        )
    return RedirectResponse(
        application_url(language, application.id, f"?saved={code}#criterion-{slug(code)}"),
        status_code=303,
    )


# Clarifications ---------------------------------------------------------------------------------


@router.post(APPLICATION_PATH + "/clarifications")
async def answer_clarifications(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    state: StateDep,
    application_id: Id,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    open_ids = [
        request_.id
        for request_ in clarifications_of(session=session, application_id=application.id)
        if request_.answered_at is None and request_.id is not None
    ]
    page: dict[str, Any] = {
        "session": session,
        "language": language,
        "caller": caller,
        "application": application,
    }
    if not open_ids:
        return render_application(
            request, status_code=409, refusal=N_("There is no open question to answer."), **page
        )
    typed, errors, response = read_clarification_form(form, open_ids)
    if response is None:
        return render_application(
            request,
            status_code=400,
            clarification_answers=typed,
            clarification_errors=errors,
            **page,
        )
    try:
        respond_to_clarifications(
            session=session,
            application=application,
            data=response,
            actor=caller.actor,
            settings=state.settings,
        )
    except NodeError as exc:
        session.rollback()
        return render_application(
            request,
            status_code=exc.status_code,
            clarification_answers=typed,
            detail=exc.message,
            **page,
        )
    return RedirectResponse(
        application_url(language, application.id, "?saved=answers#clarifications"),
        status_code=303,
    )
