"""Technical assistance pages (report §25, §37): a city asks for help with a gap of its stage
report and follows its requests; the secretariat assigns, notes and closes them.

§25: "When not eligible, cities ... will have the option to consult with UN-Habitat and United
Nations partners ... Cities may additionally solicit technical assistance, including from
consultancies, UN-Habitat's catalogue of services, United Nations country teams and United
Nations expert entities."

The pages call `node.assistance.service`, with the API's rights and refusals: another city's
request or application is 404, a criterion that is not a gap of the report 422, a closed request
409, each as the error page in the reader's language. A form with a missing or oversized field
is the same page again (400) with the problem beside the field and nothing typed lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.assistance import service
from sdgcities.node.assistance.models import (
    AssistanceRequest,
    Closure,
    HelpKind,
    RequestState,
)
from sdgcities.node.assistance.schemas import (
    MAX_MESSAGE_CHARS,
    AssignmentCreate,
    AssistanceRequestCreate,
    ClosureCreate,
    NoteCreate,
)
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.reports import service as reports
from sdgcities.node.reports.schemas import CriterionResult
from sdgcities.node.schemas import Id

from .city.pages import City_
from .city.report import criteria_in_language
from .i18n import N_, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access

router = APIRouter(include_in_schema=False)

Staff = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Code = Annotated[str, Path(max_length=32)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PAGE_SIZE: Final = 50

KIND_NAMES: Final = {
    HelpKind.ADVICE: N_("Advice"),
    HelpKind.CONSULTATION: N_("A consultation"),
    HelpKind.TOOL: N_("A tool from the catalogue"),
}
STATE_NAMES: Final = {
    RequestState.OPEN: N_("Open: waiting to be assigned"),
    RequestState.ASSIGNED: N_("Assigned: help is under way"),
    RequestState.CLOSED: N_("Closed"),
}
CLOSURE_NAMES: Final = {
    Closure.RESOLVED: N_("Resolved"),
    Closure.DECLINED: N_("Declined"),
}
DONE_NOTICES: Final = {
    "asked": N_("Your request is sent to the secretariat."),
    "assigned": N_("The request is assigned."),
    "noted": N_("The note is added."),
    "closed": N_("The request is closed."),
}
CHOOSE_KIND = N_("Choose the kind of help")
CHOOSE_TOOL = N_("Choose the tool you would like help with")
WRITE_MESSAGE = N_("Write your message (at most 2,000 characters)")
CHOOSE_ASSIGNEE = N_("Choose who takes the request")
WRITE_NOTE = N_("Write the note (at most 2,000 characters)")
CHOOSE_CLOSURE = N_("Choose whether the request is resolved or declined")
WRITE_REASON = N_("Write the reason (at most 1,000 characters)")


@dataclass(frozen=True)
class Assignee:
    """Who a request is assigned to, as the pages show it."""

    person: str | None = None  # a member of the secretariat (shown to staff only)
    provider: str | None = None  # a catalogue entry's provider
    entry: str | None = None  # that entry's title


def _assignee(session: Session, request: AssistanceRequest) -> Assignee | None:
    if request.assignee_user_id is not None:
        user = session.get(User, request.assignee_user_id)
        return Assignee(person=user.name if user else None)
    if request.assignee_tool_id is not None:
        tool = session.get(Tool, request.assignee_tool_id)
        if tool is not None:
            return Assignee(provider=tool.provider, entry=tool.title)
    return None


def _tool_titles(session: Session, requests: list[AssistanceRequest]) -> dict[int, str]:
    titles = {}
    for request in requests:
        if request.tool_id is not None:
            tool = session.get(Tool, request.tool_id)
            if tool is not None:
                titles[request.tool_id] = tool.title
    return titles


def _names() -> dict[str, Any]:
    return {
        "kinds": KIND_NAMES,
        "states": STATE_NAMES,
        "closures": CLOSURE_NAMES,
        "max_message": MAX_MESSAGE_CHARS,
    }


def field_errors(invalid: ValidationError, messages: dict[str, str]) -> dict[str, str]:
    """The first message of `messages` for each field the validation refused."""
    errors: dict[str, str] = {}
    for problem in invalid.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        if field in messages:
            errors.setdefault(field, messages[field])
    return errors


# The city: asking about a gap -------------------------------------------------------------------


def _gap(
    session: Session, caller: WebCaller, application_id: int, code: str
) -> tuple[Any, CriterionResult]:
    application = reports.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor
    )
    report = reports.get_report_or_raise(session=session, application=application)
    document = reports.document_of(report)
    for criterion in document.criteria:
        if criterion.code == code and criterion.gap:
            return application, criterion
    listed = ", ".join(document.gaps) or "none"
    raise InvalidRequest(
        f"{code} is not a gap of the stage report of application {application_id} "
        f"(its gaps: {listed}); help is asked for a gap"
    )


def _ask_page(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    application_id: int,
    code: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    application, criterion = _gap(session, caller, application_id, code)
    report = reports.document_of(
        reports.get_report_or_raise(session=session, application=application)
    )
    texts = criteria_in_language(session, application, report, language.code)
    return render(
        request,
        "assistance/ask.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        application=application,
        criterion=criterion,
        criterion_text=texts.get(criterion.code, criterion.text),
        values=values or {},
        errors=errors or {},
        names=_names(),
    )


ASK_PATH: Final = "/{lang:lang}/city/applications/{application_id}/assistance/{code}"


@router.get(ASK_PATH)
def ask_form(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    application_id: Id,
    code: Code,
) -> Response:
    """The form to ask for help with one gap of the application's stage report."""
    return _ask_page(
        request,
        session=session,
        language=language,
        caller=caller,
        application_id=application_id,
        code=code,
    )


