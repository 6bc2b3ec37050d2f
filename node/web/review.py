"""The reviewer's pages: their assignments, conflicts of interest, the assessment of each
criterion beside the city's answer and evidence, clarification requests, the lead reviewer's
consolidation and the stage report.

Every action goes through the review's workflow modules (and `node.reports.service` for the
consolidation and its report), as the JSON API's do; a page only turns a form into the service's
request and the service's refusal into words beside the field it concerns. An application not
assigned to the caller answers 404, as in the API; consolidating when one is not the lead, 403.

Evidence is previewed in the page from this node only: images in an `<img>`, PDFs in an
`<iframe>`, both from `/{lang}/review/applications/{id}/evidence/{evidence_id}`, which checks
the file against its digest as the API's download does and serves it with the type judged from
its bytes at upload and `nosniff`. Images and every download carry `sandbox` in their CSP; an
inline PDF cannot (Chromium refuses to run its PDF viewer in a sandboxed document) and is
framed by this node's own pages only (`frame-ancestors 'self'`): its bytes were judged a PDF,
so no browser reads them as a page of this site.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Annotated, Any, Final, TypeVar

from babel import numbers
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import (
    Application,
    ApplicationState,
    CriterionAnswer,
    Evidence,
)
from sdgcities.node.applications.routes import begin_writing
from sdgcities.node.cities.models import City
from sdgcities.node.config import Settings
from sdgcities.node.db import saved_id
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest, NotFound
from sdgcities.node.evidence import (
    EvidenceCorrupted,
    EvidenceMissing,
    EvidenceStore,
    MediaType,
    content_disposition,
)
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.translations import ShownCriterion, in_language
from sdgcities.node.reports import service as reports
from sdgcities.node.reports.render import pdf_filename, render_html, render_pdf
from sdgcities.node.reports.routes import HTML_HEADERS as REPORT_HTML_HEADERS
from sdgcities.node.reports.routes import PDF
from sdgcities.node.review import (
    access,
    assessment,
    assignment,
    clarification,
    conflicts,
    consolidation,
)
from sdgcities.node.review.models import (
    ClarificationRequest,
    CriterionAssessment,
    Recommendation,
    ReviewAssignment,
    ReviewConsolidation,
    ReviewerConflict,
    Verdict,
)
from sdgcities.node.review.schemas import (
    MAX_TEXT,
    AssessmentUpdate,
    ClarificationCreate,
    ConflictCreate,
    ConsolidatedVerdictCreate,
    ConsolidationCreate,
)

from .i18n import N_, Language
from .pages import gettext_for, render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access
from .terms import STAGE_NAMES

router = APIRouter(include_in_schema=False)
ReviewerPage = Annotated[WebCaller, page_access(Role.REVIEWER)]
ApplicationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EvidenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str, Path(max_length=32)]
PER_PAGE: Final = 50
T = TypeVar("T")

STATE_NAMES: Final[dict[str, str]] = {
    ApplicationState.DRAFT: N_("Draft"),
    ApplicationState.SUBMITTED: N_("Submitted"),
    ApplicationState.WITHDRAWN: N_("Withdrawn"),
    ApplicationState.UNDER_REVIEW: N_("Under review"),
    ApplicationState.CLARIFICATION_REQUESTED: N_("Clarification requested"),
    ApplicationState.RECOMMENDED: N_("Recommended"),
    ApplicationState.NOT_RECOMMENDED: N_("Not recommended"),
    ApplicationState.AWARDED: N_("Awarded"),
    ApplicationState.DECLINED: N_("Declined"),
}
VERDICT_NAMES: Final[dict[str, str]] = {
    Verdict.MET: N_("Met"),
    Verdict.PARTLY_MET: N_("Partly met"),
    Verdict.NOT_MET: N_("Not met"),
}
RECOMMENDATION_NAMES: Final[dict[str, str]] = {
    Recommendation.RECOMMENDED: N_("Recommended for certification"),
    Recommendation.NOT_RECOMMENDED: N_("Not recommended"),
}
PREVIEWED: Final = {MediaType.PDF: "pdf", MediaType.PNG: "image", MediaType.JPEG: "image"}
# The consolidation form's choice that leaves a criterion to the reviewers' verdicts.
KEEP_REVIEWERS: Final = "reviewers"
CONSOLIDATION_TEMPLATE: Final = "review/consolidation.html"


# What the pages show ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field the error is next to
    message: str  # a message id, translated by the template
    values: dict[str, Any] | None = None


@dataclass(frozen=True)
class OtherAssessment:
    reviewer: str
    assessment: CriterionAssessment


@dataclass(frozen=True)
class CriterionView:
    code: str
    shown: ShownCriterion | None
    answer: CriterionAnswer | None
    evidence: list[Evidence]
    own: CriterionAssessment | None
    others: list[OtherAssessment]
    most_cautious: Verdict | None


@dataclass(frozen=True)
class ReviewView:
    application: Application
    city: City
    own: ReviewAssignment
    assignments: list[tuple[ReviewAssignment, str]]
    conflict: ReviewerConflict | None
    criteria: list[CriterionView]
    clarifications: list[ClarificationRequest]
    consolidation: ReviewConsolidation | None
    has_report: bool
    preview_kinds: dict[int, str] = field(default_factory=dict)

    @property
    def can_assess(self) -> bool:
        """Whether the page offers the assessment forms (the service decides if they may)."""
        return (
            self.conflict is None
            and self.own.submitted_at is None
            and self.application.state is ApplicationState.UNDER_REVIEW
        )

    @property
    def can_ask(self) -> bool:
        return (
            self.conflict is None
            and self.own.submitted_at is None
            and self.application.state in assignment.OPEN_REVIEW_STATES
        )

    @property
    def waiting_for(self) -> list[str]:
        return [name for assignment, name in self.assignments if assignment.submitted_at is None]


def _names(session: Session, user_ids: Sequence[int]) -> dict[int, str]:
    return {
        user_id: user.name
        for user_id in set(user_ids)
        if (user := session.get(User, user_id)) is not None
    }


def _review_view(
    session: Session, actor: Actor, application_id: int, language: Language
) -> ReviewView:
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    assignments = access.assignments_of(session=session, application_id=application.id)
    own = next((a for a in assignments if a.reviewer_id == actor.user_id), None)
    if own is None:  # assigned once, then replaced: no longer theirs to see
        raise NotFound(f"no application {application_id}")
    names = _names(session, [a.reviewer_id for a in assignments])
    declared, _ = conflicts.list_conflicts(
        session=session, actor=actor, offset=0, limit=1, city_locode=application.city_locode
    )
    city = session.get(City, application.city_locode)
    assert city is not None  # a foreign key
    document = frameworks.document_of(
        applications.framework_of(session=session, application=application)
    )
    shown_stage = next(
        (
            s
            for s in in_language(document, language=language.code).stages
            if s.key == application.stage
        ),
        None,
    )
    shown = {c.code: c for c in shown_stage.criteria} if shown_stage else {}
    answers = {
        a.criterion_code: a
        for a in applications.answers_of(session=session, application=application)
    }
    evidence_by_code: dict[str, list[Evidence]] = {}
    for evidence in applications.evidence_of(session=session, application=application):
        evidence_by_code.setdefault(evidence.criterion_code, []).append(evidence)
    by_assignment = {a.id: a for a in assignments}
    own_by_code: dict[str, CriterionAssessment] = {}
    others_by_code: dict[str, list[OtherAssessment]] = {}
    for visible in assessment.visible_assessments(
        session=session, application=application, actor=actor
    ):
        if visible.assignment_id == own.id:
            own_by_code[visible.criterion_code] = visible
        else:
            reviewer = by_assignment[visible.assignment_id].reviewer_id
            others_by_code.setdefault(visible.criterion_code, []).append(
                OtherAssessment(names.get(reviewer, ""), visible)
            )
    criteria = []
    for code in document.criteria_codes(application.stage):
        verdicts = [other.assessment.verdict for other in others_by_code.get(code, [])]
        if code in own_by_code:
            verdicts.append(own_by_code[code].verdict)
        criteria.append(
            CriterionView(
                code=code,
                shown=shown.get(code),
                answer=answers.get(code),
                evidence=evidence_by_code.get(code, []),
                own=own_by_code.get(code),
                others=others_by_code.get(code, []),
                most_cautious=consolidation.most_cautious(verdicts) if verdicts else None,
            )
        )
    return ReviewView(
        application=application,
        city=city,
        own=own,
        assignments=[(a, names.get(a.reviewer_id, "")) for a in assignments],
        conflict=declared[0] if declared else None,
        criteria=criteria,
        clarifications=access.clarifications_of(session=session, application_id=application.id),
        consolidation=access.consolidation_of(session=session, application_id=application.id),
        has_report=reports.report_count(session=session, application=application) > 0,
        preview_kinds={
            saved_id(e.id): PREVIEWED[e.media_type]
            for items in evidence_by_code.values()
            for e in items
            if e.media_type in PREVIEWED
        },
    )


@dataclass(frozen=True)
class FormFields:
    """The markup each form field needs for its error: plain calls, not template macros, as the
    assessment page has some twenty forms."""

    by_field: Mapping[str, FieldError]
    gettext: Callable[..., str]

    def group(self, name: str) -> str:
        return "form-group has-error" if name in self.by_field else "form-group"

    def described(self, name: str, hint: str | None = None) -> Markup:
        ids = ([hint] if hint else []) + ([f"{name}-error"] if name in self.by_field else [])
        if not ids:
            return Markup("")
        return Markup(' aria-describedby="{}"').format(" ".join(ids))

    def error(self, name: str) -> Markup:
        found = self.by_field.get(name)
        if found is None:
            return Markup("")
        return Markup(
            '<p class="field-error" id="{}-error"><span class="visually-hidden">{}:</span> {}</p>'
        ).format(name, self.gettext("Error"), self.gettext(found.message, **(found.values or {})))


def _common(language: Language) -> dict[str, Any]:
    gettext, _ = gettext_for(language)
    return {
        "stage_names": STAGE_NAMES,
        "state_names": STATE_NAMES,
        "verdict_names": VERDICT_NAMES,
        "recommendation_names": RECOMMENDATION_NAMES,
        "verdict_tags": {
            verdict: Markup('<span class="status verdict-{}">{}</span>').format(
                verdict.value, gettext(VERDICT_NAMES[verdict])
            )
            for verdict in Verdict
        },
        "verdicts": list(Verdict),
        "base": f"/{language.code}/review",
        "number": partial(_number, language.locale),
    }


@lru_cache(maxsize=4096)
def _number(locale: str, value: float) -> str:
    # Babel's formatting costs tens of microseconds a call; a page shows some eighty numbers.
    return numbers.format_decimal(value, locale=locale)


def _errors_context(errors: Sequence[FieldError], language: Language) -> dict[str, Any]:
    by_field = {e.field: e for e in errors}
    return {
        "errors": list(errors),
        "error_by_field": by_field,
        "fields": FormFields(by_field, gettext_for(language)[0]),
    }


def _review_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    view: ReviewView,
    status_code: int = 200,
    errors: Sequence[FieldError] = (),
    refusal: str | None = None,
    sent: dict[str, Any] | None = None,
    template: str = "review/application.html",
) -> HTMLResponse:
    return render(
        request,
        template,
        language=language,
        caller=caller,
        status_code=status_code,
        view=view,
        refusal=refusal,
        sent=sent or {},
        done=request.query_params.get("done", ""),
        keep_reviewers=KEEP_REVIEWERS,
        **_errors_context(errors, language),
        **_common(language),
    )


def _refusal(view: ReviewView, *, consolidating: bool) -> str:
    """Why the service refused a change (a `Conflict`), in words the page can translate."""
    if view.conflict is not None:
        return N_(
            "You declared a conflict of interest with this city, so you can no longer act on "
            "this review. An administrator will put another reviewer in your place."
        )
    if view.application.state is ApplicationState.CLARIFICATION_REQUESTED:
        return N_(
            "The city is answering a clarification request: the review resumes once it has "
            "answered."
        )
    if view.application.state not in assignment.OPEN_REVIEW_STATES:
        return N_("This review is closed: nothing in it can change any more.")
    if consolidating and view.waiting_for:
        return N_("Every reviewer must submit their review before the lead consolidates it.")
    if not consolidating and view.own.submitted_at is not None:
        return N_("You have submitted your review: your assessments can no longer change.")
    return N_("This cannot be done now.")


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _check_paragraphs(value: str, field_id: str, missing: str) -> FieldError | None:
    if not value:
        return FieldError(field_id, missing)
    if len(value) > MAX_TEXT:
        return FieldError(
            field_id,
            N_("Write at most %(count)s characters."),
            {"count": MAX_TEXT},
        )
    return None


def _invalid_text(field_id: str) -> FieldError:
    return FieldError(field_id, N_("Remove the control characters from this text."))


async def _in_thread(work: Callable[[], T]) -> T:
    return await run_in_threadpool(work)


# Assignments and conflicts ----------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentRow:
    assignment: ReviewAssignment
    application: Application
    city: str


@router.get("/{lang:lang}/review")
def assignments_page(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    found, count = assignment.list_assignments(
        session=session, actor=caller.actor, offset=(page - 1) * PER_PAGE, limit=PER_PAGE
    )
    rows = []
    for assigned in found:
        application = session.get(Application, assigned.application_id)
        assert application is not None
        city = session.get(City, application.city_locode)
        rows.append(AssignmentRow(assigned, application, city.name if city else ""))
    return render(
        request,
        "review/assignments.html",
        language=language,
        caller=caller,
        rows=rows,
        count=count,
        page=page,
        pages=max(1, -(-count // PER_PAGE)),
        **_common(language),
    )


def _conflicts_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    status_code: int = 200,
    errors: Sequence[FieldError] = (),
    city: str = "",
    reason: str = "",
) -> HTMLResponse:
    declared, _ = conflicts.list_conflicts(session=session, actor=caller.actor, offset=0, limit=200)
    cities = {c.city_locode: session.get(City, c.city_locode) for c in declared}
    return render(
        request,
        "review/conflicts.html",
        language=language,
        caller=caller,
        status_code=status_code,
        conflicts=declared,
        city_names={code: found.name for code, found in cities.items() if found is not None},
        city=city,
        reason=reason,
        declared=request.query_params.get("declared", ""),
        **_errors_context(errors, language),
        **_common(language),
    )


@router.get("/{lang:lang}/review/conflicts")
def conflicts_page(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    city: Annotated[str, Query(max_length=6)] = "",
) -> Response:
    return _conflicts_page(
        request, language=language, caller=caller, session=session, city=city.upper()
    )


@router.post("/{lang:lang}/review/conflicts")
async def declare_conflict(
    request: Request, language: LanguageDep, caller: ReviewerPage, session: SessionDep
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    city, reason = _text(form, "city").upper(), _text(form, "reason")
    errors = []
    if not city:
        errors.append(
            FieldError("conflict-city", N_("Enter the city's UN/LOCODE, such as KE-NBO."))
        )
    error = _check_paragraphs(
        reason, "conflict-reason", N_("Say why you cannot review this city impartially.")
    )
    if error:
        errors.append(error)
    data = None
    if not errors:
        try:
            data = ConflictCreate(city_locode=city, reason=reason)
        except ValidationError as invalid:
            fields = {str(e["loc"][0]) for e in invalid.errors() if e["loc"]}
            if "city_locode" in fields:
                errors.append(
                    FieldError("conflict-city", N_("Enter the city's UN/LOCODE, such as KE-NBO."))
                )
            if "reason" in fields:
                errors.append(_invalid_text("conflict-reason"))
    if data is not None:
        declared = data

        def declare() -> None:
            conflicts.declare_conflict(session=session, data=declared, actor=caller.actor)

        try:
            await _in_thread(declare)
        except NotFound:
            errors.append(FieldError("conflict-city", N_("This node has no city with this code.")))
        except Conflict:
            session.rollback()
            return await _in_thread(
                lambda: _conflicts_page(
                    request,
                    language=language,
                    caller=caller,
                    session=session,
                    status_code=409,
                    errors=[
                        FieldError(
                            "conflict-city",
                            N_("You have already declared a conflict of interest with this city."),
                        )
                    ],
                    city=city,
                    reason=reason,
                )
            )
        else:
            return RedirectResponse(
                f"/{language.code}/review/conflicts?declared={city}", status_code=303
            )
    return await _in_thread(
        lambda: _conflicts_page(
            request,
            language=language,
            caller=caller,
            session=session,
            status_code=400,
            errors=errors,
            city=city[:6],
            reason=reason[:MAX_TEXT],
        )
    )


# The assessment page ----------------------------------------------------------------------------


def _application_path(language: Language, application_id: int) -> str:
    return f"/{language.code}/review/applications/{application_id}"


@router.get("/{lang:lang}/review/applications/{application_id}")
def application_page(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    application_id: ApplicationId,
) -> Response:
    view = _review_view(session, caller.actor, application_id, language)
    return _review_page(request, language=language, caller=caller, view=view)


@dataclass(frozen=True)
class Posted:
    """A form posted to an application's review: the service's call, and what the page
    answers (a redirect after success; the page again with what went wrong)."""

    request: Request
    language: Language
    caller: WebCaller
    session: Session
    application_id: int
    template: str = "review/application.html"

    async def act(self, work: Callable[[Application], object]) -> None:
        """`work` on the application, locked for the change (404 when not assigned)."""

        def locked() -> None:
            work(
                applications.get_application_or_raise(
                    session=self.session,
                    application_id=self.application_id,
                    actor=self.caller.actor,
                    for_update=True,
                )
            )

        await _in_thread(locked)

    def done(self, what: str, anchor: str = "") -> RedirectResponse:
        path = _application_path(self.language, self.application_id)
        return RedirectResponse(f"{path}?done={what}{anchor}", status_code=303)

    async def again(
        self,
        status_code: int,
        *,
        errors: Sequence[FieldError] = (),
        refused: bool = False,
        sent: dict[str, Any] | None = None,
    ) -> HTMLResponse:
        """The page again, with what went wrong: nothing the refused request did is kept."""
        self.session.rollback()

        def page() -> HTMLResponse:
            view = _review_view(self.session, self.caller.actor, self.application_id, self.language)
            consolidating = self.template == CONSOLIDATION_TEMPLATE
            return _review_page(
                self.request,
                language=self.language,
                caller=self.caller,
                view=view,
                status_code=status_code,
                errors=errors,
                refusal=_refusal(view, consolidating=consolidating) if refused else None,
                sent=sent,
                template=self.template,
            )

        return await _in_thread(page)


@router.post("/{lang:lang}/review/applications/{application_id}/criteria/{code}")
async def assess_criterion(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: SessionDep,
    application_id: ApplicationId,
    code: Code,
) -> Response:
    await check_csrf(request, caller)
    posted = Posted(request, language, caller, session, application_id)
    form = await request.form()
    verdict, reasons = _text(form, "verdict"), _text(form, "reasons")
    chosen = [value for value in form.getlist("evidence") if isinstance(value, str)]
    errors: list[FieldError] = []
    if verdict not in {v.value for v in Verdict}:
        errors.append(FieldError(f"verdict-{code}", N_("Choose a verdict for this criterion.")))
    error = _check_paragraphs(reasons, f"reasons-{code}", N_("Give the reasons for your verdict."))
    if error:
        errors.append(error)
    evidence_ids = [int(value) for value in chosen if value.isdigit() and len(value) < 10]
    if len(evidence_ids) != len(chosen):
        errors.append(FieldError(f"evidence-{code}", N_("Choose evidence from the list.")))
    sent = {"code": code, "verdict": verdict, "reasons": reasons[:MAX_TEXT], "evidence": chosen}
    if errors:
        return await posted.again(400, errors=errors, sent=sent)
    try:
        data = AssessmentUpdate(
            verdict=Verdict(verdict), reasons=reasons, evidence_ids=evidence_ids
        )
    except ValidationError:
        return await posted.again(400, errors=[_invalid_text(f"reasons-{code}")], sent=sent)
    try:
        await posted.act(
            lambda application: assessment.assess_criterion(
                session=session, application=application, code=code, data=data, actor=caller.actor
            )
        )
    except Conflict:
        return await posted.again(409, refused=True, sent=sent)
    except InvalidRequest:
        wrong = FieldError(f"evidence-{code}", N_("Choose evidence attached to this criterion."))
        return await posted.again(400, errors=[wrong], sent=sent)
    return posted.done("assessed", f"#criterion-{code}")


@router.post("/{lang:lang}/review/applications/{application_id}/submit")
async def submit_review(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: SessionDep,
    application_id: ApplicationId,
) -> Response:
    await check_csrf(request, caller)
    posted = Posted(request, language, caller, session, application_id)
    try:
        await posted.act(
            lambda application: assessment.submit_review(
                session=session, application=application, actor=caller.actor
            )
        )
    except Conflict:
        return await posted.again(409, refused=True)
    except InvalidRequest as refused:
        message = N_("Assess this criterion before you submit your review.")
        missing = refused.extra.get("missing", [])
        return await posted.again(
            400, errors=[FieldError(f"verdict-{code}", message) for code in missing]
        )
    return posted.done("submitted")


@router.post("/{lang:lang}/review/applications/{application_id}/clarifications")
async def ask_clarification(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: SessionDep,
    state: StateDep,
    application_id: ApplicationId,
) -> Response:
    await check_csrf(request, caller)
    posted = Posted(request, language, caller, session, application_id)
    form = await request.form()
    criteria = [value for value in form.getlist("criteria") if isinstance(value, str)]
    question = _text(form, "question")
    errors: list[FieldError] = []
    not_listed = FieldError("clarification-criteria", N_("Choose criteria from the list."))
    if not criteria:
        errors.append(
            FieldError("clarification-criteria", N_("Choose at least one criterion to ask about."))
        )
    error = _check_paragraphs(
        question, "clarification-question", N_("Write the question the city should answer.")
    )
    if error:
        errors.append(error)
    sent = {"criteria": criteria, "question": question[:MAX_TEXT]}
    if errors:
        return await posted.again(400, errors=errors, sent=sent)
    try:
        data = ClarificationCreate(criteria=criteria, question=question)
    except ValidationError as invalid:
        fields = {str(e["loc"][0]) for e in invalid.errors() if e["loc"]}
        wrong = _invalid_text("clarification-question") if "question" in fields else not_listed
        return await posted.again(400, errors=[wrong], sent=sent)
    try:
        await posted.act(
            lambda application: clarification.request_clarification(
                session=session,
                application=application,
                data=data,
                actor=caller.actor,
                settings=state.settings,
            )
        )
    except Conflict:
        return await posted.again(409, refused=True, sent=sent)
    except InvalidRequest:
        return await posted.again(400, errors=[not_listed], sent=sent)
    return posted.done("asked")


# Consolidation ----------------------------------------------------------------------------------


def _lead_view(
    session: Session, actor: Actor, application_id: int, language: Language
) -> ReviewView:
    view = _review_view(session, actor, application_id, language)
    if not view.own.lead:
        raise Forbidden(f"only the lead reviewer of application {application_id} consolidates it")
    return view


@router.get("/{lang:lang}/review/applications/{application_id}/consolidation")
def consolidation_page(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    application_id: ApplicationId,
) -> Response:
    view = _lead_view(session, caller.actor, application_id, language)
    return _review_page(
        request, language=language, caller=caller, view=view, template=CONSOLIDATION_TEMPLATE
    )


@router.post("/{lang:lang}/review/applications/{application_id}/consolidation")
async def consolidate(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: SessionDep,
    state: StateDep,
    application_id: ApplicationId,
) -> Response:
    await check_csrf(request, caller)
    posted = Posted(request, language, caller, session, application_id, CONSOLIDATION_TEMPLATE)
    # The lead's role first: anyone else is refused whatever they sent.
    view = await _in_thread(lambda: _lead_view(session, caller.actor, application_id, language))
    form = await request.form()
    errors: list[FieldError] = []
    verdicts: list[ConsolidatedVerdictCreate] = []
    sent: dict[str, Any] = {"verdicts": {}, "reasons": {}}
    for criterion in view.criteria:
        code = criterion.code
        chosen, reasons = _text(form, f"verdict-{code}"), _text(form, f"reasons-{code}")
        sent["verdicts"][code], sent["reasons"][code] = chosen, reasons[:MAX_TEXT]
        if chosen == KEEP_REVIEWERS:
            continue
        if chosen not in {v.value for v in Verdict}:
            errors.append(
                FieldError(
                    f"verdict-{code}", N_("Choose the consolidated verdict of this criterion.")
                )
            )
            continue
        error = _check_paragraphs(
            reasons, f"reasons-{code}", N_("Give the reasons for the verdict you chose.")
        )
        if error:
            errors.append(error)
            continue
        try:
            verdicts.append(
                ConsolidatedVerdictCreate(code=code, verdict=Verdict(chosen), reasons=reasons)
            )
        except ValidationError:
            errors.append(_invalid_text(f"reasons-{code}"))
    recommendation, summary = _text(form, "recommendation"), _text(form, "summary")
    sent["recommendation"], sent["summary"] = recommendation, summary[:MAX_TEXT]
    if recommendation not in {r.value for r in Recommendation}:
        errors.append(FieldError("recommendation", N_("Choose a recommendation.")))
    error = _check_paragraphs(
        summary, "summary", N_("Give the grounds of the recommendation for the committee.")
    )
    if error:
        errors.append(error)
    if errors:
        return await posted.again(400, errors=errors, sent=sent)
    try:
        data = ConsolidationCreate(
            recommendation=Recommendation(recommendation), summary=summary, verdicts=verdicts
        )
    except ValidationError:
        return await posted.again(400, errors=[_invalid_text("summary")], sent=sent)
    settings: Settings = state.settings
    try:
        await posted.act(
            lambda application: reports.conclude_review(
                session=session,
                settings=settings,
                application=application,
                data=data,
                actor=caller.actor,
            )
        )
    except Conflict:
        return await posted.again(409, refused=True, sent=sent)
    except InvalidRequest as refused:
        gaps: dict[str, str] = refused.extra.get("gaps", {})
        message = N_("A recommendation needs every criterion met; this one is %(verdict)s.")
        return await posted.again(
            400,
            errors=[
                FieldError(f"verdict-{code}", message, {"verdict": VERDICT_NAMES[verdict]})
                for code, verdict in gaps.items()
            ],
            sent=sent,
        )
    return posted.done("consolidated")


# Evidence and the stage report ------------------------------------------------------------------

_SERVED: Final = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
_SANDBOXED: Final = {**_SERVED, "Content-Security-Policy": "default-src 'none'; sandbox"}
# Framed by this node's pages only; no `sandbox`, which Chromium's PDF viewer refuses.
_INLINE_PDF: Final = {
    **_SERVED,
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _inline(filename: str) -> str:
    return "inline" + content_disposition(filename).removeprefix("attachment")


@router.get("/{lang:lang}/review/applications/{application_id}/evidence/{evidence_id}")
def evidence_file(
    request: Request,
    language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    state: StateDep,
    application_id: ApplicationId,
    evidence_id: EvidenceId,
    download: Annotated[bool, Query()] = False,
) -> Response:
    """An evidence file, shown in the page (PDFs and images) or as an attachment."""
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor
    )
    evidence = applications.get_evidence_or_raise(
        session=session, application=application, evidence_id=evidence_id
    )
    store = EvidenceStore(state.settings.evidence_dir, max_bytes=state.settings.evidence_max_bytes)
    try:
        path = store.open_verified(evidence.digest)
    except (EvidenceCorrupted, EvidenceMissing) as exc:
        # Answered, not raised: the audit entry must be committed with the response.
        begin_writing(session)
        applications.record_integrity_failure(
            session=session, evidence=evidence, actor=caller.actor, reason=type(exc).__name__
        )
        return render(
            request,
            "review/unreadable.html",
            language=language,
            caller=caller,
            status_code=409,
            application_path=_application_path(language, application_id),
            filename=evidence.filename,
        )
    kind = PREVIEWED.get(evidence.media_type)
    if download or kind is None:
        disposition, headers = content_disposition(evidence.filename), _SANDBOXED
    else:
        disposition = _inline(evidence.filename)
        headers = _INLINE_PDF if kind == "pdf" else _SANDBOXED
    return FileResponse(
        path,
        media_type=evidence.media_type.value,
        headers={**headers, "Content-Disposition": disposition},
    )


def _report_document(session: Session, actor: Actor, application_id: int) -> Any:
    application = reports.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    return reports.document_of(
        reports.get_report_or_raise(session=session, application=application)
    )


@router.get("/{lang:lang}/review/applications/{application_id}/report.html")
def report_html(
    _language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    application_id: ApplicationId,
) -> Response:
    """The stage report, rendered as the API renders it."""
    document = _report_document(session, caller.actor, application_id)
    return HTMLResponse(render_html(document), headers=REPORT_HTML_HEADERS)


@router.get("/{lang:lang}/review/applications/{application_id}/report.pdf")
def report_pdf(
    _language: LanguageDep,
    caller: ReviewerPage,
    session: ReadSessionDep,
    application_id: ApplicationId,
) -> Response:
    document = _report_document(session, caller.actor, application_id)
    return Response(
        render_pdf(document),
        media_type=PDF,
        headers={**_SERVED, "Content-Disposition": content_disposition(pdf_filename(document))},
    )
