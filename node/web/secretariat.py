"""The secretariat's and administrators' pages: a hub, the audit log (searchable by actor,
action and dates), the people of the node (invite, deactivate, reactivate), and assigning the
reviewers of a submitted application.

Everything is done by the services the API calls, with the API's rights: the audit log, the
list of people, their deactivation and the assignment of reviewers are the administrators'
(`/admin/...` and `POST /applications/{id}/reviewers` are); inviting is the secretariat's too.
A refusal of a service (a second account for one email, the last administrator deactivated, an
application no longer submitted) is the error page in the reader's language, with the status
the API would answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from sdgcities.node.accounts import service as accounts
from sdgcities.node.accounts.invitations import create_invited_user
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.accounts.schemas import UserCreate, UserUpdate
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import ApplicationState
from sdgcities.node.audit import service as audit
from sdgcities.node.catalogue import service as catalogue
from sdgcities.node.catalogue.models import ToolKind
from sdgcities.node.catalogue.schemas import ToolCreate
from sdgcities.node.certificates import service as certificates
from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.cities import service as cities
from sdgcities.node.cities.schemas import CityCreate
from sdgcities.node.committee import meetings
from sdgcities.node.committee.models import Meeting, MeetingStatus
from sdgcities.node.committee.schemas import MeetingCreate
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.review import access, assignment
from sdgcities.node.timeutil import utcnow

from . import committee_terms
from .account.mails import send_invitation
from .account.profile import ROLE_LABELS
from .i18n import BY_CODE, LANGUAGES, N_, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access
from .terms import LEVEL_NAMES, STAGE_NAMES

router = APIRouter(include_in_schema=False)
Validated = TypeVar("Validated", bound=BaseModel)
Staff = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Administrator = Annotated[WebCaller, page_access(Role.ADMINISTRATOR)]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
CertificateId = Annotated[str, Path(min_length=1, max_length=64)]
AUDIT_PAGE_SIZE: Final = 50
PEOPLE_PAGE_SIZE: Final = 50
WAITING_SHOWN: Final = 100
MAX_SEARCH_CHARS: Final = 200
INVITABLE_ROLES: Final = (
    Role.CITY_APPLICANT,
    Role.REVIEWER,
    Role.COMMITTEE_MEMBER,
    Role.SECRETARIAT,
    Role.ADMINISTRATOR,
)
DONE_NOTICES: Final = {
    "invited": N_("The invitation is sent: the person receives a link to set a password."),
    "deactivated": N_("The account is deactivated."),
    "reactivated": N_("The account is active again."),
    "assigned": N_("The reviewers are assigned: the application is under review."),
}
# Invitation fields as the form names them, and the message for each when it is not right.
INVITATION_MESSAGES: Final = {
    "name": N_("Enter the person's name (at most 200 characters)"),
    "email": N_("Enter a valid email address"),
    "role": N_("Choose a role"),
    "city_locode": N_("Enter the city's UN/LOCODE, like KE-NBO"),
    "stakeholder_category": N_("Choose the member's stakeholder category"),
    "language": N_("Choose a language"),
}
CITY_NEEDED = N_("A city applicant's invitation names their city")
CITY_NOT_WANTED = N_("Only a city applicant's invitation names a city")
CATEGORY_NEEDED = N_("A committee member's invitation names their stakeholder category")
ACTOR_UNKNOWN = N_("No one has this email address or number")
DATE_INVALID = N_("Enter a date like 2026-01-31")
DATES_REVERSED = N_("The end date is before the start date")
SEARCH_TOO_LONG = N_("Enter at most 200 characters")
CHOOSE_REVIEWERS = N_("Choose at least one reviewer")
CHOOSE_LEAD = N_("Choose the lead among the reviewers chosen")


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field the error is next to
    message: str  # a message id, translated by the template


def _validated(
    model: type[Validated],
    payload: dict[str, Any],
    *,
    messages: Mapping[str, str],
    errors: list[FieldError],
    fallback: str,
) -> Validated | None:
    """`payload` as the API's request model, or None with each field's message added to
    `errors` (a rule across fields is shown beside `fallback`)."""
    try:
        return model.model_validate(payload)
    except ValidationError as invalid:
        for problem in invalid.errors():
            named = str(problem["loc"][0]) if problem["loc"] else ""
            field = named if named in messages else fallback
            if all(error.field != field for error in errors):
                errors.append(FieldError(field, messages[field]))
        return None


def _in_order(errors: list[FieldError], messages: Mapping[str, str]) -> None:
    """The errors in the order of the form's fields, as the summary lists them."""
    order = list(messages)
    errors.sort(key=lambda error: order.index(error.field))


