"""Signing in (password, then the second factor's code when the person has one), forgetting a
password, and setting one through a mailed link."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from sdgcities.node.accounts.links import (
    LinkUnusable,
    WeakPassword,
    newest_link_at,
    set_password_with_link,
    usable_link,
)
from sdgcities.node.accounts.models import LinkPurpose, User
from sdgcities.node.accounts.second_factor import (
    check_code,
    has_second_factor,
    second_factor_required,
)
from sdgcities.node.accounts.sign_in import (
    SignInLocked,
    SignInRefused,
    authenticate,
    check_not_locked,
    find_user_by_email,
    forget_failures,
    record_failure,
)
from sdgcities.node.config import Settings
from sdgcities.node.deps import SessionDep, StateDep
from sdgcities.node.rate_limit import client_key
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from ..i18n import N_, Language
from ..pages import render
from ..routes import LanguageDep, Visitor
from ..session import WebCaller, check_csrf, end_session_row, end_sessions_of, start_session
from .forms import PASSWORD_MESSAGES, form_text
from .mails import send_password_reset
from .navigation import after_sign_in, safe_next

SIGN_IN_PATH: Final = "/{lang:lang}/sign-in"
FORGOT_PASSWORD_PATH: Final = "/{lang:lang}/forgot-password"  # noqa: S105 (a path)
WRONG_PASSWORD = N_("The email address or the password is not right")
WRONG_CODE = N_("The code is not right, or it has been used already: wait for the next one")
ENTER_EMAIL = N_("Enter your email address")
ENTER_PASSWORD = N_("Enter your password")
ENTER_CODE = N_("Enter the 6-digit code from your authenticator app")
PASSWORDS_DIFFER = N_("The two passwords are not the same")

router = APIRouter(include_in_schema=False)


def client_of(request: Request, settings: Settings) -> str:
    return client_key(request.scope, settings.trusted_proxies)


def _locked_page(
    request: Request, template: str, *, exc: SignInLocked, **context: object
) -> Response:
    return render(
        request,
        template,
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
        locked_for=max(1, math.ceil(exc.retry_after / 60)),
        errors={},
        **context,  # type: ignore[arg-type]
    )


@router.get(SIGN_IN_PATH)
def sign_in_page(
    request: Request, language: LanguageDep, caller: Visitor, next: str | None = None
) -> Response:
    if caller.signed_in:
        return RedirectResponse(after_sign_in(caller.actor.role, language, next), status_code=303)
    notice = request.query_params.get("notice")
    return render(
        request,
        "account/sign_in.html",
        language=language,
        caller=caller,
        errors={},
        email="",
        next_path=safe_next(next),
        notice=notice,
    )


@router.post(SIGN_IN_PATH)
async def sign_in(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    state: StateDep,
    session: SessionDep,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    email, password = form_text(form, "email"), form_text(form, "password", strip=False)
    next_path = safe_next(form_text(form, "next"))
    context: dict[str, Any] = {
        "language": language,
        "caller": caller,
        "email": email,
        "next_path": next_path,
    }
    errors = {}
    if not email:
        errors["email"] = ENTER_EMAIL
    if not password:
        errors["password"] = ENTER_PASSWORD
    if errors:
        return render(request, "account/sign_in.html", status_code=400, errors=errors, **context)
    settings = state.settings
    try:
        user = authenticate(
            session=session,
            email=email,
            password=password,
            client=client_of(request, settings),
            settings=settings,
            now=utcnow(),
        )
    except SignInLocked as exc:
        return _locked_page(request, "account/sign_in.html", exc=exc, **context)
    except SignInRefused:
        # The summary links to the address field: which of the two was wrong is not said.
        return render(
            request,
            "account/sign_in.html",
            status_code=400,
            errors={"email": WRONG_PASSWORD},
            **context,
        )
    end_session_row(session=session, caller=caller)
    if has_second_factor(user):
        response: Response = RedirectResponse(
            f"/{language.code}/sign-in/code"
            + (f"?next={quote(next_path, safe='/')}" if next_path else ""),
            status_code=303,
        )
        start_session(
            session=session,
            user=user,
            response=response,
            settings=settings,
            second_factor_done=False,
        )
        return response
    if second_factor_required(user.role, settings):
        # Signed in for one thing only: enrolling the second factor (`PageGuard`).
        response = RedirectResponse(f"/{language.code}/account/second-factor", status_code=303)
        start_session(
            session=session,
            user=user,
            response=response,
            settings=settings,
            second_factor_done=False,
        )
        return response
    forget_failures(session=session, email=email)
    response = RedirectResponse(after_sign_in(user.role, language, next_path), status_code=303)
    start_session(session=session, user=user, response=response, settings=settings)
    return response


def _pending_user(session: Session, caller: WebCaller) -> User | None:
    if caller.pending_user_id is None:
        return None
    return session.get(User, caller.pending_user_id)


@router.get("/{lang:lang}/sign-in/code")
def code_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: SessionDep,
    next: str | None = None,
) -> Response:
    if _pending_user(session, caller) is None:
        return RedirectResponse(f"/{language.code}/sign-in", status_code=303)
    return render(
        request,
        "account/sign_in_code.html",
        language=language,
        caller=caller,
        errors={},
        next_path=safe_next(next),
    )


@router.post("/{lang:lang}/sign-in/code")
async def confirm_code(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    state: StateDep,
    session: SessionDep,
) -> Response:
    await check_csrf(request, caller)
    user = _pending_user(session, caller)
    if user is None:
        return RedirectResponse(f"/{language.code}/sign-in", status_code=303)
    form = await request.form()
    code, next_path = form_text(form, "code"), safe_next(form_text(form, "next"))
    context: dict[str, Any] = {"language": language, "caller": caller, "next_path": next_path}
    settings, now, client = state.settings, utcnow(), client_of(request, state.settings)
    try:
        check_not_locked(
            session=session, email=user.email, client=client, settings=settings, now=now
        )
    except SignInLocked as exc:
        return _locked_page(request, "account/sign_in_code.html", exc=exc, **context)
    if not code:
        return render(
            request,
            "account/sign_in_code.html",
            status_code=400,
            errors={"code": ENTER_CODE},
            **context,
        )
    if not check_code(session=session, user=user, code=code, now=now):
        record_failure(session=session, email=user.email, client=client, now=now)
        return render(
            request,
            "account/sign_in_code.html",
            status_code=400,
            errors={"code": WRONG_CODE},
            **context,
        )
    forget_failures(session=session, email=user.email)
    end_session_row(session=session, caller=caller)
    response = RedirectResponse(after_sign_in(user.role, language, next_path), status_code=303)
    start_session(session=session, user=user, response=response, settings=settings)
    return response


@router.get("/{lang:lang}/forgot-password")
def forgot_password_page(request: Request, language: LanguageDep, caller: Visitor) -> Response:
    return render(
        request,
        "account/forgot_password.html",
        language=language,
        caller=caller,
        errors={},
        email="",
        sent=False,
    )


@router.post(FORGOT_PASSWORD_PATH)
async def forgot_password(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    state: StateDep,
    session: SessionDep,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    email = form_text(form, "email")
    context: dict[str, Any] = {"language": language, "caller": caller, "email": email}
    if not email or "@" not in email:
        return render(
            request,
            "account/forgot_password.html",
            status_code=400,
            errors={"email": ENTER_EMAIL},
            sent=False,
            **context,
        )
    user = find_user_by_email(session=session, email=email)
    now = utcnow()
    if user is not None and user.active and not _reset_mailed_lately(session, user, state, now):
        send_password_reset(
            session=session, user=user, settings=state.settings, now=now, language=language
        )
    # The same page whether or not the address has an account: it tells no one who has one.
    return render(request, "account/forgot_password.html", errors={}, sent=True, **context)


def _reset_mailed_lately(session: Session, user: User, state: NodeState, now: datetime) -> bool:
    newest = newest_link_at(session=session, user=user, purpose=LinkPurpose.PASSWORD_RESET)
    interval = timedelta(seconds=state.settings.password_reset_interval_seconds)
    return newest is not None and now - newest < interval


def _unusable_link_page(request: Request, language: Language, caller: WebCaller) -> Response:
    """Unknown, expired or used: one answer, which offers a new link."""
    return render(
        request,
        "account/set_password.html",
        language=language,
        caller=caller,
        status_code=404,
        unusable=True,
        errors={},
    )


@router.get("/{lang:lang}/set-password/{token}")
def set_password_page(
    request: Request, language: LanguageDep, caller: Visitor, session: SessionDep, token: str
) -> Response:
    try:
        _, user = usable_link(session=session, secret=token, now=utcnow())
    except LinkUnusable:
        return _unusable_link_page(request, language, caller)
    return render(
        request,
        "account/set_password.html",
        language=language,
        caller=caller,
        unusable=False,
        errors={},
        email=user.email,
        token=token,
    )


@router.post("/{lang:lang}/set-password/{token}")
async def set_password(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    state: StateDep,
    session: SessionDep,
    token: str,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    password = form_text(form, "new_password", strip=False)
    confirmation = form_text(form, "confirm_password", strip=False)
    now = utcnow()
    try:
        _, user = usable_link(session=session, secret=token, now=now)
    except LinkUnusable:
        return _unusable_link_page(request, language, caller)
    context: dict[str, Any] = {
        "language": language,
        "caller": caller,
        "unusable": False,
        "email": user.email,
        "token": token,
    }
    errors = {}
    if password != confirmation:
        errors["confirm_password"] = PASSWORDS_DIFFER
    else:
        try:
            user = set_password_with_link(
                session=session,
                secret=token,
                password=password,
                now=now,
                cost=state.settings.password_hash_cost,
            )
        except WeakPassword as exc:
            errors["new_password"] = PASSWORD_MESSAGES[exc.problem]
        except LinkUnusable:
            return _unusable_link_page(request, language, caller)
    if errors:
        return render(
            request, "account/set_password.html", status_code=400, errors=errors, **context
        )
    assert user.id is not None
    # Whoever knew the old password (or holds a cookie from then) is signed out.
    end_sessions_of(session=session, user_id=user.id)
    return RedirectResponse(f"/{language.code}/sign-in?notice=password_set", status_code=303)