@router.post(ASK_PATH)
async def ask(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    node: StateDep,
    application_id: Id,
    code: Code,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in ("kind", "tool_id", "message")}
    errors: dict[str, str] = {}
    if values["kind"] == HelpKind.TOOL and not values["tool_id"]:
        errors["tool_id"] = CHOOSE_TOOL
    try:
        data = AssistanceRequestCreate.model_validate(
            {
                "application_id": application_id,
                "criterion_code": code,
                "kind": values["kind"] or None,
                "tool_id": values["tool_id"] or None if values["kind"] == HelpKind.TOOL else None,
                "message": values["message"],
            }
        )
    except ValidationError as invalid:
        errors = {
            **field_errors(
                invalid,
                {"kind": CHOOSE_KIND, "tool_id": CHOOSE_TOOL, "message": WRITE_MESSAGE},
            ),
            **errors,
        }
    if errors:
        return _ask_page(
            request,
            session=session,
            language=language,
            caller=caller,
            application_id=application_id,
            code=code,
            values=values,
            errors=errors,
        )
    service.ask(session=session, actor=caller.actor, node_id=node.settings.node_id, data=data)
    return RedirectResponse(f"/{language.code}/city/assistance?done=asked", status_code=303)


@router.get("/{lang:lang}/city/assistance")
def city_requests(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    page: PageNumber = 1,
    done: str | None = None,
) -> Response:
    """The city's requests, newest first, with their progress."""
    found, count = service.list_requests(
        session=session, actor=caller.actor, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render(
        request,
        "assistance/city_requests.html",
        language=language,
        caller=caller,
        requests=found,
        count=count,
        page=page,
        pages=max(1, -(-count // PAGE_SIZE)),
        notes={r.id: service.notes_of(session=session, request=r) for r in found},
        assignees={r.id: _assignee(session, r) for r in found},
        tools=_tool_titles(session, found),
        done_notice=DONE_NOTICES.get(done or ""),
        names=_names(),
    )


# The secretariat --------------------------------------------------------------------------------


def _staff_base(language: Language) -> str:
    return f"/{language.code}/secretariat/assistance"


@router.get("/{lang:lang}/secretariat/assistance")
def staff_requests(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    state: RequestState | None = None,
    page: PageNumber = 1,
) -> Response:
    """Every request (filtered by state), and the requests counted by criterion and state."""
    found, count = service.list_requests(
        session=session,
        actor=caller.actor,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        state=state,
    )
    return render(
        request,
        "assistance/requests.html",
        language=language,
        caller=caller,
        base=_staff_base(language),
        requests=found,
        count=count,
        page=page,
        pages=max(1, -(-count // PAGE_SIZE)),
        state=state,
        query_string=urlencode({"state": state.value}) if state else "",
        assignees={r.id: _assignee(session, r) for r in found},
        summary=service.summary(session=session),
        names=_names(),
    )


def _request_page(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    request_id: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
) -> Response:
    found = service.get_request_or_raise(session=session, actor=caller.actor, request_id=request_id)
    return render(
        request,
        "assistance/request.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_staff_base(language),
        item=found,
        notes=service.notes_of(session=session, request=found),
        assignee=_assignee(session, found),
        tools=_tool_titles(session, [found]),
        people=service.assignable_people(session=session),
        providers=service.providers(session=session),
        values=values or {},
        errors=errors or {},
        done_notice=DONE_NOTICES.get(done or ""),
        names=_names(),
    )


@router.get("/{lang:lang}/secretariat/assistance/{request_id}")
def staff_request(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    request_id: Id,
    done: str | None = None,
) -> Response:
    """One request: what the city asked, its notes, and the forms to assign, note and close."""
    return _request_page(
        request,
        session=session,
        language=language,
        caller=caller,
        request_id=request_id,
        done=done,
    )


def _assignment(choice: str) -> AssignmentCreate | None:
    """The form's `person:ID` or `provider:ID` as the API's body."""
    kind, _, number = choice.partition(":")
    if not number.isdigit() or len(number) > 10 or kind not in ("person", "provider"):
        return None
    try:
        if kind == "person":
            return AssignmentCreate(user_id=int(number))
        return AssignmentCreate(tool_id=int(number))
    except ValidationError:
        return None


@router.post("/{lang:lang}/secretariat/assistance/{request_id}/{action}")
async def act(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    node: StateDep,
    request_id: Id,
    action: Annotated[str, Path(pattern="^(assignment|notes|closure)$")],
) -> Response:
    """Assigns the request, adds a note, or closes it, as the API's routes do."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in ("assignee", "text", "closure", "reason")}
    found = service.get_request_or_raise(
        session=session, actor=caller.actor, request_id=request_id, for_update=True
    )
    errors: dict[str, str] = {}
    if action == "assignment":
        assignment = _assignment(values["assignee"])
        if assignment is None:
            errors["assignee"] = CHOOSE_ASSIGNEE
        else:
            service.assign(session=session, actor=caller.actor, request=found, data=assignment)
    elif action == "notes":
        try:
            note = NoteCreate(text=values["text"])
        except ValidationError:
            errors["text"] = WRITE_NOTE
        else:
            service.add_note(session=session, actor=caller.actor, request=found, data=note)
    else:
        try:
            closure = ClosureCreate.model_validate(
                {"closure": values["closure"] or None, "reason": values["reason"]}
            )
        except ValidationError as invalid:
            errors = field_errors(invalid, {"closure": CHOOSE_CLOSURE, "reason": WRITE_REASON})
        else:
            service.close(
                session=session,
                actor=caller.actor,
                node_id=node.settings.node_id,
                request=found,
                data=closure,
            )
    if errors:
        return _request_page(
            request,
            session=session,
            language=language,
            caller=caller,
            request_id=request_id,
            values=values,
            errors=errors,
        )
    done = {"assignment": "assigned", "notes": "noted", "closure": "closed"}[action]
    return RedirectResponse(f"{_staff_base(language)}/{request_id}?done={done}", status_code=303)