def _base(language: Language) -> str:
    return f"/{language.code}/secretariat"


def _form_state(done: str | None, errors: list[FieldError]) -> dict[str, Any]:
    return {
        "done_notice": DONE_NOTICES.get(done or ""),
        "errors": errors,
        "error_by_field": {error.field: error for error in errors},
    }


@dataclass(frozen=True, slots=True)
class SearchableList:
    """A searchable list under the administrators' form that adds to it (the cities, the
    catalogue): `find(session, actor, q, offset, limit)` gives a page of its rows and their count,
    which the template reads as `rows_name`."""

    template: str
    page_size: int
    rows_name: str
    find: Callable[[Session, Actor, str | None, int, int], tuple[Sequence[Any], int]]
    extra: Mapping[str, Any]

    def page(
        self,
        request: Request,
        *,
        language: Language,
        caller: WebCaller,
        session: Session,
        search: str = "",
        page: int = 1,
        values: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
        added: bool = False,
    ) -> Response:
        """The list's page of `search`; a refused form (`errors`) shows again with what was
        entered (`values`), at 400."""
        rows, count = self.find(
            session, caller.actor, search or None, (page - 1) * self.page_size, self.page_size
        )
        listing: dict[str, Any] = {self.rows_name: rows, **self.extra}
        return render(
            request,
            self.template,
            language=language,
            caller=caller,
            status_code=400 if errors else 200,
            base=_base(language),
            count=count,
            page=page,
            pages=max(1, -(-count // self.page_size)),
            search=search,
            query_string=urlencode({"q": search}) if search else "",
            values=values or {},
            added=added,
            is_administrator=caller.actor.role is Role.ADMINISTRATOR,
            **listing,
            **_form_state(None, errors or []),
        )


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    found = session.exec(select(User).where(User.id.in_(user_ids))).all()  # type: ignore[union-attr]
    return {user.id: user.name for user in found if user.id is not None}


# The hub ----------------------------------------------------------------------------------------


@router.get("/{lang:lang}/secretariat")
def hub_page(
    request: Request, language: LanguageDep, caller: Staff, session: ReadSessionDep
) -> Response:
    """The secretariat's pages, and the applications waiting for their reviewers."""
    waiting, waiting_count = applications.list_applications(
        session=session,
        actor=caller.actor,
        offset=0,
        limit=WAITING_SHOWN,
        state=ApplicationState.SUBMITTED,
    )
    return render(
        request,
        "secretariat/hub.html",
        language=language,
        caller=caller,
        base=_base(language),
        is_administrator=caller.actor.role is Role.ADMINISTRATOR,
        waiting=waiting,
        waiting_count=waiting_count,
    )


# The audit log ----------------------------------------------------------------------------------


def _day(text: str, field: str, errors: list[FieldError]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(field, DATE_INVALID))
        return None


def _actor_id(session: Session, text: str, errors: list[FieldError]) -> int | None:
    """The person a search names by number or by email."""
    if not text:
        return None
    if text.isdigit() and len(text) < 10:
        if session.get(User, int(text)) is not None:
            return int(text)
    else:
        found = session.exec(select(User).where(User.email == text.lower())).first()
        if found is not None:
            return found.id
    errors.append(FieldError("actor", ACTOR_UNKNOWN))
    return None


@router.get("/{lang:lang}/secretariat/audit")
def audit_page(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: ReadSessionDep,
    actor: Annotated[str, Query(max_length=1000)] = "",
    action: Annotated[str, Query(max_length=1000)] = "",
    since: Annotated[str, Query(alias="from", max_length=1000)] = "",
    until: Annotated[str, Query(alias="to", max_length=1000)] = "",
    page: PageNumber = 1,
) -> Response:
    """The audit log, newest first, filtered by who acted, the action and the days (inclusive)."""
    errors: list[FieldError] = []
    actor, action, since, until = (value.strip() for value in (actor, action, since, until))
    for field, value in (("actor", actor), ("action", action)):
        if len(value) > MAX_SEARCH_CHARS:
            errors.append(FieldError(field, SEARCH_TOO_LONG))
    actor_id = _actor_id(session, actor, errors) if len(actor) <= MAX_SEARCH_CHARS else None
    first_day = _day(since, "from", errors)
    last_day = _day(until, "to", errors)
    if first_day and last_day and last_day < first_day:
        errors.append(FieldError("to", DATES_REVERSED))
    entries: list[Any] = []
    count = 0
    if not errors:
        entries, count = audit.list_entries(
            session=session,
            offset=(page - 1) * AUDIT_PAGE_SIZE,
            limit=AUDIT_PAGE_SIZE,
            action=action or None,
            actor_user_id=actor_id,
            since=datetime.combine(first_day, time(), UTC) if first_day else None,
            before=datetime.combine(last_day + timedelta(days=1), time(), UTC)
            if last_day
            else None,
        )
    query = {"actor": actor, "action": action, "from": since, "to": until}
    return render(
        request,
        "secretariat/audit.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language),
        entries=entries,
        count=count,
        page=page,
        pages=max(1, -(-count // AUDIT_PAGE_SIZE)),
        query=query,
        query_string=urlencode({key: value for key, value in query.items() if value}),
        names=_names(session, {e.actor_user_id for e in entries if e.actor_user_id}),
        **_form_state(None, errors),
    )


# People -----------------------------------------------------------------------------------------


@router.get("/{lang:lang}/secretariat/people")
def people_page(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: ReadSessionDep,
    page: PageNumber = 1,
    done: str | None = None,
) -> Response:
    people, count = accounts.list_users(
        session=session, offset=(page - 1) * PEOPLE_PAGE_SIZE, limit=PEOPLE_PAGE_SIZE
    )
    return render(
        request,
        "secretariat/people.html",
        language=language,
        caller=caller,
        base=_base(language),
        people=people,
        count=count,
        page=page,
        pages=max(1, -(-count // PEOPLE_PAGE_SIZE)),
        role_labels=ROLE_LABELS,
        **_form_state(done, []),
    )


@router.post("/{lang:lang}/secretariat/people/{user_id}/active")
async def set_active(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    user_id: RecordId,
) -> Response:
    """Deactivates (`active=false`) or reactivates an account, as `PATCH /admin/users/{id}`."""
    await check_csrf(request, caller)
    form = await request.form()
    active = form.get("active") == "true"
    user = accounts.get_user_or_raise(session=session, user_id=user_id)
    accounts.update_user(
        session=session, user=user, data=UserUpdate(active=active), actor=caller.actor
    )
    done = "reactivated" if active else "deactivated"
    return RedirectResponse(f"{_base(language)}/people?done={done}", status_code=303)


def _invitation_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    values: dict[str, str],
    errors: list[FieldError],
    done: str | None = None,
) -> Response:
    roles = [
        role
        for role in INVITABLE_ROLES
        if role is not Role.ADMINISTRATOR or caller.actor.role is Role.ADMINISTRATOR
    ]
    return render(
        request,
        "secretariat/invite.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language),
        roles=roles,
        role_labels=ROLE_LABELS,
        languages=LANGUAGES,
        categories=committee_terms.CATEGORY_NAMES,
        values=values,
        is_administrator=caller.actor.role is Role.ADMINISTRATOR,
        **_form_state(done, errors),
    )


@router.get("/{lang:lang}/secretariat/people/invite")
def invitation_form(
    request: Request, language: LanguageDep, caller: Staff, done: str | None = None
) -> Response:
    values = {"language": language.code, "role": ""}
    return _invitation_page(
        request, language=language, caller=caller, values=values, errors=[], done=done
    )


@router.post("/{lang:lang}/secretariat/people/invite")
async def invite(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Creates the account and mails the link, as `POST /invitations` does."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {
        name: str(form.get(name, "")).strip()
        for name in ("name", "email", "role", "city_locode", "stakeholder_category", "language")
    }
    values["city_locode"] = values["city_locode"].upper()
    errors: list[FieldError] = []
    if values["language"] not in BY_CODE:
        errors.append(FieldError("language", INVITATION_MESSAGES["language"]))
    role = values["role"]
    if role == Role.CITY_APPLICANT and not values["city_locode"]:
        errors.append(FieldError("city_locode", CITY_NEEDED))
    if role != Role.CITY_APPLICANT and values["city_locode"]:
        errors.append(FieldError("city_locode", CITY_NOT_WANTED))
    if role == Role.COMMITTEE_MEMBER and not values["stakeholder_category"]:
        errors.append(FieldError("stakeholder_category", CATEGORY_NEEDED))
    data = _validated(
        UserCreate,
        {
            "name": values["name"],
            "email": values["email"],
            "role": role,
            "city_locode": values["city_locode"] or None,
            "stakeholder_category": values["stakeholder_category"] or None,
        },
        messages=INVITATION_MESSAGES,
        errors=errors,
        fallback="role",
    )
    if errors or data is None:
        _in_order(errors, INVITATION_MESSAGES)
        return _invitation_page(
            request, language=language, caller=caller, values=values, errors=errors
        )
    user = create_invited_user(session=session, data=data, actor=caller.actor)
    send_invitation(
        session=session,
        user=user,
        settings=state.settings,
        now=utcnow(),
        language=BY_CODE[values["language"]],
    )
    return RedirectResponse(f"{_base(language)}/people/invite?done=invited", status_code=303)


# Assigning reviewers ----------------------------------------------------------------------------


def _reviewers_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    state: Any,
    application_id: int,
    chosen: set[int],
    lead: int | None,
    errors: list[FieldError],
    done: str | None = None,
) -> Response:
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor
    )
    team = assignment.team_of(application=application, node_id=state.settings.node_id)
    candidates = (
        assignment.candidates_for(session=session, application=application, team=team)
        if application.state is ApplicationState.SUBMITTED
        else []
    )
    assigned = access.assignments_of(session=session, application_id=application_id)
    return render(
        request,
        "secretariat/reviewers.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language),
        application=application,
        team=team,
        candidates=candidates,
        assigned=assigned,
        names=_names(session, {a.reviewer_id for a in assigned}),
        required=state.settings.reviewers_per_application,
        chosen=chosen,
        lead=lead,
        **_form_state(done, errors),
    )


@router.get("/{lang:lang}/secretariat/applications/{application_id}/reviewers")
def reviewers_form(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: ReadSessionDep,
    state: StateDep,
    application_id: RecordId,
    done: str | None = None,
) -> Response:
    return _reviewers_page(
        request,
        language=language,
        caller=caller,
        session=session,
        state=state,
        application_id=application_id,
        chosen=set(),
        lead=None,
        errors=[],
        done=done,
    )


def _ids(values: list[Any]) -> list[int]:
    return [int(value) for value in values if str(value).isdigit() and len(str(value)) < 10]


@router.post("/{lang:lang}/secretariat/applications/{application_id}/reviewers")
async def assign_reviewers(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
    application_id: RecordId,
) -> Response:
    """Assigns the reviewers chosen, one of them the lead, as `POST
    /applications/{id}/reviewers` does (the service refuses too few, or a state not submitted)."""
    await check_csrf(request, caller)
    form = await request.form()
    chosen = list(dict.fromkeys(_ids(form.getlist("reviewer"))))
    leads = _ids([form.get("lead", "")])
    lead = leads[0] if leads else None
    errors: list[FieldError] = []
    if not chosen:
        errors.append(FieldError("reviewers", CHOOSE_REVIEWERS))
    elif lead is None or lead not in chosen:
        errors.append(FieldError("lead", CHOOSE_LEAD))
    if errors or lead is None:
        return _reviewers_page(
            request,
            language=language,
            caller=caller,
            session=session,
            state=state,
            application_id=application_id,
            chosen=set(chosen),
            lead=lead,
            errors=errors,
        )
    application = applications.get_application_or_raise(
        session=session, application_id=application_id, actor=caller.actor, for_update=True
    )
    assignment.assign_reviewers(
        session=session,
        application=application,
        reviewer_ids=chosen,
        lead_id=lead,
        required=state.settings.reviewers_per_application,
        actor=caller.actor,
        settings=state.settings,
    )
    return RedirectResponse(
        f"{_base(language)}/applications/{application_id}/reviewers?done=assigned",
        status_code=303,
    )


# Meetings ---------------------------------------------------------------------------------------

MEETING_MESSAGES: Final = {
    "title": N_("Enter the meeting's title (at most 200 characters)"),
    "day": N_("Enter the day of the meeting, not in the past, like 2026-01-31"),
    "time": N_("Enter the time of the meeting in UTC, like 14:30"),
}
MEETING_DONE: Final = {
    "scheduled": N_("The meeting is scheduled."),
    "open": N_("The meeting is open: members may vote."),
    "close": N_("The meeting is closed; items still pending are deferred."),
    "agenda": N_("The recommended applications and open proposals are on the agenda."),
}


def _meetings_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    values: dict[str, str],
    errors: list[FieldError],
    done: str | None = None,
) -> Response:
    coming: list[Meeting] = []
    for status in (MeetingStatus.OPEN, MeetingStatus.SCHEDULED):
        found, _count = meetings.list_meetings(session=session, offset=0, limit=100, status=status)
        coming += sorted(found, key=lambda meeting: (meeting.scheduled_for, meeting.id or 0))
    agenda_sizes = {
        meeting.id: len(meetings.items_of(session=session, meeting=meeting)) for meeting in coming
    }
    return render(
        request,
        "secretariat/meetings.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language),
        coming=coming,
        agenda_sizes=agenda_sizes,
        values=values,
        meeting_done=MEETING_DONE.get(done or ""),
        **_form_state(None, errors),
    )


@router.get("/{lang:lang}/secretariat/meetings")
def meetings_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    done: str | None = None,
) -> Response:
    """Coming meetings, with their agenda and opening or closing; a form to schedule one."""
    return _meetings_page(
        request,
        language=language,
        caller=caller,
        session=session,
        values={"time": "09:00"},
        errors=[],
        done=done,
    )


@router.post("/{lang:lang}/secretariat/meetings")
async def schedule_meeting(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Schedules a meeting, as `POST /committee/meetings` does (a day and a time in UTC)."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("title", "day", "time")}
    errors: list[FieldError] = []
    day: date | None = None
    moment: time | None = None
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors.append(FieldError("day", MEETING_MESSAGES["day"]))
    try:
        moment = time.fromisoformat(values["time"])
    except ValueError:
        errors.append(FieldError("time", MEETING_MESSAGES["time"]))
    data = _validated(
        MeetingCreate,
        {
            "title": values["title"],
            "scheduled_for": datetime.combine(day or date.min, moment or time(), UTC),
        },
        messages=MEETING_MESSAGES,
        errors=errors,
        fallback="day",
    )
    if errors or data is None:
        _in_order(errors, MEETING_MESSAGES)
        return _meetings_page(
            request,
            language=language,
            caller=caller,
            session=session,
            values=values,
            errors=errors,
        )
    meetings.schedule_meeting(
        session=session, data=data, settings=state.settings, actor=caller.actor
    )
    return RedirectResponse(f"{_base(language)}/meetings?done=scheduled", status_code=303)


@router.post("/{lang:lang}/secretariat/meetings/{meeting_id}/{action}")
async def act_on_meeting(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    state: StateDep,
    meeting_id: RecordId,
    action: Annotated[str, Path(pattern="^(open|close|agenda)$")],
) -> Response:
    """Opens or closes a meeting, or puts on its agenda every recommended application and open
    proposal not already waiting (`.../open`, `.../close`, `.../agenda/generate` of the API)."""
    await check_csrf(request, caller)
    if action == "open":
        meetings.open_meeting(session=session, meeting_id=meeting_id, actor=caller.actor)
    elif action == "close":
        meetings.close_meeting(
            session=session, state=state, meeting_id=meeting_id, actor=caller.actor
        )
    else:
        meetings.generate_agenda(session=session, meeting_id=meeting_id, actor=caller.actor)
    return RedirectResponse(f"{_base(language)}/meetings?done={action}", status_code=303)


# Certificates: proposals to the committee, and those about to expire ----------------------------

CERTIFICATES_PAGE_SIZE: Final = 50
EXPIRING_WITHIN: Final = timedelta(days=180)
MAX_REASON_CHARS: Final = 2000
PROPOSAL_MESSAGES: Final = {
    "kind": N_("Choose what to propose"),
    "reason": N_("Give the reason, which the committee reads (at most 2,000 characters)"),
}
PROPOSAL_KIND_NAMES: Final = {
    ProposalKind.SUSPENSION: N_("Suspend the certificate"),
    ProposalKind.REINSTATEMENT: N_("Reinstate the certificate"),
    ProposalKind.REVOCATION: N_("Revoke the certificate"),
}


@router.get("/{lang:lang}/secretariat/certificates")
def certificates_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    page: PageNumber = 1,
    done: str | None = None,
) -> Response:
    """Every certificate, newest first, and those whose validity ends within 180 days."""
    found, count = certificates.list_certificates(
        session=session,
        actor=caller.actor,
        offset=(page - 1) * CERTIFICATES_PAGE_SIZE,
        limit=CERTIFICATES_PAGE_SIZE,
    )
    return render(
        request,
        "secretariat/certificates.html",
        language=language,
        caller=caller,
        base=_base(language),
        certificates=found,
        expiring=certificates.list_expiring(session=session, within=EXPIRING_WITHIN),
        count=count,
        page=page,
        pages=max(1, -(-count // CERTIFICATES_PAGE_SIZE)),
        stage_names=STAGE_NAMES,
        level_names=LEVEL_NAMES,
        status_names=committee_terms.CERTIFICATE_STATUS_NAMES,
        proposed=done == "proposed",
    )


def _proposal_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    certificate_id: str,
    values: dict[str, str],
    errors: list[FieldError],
) -> Response:
    certificate = certificates.get_certificate_or_raise(
        session=session, certificate_id=certificate_id, actor=caller.actor
    )
    return render(
        request,
        "secretariat/propose.html",
        language=language,
        caller=caller,
        status_code=400 if errors else 200,
        base=_base(language),
        certificate=certificate,
        kinds=PROPOSAL_KIND_NAMES,
        values=values,
        stage_names=STAGE_NAMES,
        level_names=LEVEL_NAMES,
        status_names=committee_terms.CERTIFICATE_STATUS_NAMES,
        **_form_state(None, errors),
    )


@router.get("/{lang:lang}/secretariat/certificates/{certificate_id}/propose")
def proposal_form(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    certificate_id: CertificateId,
) -> Response:
    return _proposal_page(
        request,
        language=language,
        caller=caller,
        session=session,
        certificate_id=certificate_id,
        values={},
        errors=[],
    )


@router.post("/{lang:lang}/secretariat/certificates/{certificate_id}/propose")
async def propose(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: SessionDep,
    certificate_id: CertificateId,
) -> Response:
    """Proposes to the committee that it suspend, reinstate or revoke the certificate, as
    `POST /certificates/{id}/proposals` does (the service refuses a change the status does not
    allow, or a second open proposal of the same kind: 409)."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("kind", "reason")}
    errors: list[FieldError] = []
    kind = next((k for k in ProposalKind if k.value == values["kind"]), None)
    if kind is None:
        errors.append(FieldError("kind", PROPOSAL_MESSAGES["kind"]))
    if not values["reason"] or len(values["reason"]) > MAX_REASON_CHARS:
        errors.append(FieldError("reason", PROPOSAL_MESSAGES["reason"]))
    if errors or kind is None:
        return _proposal_page(
            request,
            language=language,
            caller=caller,
            session=session,
            certificate_id=certificate_id,
            values=values,
            errors=errors,
        )
    certificates.get_certificate_or_raise(
        session=session, certificate_id=certificate_id, actor=caller.actor
    )
    certificates.propose(
        session=session,
        certificate_id=certificate_id,
        kind=kind,
        reason=values["reason"],
        actor=caller.actor,
    )
    return RedirectResponse(f"{_base(language)}/certificates?done=proposed", status_code=303)


# Cities -----------------------------------------------------------------------------------------

CITIES_PAGE_SIZE: Final = 50
CITY_MESSAGES: Final = {
    "locode": N_("Enter the city's UN/LOCODE, like KE-NBO"),
    "name": N_("Enter the city's name (at most 200 characters)"),
    "region": N_("Enter at most 200 characters"),
    "population": N_("Enter the population as a whole number, at most 100,000,000"),
    "languages": N_("Enter language codes separated by commas, like en, sw"),
}


CITIES: Final = SearchableList(
    template="secretariat/cities.html",
    page_size=CITIES_PAGE_SIZE,
    rows_name="cities",
    find=lambda session, actor, q, offset, limit: cities.list_cities(
        session=session, actor=actor, offset=offset, limit=limit, q=q
    ),
    extra={},
)


@router.get("/{lang:lang}/secretariat/cities")
def cities_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    page: PageNumber = 1,
    done: str | None = None,
) -> Response:
    """The node's cities, searchable by name; administrators register one."""
    return CITIES.page(
        request,
        language=language,
        caller=caller,
        session=session,
        search=q.strip(),
        page=page,
        added=done == "added",
    )


@router.post("/{lang:lang}/secretariat/cities")
async def register_city(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Registers a city, as `POST /cities` does (the service refuses another country's city
    on a national node, and a city registered already: 409)."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {
        name: str(form.get(name, "")).strip()
        for name in ("locode", "name", "region", "population", "languages")
    }
    values["locode"] = values["locode"].upper()
    errors: list[FieldError] = []
    population = values["population"].replace(",", "").replace(" ", "")
    data = _validated(
        CityCreate,
        {
            "locode": values["locode"],
            "name": values["name"],
            "region": values["region"],
            "population": population or None,
            "languages": [tag.strip() for tag in values["languages"].split(",") if tag.strip()],
        },
        messages=CITY_MESSAGES,
        errors=errors,
        fallback="locode",
    )
    if errors or data is None:
        _in_order(errors, CITY_MESSAGES)
        return CITIES.page(
            request, language=language, caller=caller, session=session, values=values, errors=errors
        )
    cities.create_city(
        session=session, data=data, node_id=state.settings.node_id, actor=caller.actor
    )
    return RedirectResponse(f"{_base(language)}/cities?done=added", status_code=303)


# The catalogue of tools -------------------------------------------------------------------------

TOOLS_PAGE_SIZE: Final = 20
TOOL_KIND_NAMES: Final = {
    ToolKind.TOOL: N_("Tool"),
    ToolKind.CASE_STUDY: N_("Case study"),
    ToolKind.SERVICE: N_("Service"),
    ToolKind.TRAINING: N_("Training"),
}
TOOL_MESSAGES: Final = {
    "kind": N_("Choose the kind of entry"),
    "title": N_("Enter a title on one line (at most 300 characters)"),
    "summary": N_("Enter a summary (at most 4,000 characters)"),
    "link": N_("Enter the entry's web address, beginning with https://"),
    "criteria": N_("Enter criterion codes separated by commas, like B.a, C.b"),
    "themes": N_("Enter at most 20 themes separated by commas"),
    "languages": N_("Enter language codes separated by commas, like en, sw"),
    "provider": N_("Enter the provider on one line (at most 200 characters)"),
}
_TOOL_LISTS: Final = ("criteria", "themes", "languages")


CATALOGUE: Final = SearchableList(
    template="secretariat/catalogue.html",
    page_size=TOOLS_PAGE_SIZE,
    rows_name="tools",
    find=lambda session, _actor, q, offset, limit: catalogue.search_tools(
        session=session, q=q, limit=limit, offset=offset
    ),
    extra={"kinds": TOOL_KIND_NAMES},
)


@router.get("/{lang:lang}/secretariat/catalogue")
def catalogue_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    page: PageNumber = 1,
    done: str | None = None,
) -> Response:
    """The catalogue's entries, searchable; administrators add one."""
    return CATALOGUE.page(
        request,
        language=language,
        caller=caller,
        session=session,
        search=q.strip(),
        page=page,
        added=done == "added",
    )


@router.post("/{lang:lang}/secretariat/catalogue")
async def add_tool(
    request: Request, language: LanguageDep, caller: Administrator, session: SessionDep
) -> Response:
    """Adds an entry to the catalogue, as `POST /tools` does."""
    await check_csrf(request, caller)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in TOOL_MESSAGES}
    errors: list[FieldError] = []
    data = _validated(
        ToolCreate,
        {
            **{name: values[name] for name in TOOL_MESSAGES if name not in _TOOL_LISTS},
            **{
                name: [part.strip() for part in values[name].split(",") if part.strip()]
                for name in _TOOL_LISTS
            },
        },
        messages=TOOL_MESSAGES,
        errors=errors,
        fallback="title",
    )
    if errors or data is None:
        _in_order(errors, TOOL_MESSAGES)
        return CATALOGUE.page(
            request, language=language, caller=caller, session=session, values=values, errors=errors
        )
    catalogue.create_tool(session=session, data=data, actor=caller.actor)
    return RedirectResponse(f"{_base(language)}/catalogue?done=added", status_code=303)
