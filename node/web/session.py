"""People signed in through the web pages: the session cookie, who the caller is, and CSRF.

Machines and the CLI keep bearer tokens (`node.deps`); pages read only the session cookie, so a
page never acts on a token a script holds, and a form can be forged only by someone who can read
the page (the anti-forgery token is in the page, never in a cookie a browser sends by itself).

- The cookie holds 256 random bits; the table keeps its SHA-256 (as API tokens do). It is
  `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix when the node is served over
  https, so no script and no other site or sub-domain can read or plant it.
- A signed-in person's forms carry the session's own anti-forgery token. Forms anyone may post
  (sign in, ask for an account, verify) carry the token of an anonymous `csrf` cookie instead
  (a double-submit token: a forger can neither read nor set that cookie). Both are compared in
  constant time, and a request a browser marks `Sec-Fetch-Site: cross-site` is refused first.
- Sign-in has two steps for a person with a second factor: after the password the session is
  `second_factor_done=False` and lasts minutes; the caller is still anonymous (`pending_user_id`
  set) until the code, and the code's success replaces it with a new, complete session. A staff
  member who must have a second factor and has none (`must_enrol`) sees only the enrolment page.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from sqlmodel import Session, col, select, update

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.accounts.second_factor import has_second_factor, second_factor_required
from sdgcities.node.accounts.tokens import hash_token
from sdgcities.node.actor import PUBLIC, Actor
from sdgcities.node.config import Settings
from sdgcities.node.deps import ReadSessionDep, StateDep
from sdgcities.node.timeutil import as_utc, utcnow

from .i18n import SOURCE_LANGUAGE, language_of
from .models import WebSession

SESSION_COOKIE: Final = "sdgc_session"
CSRF_COOKIE: Final = "sdgc_csrf"
CSRF_FIELD: Final = "csrf_token"
SESSION_LIFETIME: Final = timedelta(hours=12)
# Between the password and the code: long enough to open an authenticator app.
PENDING_SESSION_LIFETIME: Final = timedelta(minutes=10)
_TOKEN_BYTES: Final = 32
_MAX_TOKEN_CHARS: Final = 64


def cookie_name(settings: Settings, name: str) -> str:
    # `__Host-`: the browser accepts the cookie only from this host, over https, for path `/`.
    return f"__Host-{name}" if settings.base_url.startswith("https://") else name


def _set_cookie(response: Response, settings: Settings, name: str, value: str) -> None:
    response.set_cookie(
        cookie_name(settings, name),
        value,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        path="/",
    )


@dataclass(frozen=True)
class WebCaller:
    """Who is looking at a page, and the anti-forgery token their forms must carry."""

    actor: Actor
    csrf_token: str
    # Set when the browser had no anti-forgery cookie yet: the page sets it.
    new_csrf_cookie: str | None = None
    session_id: int | None = None
    # Signed in with a password, the second factor's code still to come (the actor is public).
    pending_user_id: int | None = None
    # A staff member on a production node without a second factor: enrolment comes first.
    must_enrol: bool = False

    @property
    def signed_in(self) -> bool:
        return not self.actor.is_public


def start_session(
    *,
    session: Session,
    user: User,
    response: Response,
    settings: Settings,
    second_factor_done: bool = True,
) -> None:
    """Signs `user` in: a new session row, and its cookie on `response`.

    `second_factor_done=False` after the password alone, when a code or enrolment must follow.
    """
    assert user.id is not None
    secret = secrets.token_urlsafe(_TOKEN_BYTES)
    now = utcnow()
    lifetime = SESSION_LIFETIME if second_factor_done else PENDING_SESSION_LIFETIME
    session.add(
        WebSession(
            token_hash=hash_token(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(_TOKEN_BYTES),
            created_at=now,
            expires_at=now + lifetime,
            second_factor_done=second_factor_done,
        )
    )
    session.flush()
    _set_cookie(response, settings, SESSION_COOKIE, secret)


def end_session_row(*, session: Session, caller: WebCaller) -> None:
    """Ends the caller's session in the table (its cookie is replaced or deleted by the caller)."""
    if caller.session_id is not None:
        row = session.get(WebSession, caller.session_id)
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()
            session.add(row)
            session.flush()


def end_sessions_of(*, session: Session, user_id: int, keep: int | None = None) -> None:
    """Ends every session of a person but `keep`: after a new password, a stolen cookie dies."""
    statement = update(WebSession).where(
        col(WebSession.user_id) == user_id, col(WebSession.ended_at).is_(None)
    )
    if keep is not None:
        statement = statement.where(col(WebSession.id) != keep)
    session.exec(statement.values(ended_at=utcnow()))
    session.flush()


