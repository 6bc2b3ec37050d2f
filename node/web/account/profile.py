"""The person's own account: who they are, the second factor, and a new password."""

from __future__ import annotations

from typing import Annotated, Final

import segno
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlmodel import Session

from sdgcities.node.accounts.links import WeakPassword, set_password
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.accounts.passwords import verify_password
from sdgcities.node.accounts.second_factor import (
    confirm_enrolment,
    has_second_factor,
    provisioning_uri,
    second_factor_required,
    start_enrolment,
)
from sdgcities.node.accounts.sign_in import (
    SignInLocked,
    check_not_locked,
    forget_failures,
    record_failure,
)
from sdgcities.node.cities.models import City
from sdgcities.node.deps import SessionDep, StateDep
from sdgcities.node.timeutil import utcnow

from ..i18n import N_
from ..pages import render
from ..routes import PEOPLE, LanguageDep, SignedIn
from ..session import (
    WebCaller,
    check_csrf,
    end_session_row,
    end_sessions_of,
    page_access,
    start_session,
)
from .forms import PASSWORD_MESSAGES, form_text
from .sign_in import ENTER_CODE, PASSWORDS_DIFFER, WRONG_CODE, client_of

ROLE_LABELS: Final = {
    Role.ADMINISTRATOR: N_("Administrator"),
    Role.REVIEWER: N_("Reviewer"),
    Role.COMMITTEE_MEMBER: N_("Committee member"),
    Role.SECRETARIAT: N_("Secretariat"),
    Role.CITY_APPLICANT: N_("City applicant"),
    Role.PUBLIC: N_("Public"),
}
WRONG_CURRENT_PASSWORD = N_("Your current password is not right")
TOO_MANY_TRIES = N_("Too many attempts failed: wait a few minutes before you try again")
# The enrolment page is the one page a staff member without a required second factor may open.
Enrolling = Annotated[WebCaller, page_access(*PEOPLE, before_enrolment=True)]

router = APIRouter(include_in_schema=False)


def second_factor_path(language_code: str) -> str:
    return f"/{language_code}/account/second-factor"


def signed_in_user(session: Session, caller: WebCaller) -> User:
    """The account of the person signed in on the page."""
    assert caller.actor.user_id is not None
    user = session.get(User, caller.actor.user_id)
    assert user is not None
    return user


def _account_page(
    request: Request,
    *,
    language: LanguageDep,
    caller: WebCaller,
    session: Session,
    required: bool,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    user = signed_in_user(session, caller)
    city = session.get(City, user.city_locode) if user.city_locode else None
    return render(
        request,
        "account/account.html",
        language=language,
        caller=caller,
        status_code=status_code,
        user=user,
        city=city,
        role_label=ROLE_LABELS[user.role],
        second_factor=has_second_factor(user),
        second_factor_required=required,
        errors=errors or {},
        notice=request.query_params.get("notice"),
    )


@router.get("/{lang:lang}/account")
def account_page(
    request: Request, language: LanguageDep, caller: SignedIn, state: StateDep, session: SessionDep
) -> Response:
    required = second_factor_required(caller.actor.role, state.settings)
    return _account_page(
        request, language=language, caller=caller, session=session, required=required
    )


@router.post("/{lang:lang}/account/password")
async def change_password(
    request: Request, language: LanguageDep, caller: SignedIn, state: StateDep, session: SessionDep
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    current = form_text(form, "current_password", strip=False)
    new = form_text(form, "new_password", strip=False)
    confirmation = form_text(form, "confirm_password", strip=False)
    user = signed_in_user(session, caller)
    settings, now, client = state.settings, utcnow(), client_of(request, state.settings)
    errors: dict[str, str] = {}
    # The current password is asked for, and wrong ones throttled as at sign-in: someone at an
    # unattended, signed-in browser must not be able to take the account over.
    try:
        check_not_locked(
            session=session, email=user.email, client=client, settings=settings, now=now
        )
    except SignInLocked:
        errors["current_password"] = TOO_MANY_TRIES
    else:
        if not verify_password(user.password_hash, current, settings.password_hash_cost):
            record_failure(session=session, email=user.email, client=client, now=now)
            errors["current_password"] = WRONG_CURRENT_PASSWORD
        elif new != confirmation:
            errors["confirm_password"] = PASSWORDS_DIFFER
        else:
            try:
                set_password(
                    session=session,
                    user=user,
                    password=new,
                    now=now,
                    cost=settings.password_hash_cost,
                )
            except WeakPassword as exc:
                errors["new_password"] = PASSWORD_MESSAGES[exc.problem]
    if errors:
        return _account_page(
            request,
            language=language,
            caller=caller,
            session=session,
            required=second_factor_required(user.role, settings),
            status_code=429 if errors.get("current_password") == TOO_MANY_TRIES else 400,
            errors=errors,
        )
    forget_failures(session=session, email=user.email)
    assert user.id is not None
    end_sessions_of(session=session, user_id=user.id, keep=caller.session_id)
    return RedirectResponse(f"/{language.code}/account?notice=password", status_code=303)


def _enrolment_page(
    request: Request,
    *,
    language: LanguageDep,
    caller: WebCaller,
    session: Session,
    node_name: str,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    user = signed_in_user(session, caller)
    if has_second_factor(user):
        return render(
            request,
            "account/second_factor.html",
            language=language,
            caller=caller,
            enrolled=True,
            errors={},
        )
    secret = start_enrolment(session=session, user=user)
    uri = provisioning_uri(secret=secret, email=user.email, issuer=f"SDG Cities {node_name}")
    # segno writes the SVG itself (no user input in it but the address, which it escapes).
    svg = segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, svgclass="totp-qr-code")
    qr_svg = Markup(svg)  # noqa: S704
    return render(
        request,
        "account/second_factor.html",
        language=language,
        caller=caller,
        status_code=status_code,
        enrolled=False,
        qr_svg=qr_svg,
        secret_groups=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        errors=errors or {},
    )


@router.get("/{lang:lang}/account/second-factor")
def second_factor_page(
    request: Request, language: LanguageDep, caller: Enrolling, state: StateDep, session: SessionDep
) -> Response:
    return _enrolment_page(
        request,
        language=language,
        caller=caller,
        session=session,
        node_name=state.settings.node_name,
    )


@router.post("/{lang:lang}/account/second-factor")
async def enrol_second_factor(
    request: Request, language: LanguageDep, caller: Enrolling, state: StateDep, session: SessionDep
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    code = form_text(form, "code")
    user = signed_in_user(session, caller)
    if has_second_factor(user):
        return RedirectResponse(f"/{language.code}/account", status_code=303)
    error = None
    if not code:
        error = ENTER_CODE
    elif not confirm_enrolment(session=session, user=user, code=code, now=utcnow()):
        error = WRONG_CODE
    if error is not None:
        return _enrolment_page(
            request,
            language=language,
            caller=caller,
            session=session,
            node_name=state.settings.node_name,
            status_code=400,
            errors={"code": error},
        )
    forget_failures(session=session, email=user.email)
    response = RedirectResponse(f"/{language.code}/account?notice=second_factor", status_code=303)
    if caller.must_enrol:
        # The session was for enrolment only: a complete one replaces it.
        end_session_row(session=session, caller=caller)
        start_session(session=session, user=user, response=response, settings=state.settings)
    return response
