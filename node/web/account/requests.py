"""A city's request for an account (public), and the secretariat's list of pending requests."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from sdgcities.node.accounts.account_requests import list_requests, submit_request
from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.schemas import AccountRequestCreate
from sdgcities.node.cities.service import list_cities
from sdgcities.node.deps import SessionDep, StateDep
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.schemas import Id
from sdgcities.node.timeutil import utcnow

from ..i18n import N_
from ..pages import render
from ..routes import LanguageDep, Visitor
from ..session import WebCaller, check_csrf, page_access
from .forms import form_text
from .mails import approve_and_invite, refuse_and_tell

REQUEST_FIELDS: Final = ("name", "email", "city", "role_in_city", "message")
FIELD_MESSAGES: Final = {
    "name": N_("Enter your full name"),
    "email": N_("Enter an email address in the form name@example.org"),
    "city": N_("Enter the name of your city"),
    "role_in_city": N_("Enter your role in the city administration"),
    "message": N_("The message must have at most 2,000 characters"),
}
MAX_CITIES_LISTED: Final = 1000
Secretariat = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]

REQUEST_ACCOUNT_PATH: Final = "/{lang:lang}/request-account"
router = APIRouter(include_in_schema=False)


@router.get("/{lang:lang}/request-account")
def request_account_page(request: Request, language: LanguageDep, caller: Visitor) -> Response:
    return render(
        request,
        "account/request_account.html",
        language=language,
        caller=caller,
        errors={},
        values=dict.fromkeys(REQUEST_FIELDS, ""),
        sent=request.query_params.get("sent") == "1",
    )


@router.post(REQUEST_ACCOUNT_PATH)
async def request_account(
    request: Request, language: LanguageDep, caller: Visitor, session: SessionDep
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    values = {name: form_text(form, name) for name in REQUEST_FIELDS}
    try:
        data = AccountRequestCreate.model_validate(values)
    except ValidationError as exc:
        # The first problem of each field, in the form's order.
        failing = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        errors = {name: FIELD_MESSAGES[name] for name in REQUEST_FIELDS if name in failing}
        return render(
            request,
            "account/request_account.html",
            language=language,
            caller=caller,
            status_code=400,
            errors=errors,
            values=values,
            sent=False,
        )
    submit_request(session=session, data=data, language=language.code, now=utcnow())
    return RedirectResponse(f"/{language.code}/request-account?sent=1", status_code=303)


@router.get("/{lang:lang}/account-requests")
def account_requests_page(
    request: Request, language: LanguageDep, caller: Secretariat, session: SessionDep
) -> Response:
    cities, _ = list_cities(session=session, actor=caller.actor, offset=0, limit=MAX_CITIES_LISTED)
    return render(
        request,
        "account/account_requests.html",
        language=language,
        caller=caller,
        requests=list_requests(session=session),
        cities=cities,
        notice=request.query_params.get("notice"),
    )


@router.post("/{lang:lang}/account-requests/{request_id}/approve")
async def approve(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    state: StateDep,
    session: SessionDep,
    request_id: Id,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    locode = form_text(form, "city_locode")
    if not locode:
        raise InvalidRequest("choose the city the account acts for")
    approve_and_invite(
        session=session,
        request_id=request_id,
        city_locode=locode,
        actor=caller.actor,
        settings=state.settings,
        now=utcnow(),
    )
    return RedirectResponse(f"/{language.code}/account-requests?notice=approved", status_code=303)


@router.post("/{lang:lang}/account-requests/{request_id}/refuse")
async def refuse(
    request: Request,
    language: LanguageDep,
    caller: Secretariat,
    state: StateDep,
    session: SessionDep,
    request_id: Id,
) -> Response:
    await check_csrf(request, caller)
    refuse_and_tell(
        session=session,
        request_id=request_id,
        actor=caller.actor,
        settings=state.settings,
        now=utcnow(),
    )
    return RedirectResponse(f"/{language.code}/account-requests?notice=refused", status_code=303)