def end_session(
    *, session: Session, caller: WebCaller, response: Response, settings: Settings
) -> None:
    end_session_row(session=session, caller=caller)
    response.delete_cookie(cookie_name(settings, SESSION_COOKIE), path="/")


def _signed_in(session: Session, secret: str) -> tuple[WebSession, User] | None:
    found = session.exec(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)  # type: ignore[arg-type]
        .where(WebSession.token_hash == hash_token(secret))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or as_utc(row.expires_at) <= utcnow() or not user.active:
        return None
    return row, user


def web_caller(request: Request, state: StateDep, session: ReadSessionDep) -> WebCaller:
    settings = state.settings
    anonymous_token = request.cookies.get(cookie_name(settings, CSRF_COOKIE), "")
    new_cookie = None
    if not 0 < len(anonymous_token) <= _MAX_TOKEN_CHARS:
        anonymous_token = new_cookie = secrets.token_urlsafe(_TOKEN_BYTES)
    secret = request.cookies.get(cookie_name(settings, SESSION_COOKIE), "")
    found = _signed_in(session, secret) if 0 < len(secret) <= _MAX_TOKEN_CHARS else None
    if found is None:
        return WebCaller(actor=PUBLIC, csrf_token=anonymous_token, new_csrf_cookie=new_cookie)
    row, user = found
    assert user.id is not None
    must_enrol = second_factor_required(user.role, settings) and not has_second_factor(user)
    if not row.second_factor_done and not must_enrol:
        # The code is still to come: anonymous, with the anonymous form token.
        return WebCaller(
            actor=PUBLIC,
            csrf_token=anonymous_token,
            new_csrf_cookie=new_cookie,
            session_id=row.id,
            pending_user_id=user.id if has_second_factor(user) else None,
        )
    actor = Actor(role=user.role, user_id=user.id, city_locode=user.city_locode, name=user.name)
    return WebCaller(
        actor=actor,
        csrf_token=row.csrf_token,
        new_csrf_cookie=new_cookie,
        session_id=row.id,
        must_enrol=must_enrol,
    )


WebCallerDep = Annotated[WebCaller, Depends(web_caller)]


def remember_csrf_cookie(response: Response, caller: WebCaller, settings: Settings) -> None:
    if caller.new_csrf_cookie is not None:
        _set_cookie(response, settings, CSRF_COOKIE, caller.new_csrf_cookie)


class SignInRequired(Exception):
    """A page for signed-in people, asked for by someone who is not: go to the sign-in page."""

    def __init__(self, language_code: str, next_path: str) -> None:
        super().__init__(next_path)
        self.language_code = language_code
        self.next_path = next_path


class EnrolmentRequired(Exception):
    """A staff member who must enrol a second factor before any other page."""

    def __init__(self, language_code: str) -> None:
        super().__init__(language_code)
        self.language_code = language_code


class PageForbidden(Exception):
    """A signed-in person whose role may not see this page."""


class CsrfRefused(Exception):
    """A form post without the right anti-forgery token, or sent from another site."""


class PageGuard:
    """Who may see a page: `PageGuard.roles`, read by the tests as `RoleGuard` is for the API."""

    def __init__(self, roles: frozenset[Role], *, before_enrolment: bool = False) -> None:
        self.roles = roles
        self.before_enrolment = before_enrolment

    def __call__(self, request: Request, caller: WebCallerDep) -> WebCaller:
        if caller.must_enrol and not self.before_enrolment and Role.PUBLIC not in self.roles:
            code = request.path_params.get("lang", "")
            raise EnrolmentRequired((language_of(code) or SOURCE_LANGUAGE).code)
        if Role.PUBLIC in self.roles or caller.actor.role in self.roles:
            return caller
        if caller.actor.is_public:
            code = request.path_params.get("lang", "")
            language = language_of(code) or SOURCE_LANGUAGE
            raise SignInRequired(language.code, request.url.path)
        raise PageForbidden()


def page_access(*roles: Role, before_enrolment: bool = False) -> Any:
    """`Depends` for a page: only `roles` see it (`Role.PUBLIC`: everyone), others sign in.

    `before_enrolment`: the page is open to a staff member who has yet to enrol a second factor
    (the enrolment page itself, sign-out); every other signed-in page sends them there first.
    """
    return Depends(PageGuard(frozenset(roles), before_enrolment=before_enrolment))


async def check_csrf(request: Request, caller: WebCaller) -> None:
    """Refuses a form post that another site could have sent. Call it first in every POST page."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRefused()
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or caller.new_csrf_cookie is not None:
        raise CsrfRefused()
    if not hmac.compare_digest(sent.encode(), caller.csrf_token.encode()):
        raise CsrfRefused()
