"""The watch pages: ask to watch a city, a country or a certificate; confirm; cancel.

Anonymous forms (CSRF by the double-submit cookie, as every anonymous form), no script. The
mailed links open a page with one button: a GET never changes anything, since mail scanners
follow links.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from sdgcities.node.config import Settings
from sdgcities.node.deps import SessionDep, StateDep
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.rate_limit import client_key
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.watches import service
from sdgcities.node.watches.models import Watch, WatchChannel, WatchTarget

from .account.forms import form_text
from .errors import error_page
from .i18n import N_, Language, translations
from .pages import render
from .routes import LanguageDep, Visitor
from .session import check_csrf

WATCH_PAGE_PATH: Final = "/{lang:lang}/watch"
ENTER_EMAIL = N_("Enter your email address")
CHOOSE_CHANNEL = N_("Choose email or webhook")
ENTER_WEBHOOK = N_(
    "Enter a public https:// address of at most 2,000 characters, without a user name or password"
)
TOO_MANY = N_(
    "Too many watches wait for confirmation from this address: confirm those we mailed, or "
    "wait until their links expire"
)
NO_TARGET = N_("Choose a city, a country or a certificate to watch, from its page")
UNKNOWN_TARGET = N_("This node does not report on that city, country or certificate")
TARGET_NAMES: Final = {
    WatchTarget.CITY: N_("the city %(target)s"),
    WatchTarget.COUNTRY: N_("the cities of %(target)s"),
    WatchTarget.CERTIFICATE: N_("the certificate %(target)s"),
}

router = APIRouter(include_in_schema=False)


def _target_of(params: Any) -> tuple[WatchTarget, str] | None:
    given = [
        (kind, str(params.get(kind.value, "")).strip()[:64])
        for kind in WatchTarget
        if str(params.get(kind.value, "")).strip()
    ]
    return given[0] if len(given) == 1 else None


def watch_link(
    *,
    session: Session,
    state: NodeState,
    language: Language,
    kind: WatchTarget,
    target: str,
    country: str,
) -> str | None:
    """Where a visitor asks to watch `target` (of `country`): the node that sends its notices.

    A node sends notices for the certificates it issues. The global node's registry also lists
    its members' certificates: for those (and for a member's country) the link is the member's
    own watch page, from the trust list. None when no node would send a notice.
    """
    settings = state.settings
    query = urlencode({kind.value: target})
    if settings.is_global and country.upper() != settings.node_id.upper():
        # The verifiers' copy: public pages must not re-verify the trust list on every view.
        trust_list = state.verifiers.trust_list(lambda: nullcontext(session))
        member = trust_list.node(country.upper()) if trust_list else None
        if member is not None and member.id != settings.node_id:
            return f"{member.base_url}/{language.code}/watch?{query}"
    try:
        service.check_target(session, settings, kind, target)
    except (NotFound, InvalidRequest):
        return None
    return f"/{language.code}/watch?{query}"


def _checked_target(
    request: Request, language: Language, session: Any, settings: Settings, params: Any
) -> tuple[WatchTarget, str] | Response:
    target = _target_of(params)
    if target is None:
        return error_page(request, status_code=400, detail=_gettext(language, NO_TARGET))
    try:
        return target[0], service.check_target(session, settings, *target)
    except (NotFound, InvalidRequest):
        return error_page(request, status_code=404, detail=_gettext(language, UNKNOWN_TARGET))


def _gettext(language: Language, message: str) -> str:
    return translations(language.code).gettext(message)


@router.get(WATCH_PAGE_PATH)
def watch_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: SessionDep,
    state: StateDep,
) -> Response:
    target = _checked_target(request, language, session, state.settings, request.query_params)
    if isinstance(target, Response):
        return target
    return _form(request, language, caller, target, errors={}, values={"channel": "email"})


def _form(
    request: Request,
    language: Language,
    caller: Any,
    target: tuple[WatchTarget, str],
    *,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "watches/watch.html",
        language=language,
        caller=caller,
        status_code=status_code,
        kind=target[0].value,
        target=target[1],
        target_name=TARGET_NAMES[target[0]],
        errors=errors,
        values=values,
    )


@router.post(WATCH_PAGE_PATH)
async def create_watch(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: SessionDep,
    state: StateDep,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    target = _checked_target(request, language, session, state.settings, form)
    if isinstance(target, Response):
        return target
    values = {
        "email": form_text(form, "email"),
        "channel": form_text(form, "channel"),
        "webhook_url": form_text(form, "webhook_url"),
    }
    errors: dict[str, str] = {}
    if not values["email"] or "@" not in values["email"] or len(values["email"]) > 254:
        errors["email"] = ENTER_EMAIL
    if values["channel"] not in {channel.value for channel in WatchChannel}:
        errors["channel"] = CHOOSE_CHANNEL
    elif values["channel"] == WatchChannel.WEBHOOK:
        try:
            service.check_webhook_url(values["webhook_url"], state.settings)
        except InvalidRequest:
            errors["webhook_url"] = ENTER_WEBHOOK
    if not errors:
        try:
            service.create_watch(
                session=session,
                settings=state.settings,
                request=service.WatchRequest(
                    email=values["email"],
                    language=language.code,
                    target_kind=target[0],
                    target=target[1],
                    channel=WatchChannel(values["channel"]),
                    webhook_url=values["webhook_url"] or None,
                ),
                client=client_key(request.scope, state.settings.trusted_proxies),
                now=utcnow(),
            )
        except Conflict:
            errors["email"] = TOO_MANY
    if errors:
        return _form(
            request, language, caller, target, errors=errors, values=values, status_code=400
        )
    return render(
        request,
        "watches/sent.html",
        language=language,
        caller=caller,
        email=values["email"],
    )


def _link_page(
    request: Request,
    language: Language,
    caller: Any,
    template: str,
    *,
    token: str,
    watch: Watch | None = None,
    done: bool = False,
    status_code: int = 200,
    unusable: bool = False,
) -> Response:
    return render(
        request,
        template,
        language=language,
        caller=caller,
        status_code=status_code,
        token=token,
        watch=watch,
        target_name=TARGET_NAMES[watch.target_kind] if watch else "",
        done=done,
        unusable=unusable,
    )


def _unusable_link_page(
    request: Request, language: Language, caller: Any, template: str
) -> Response:
    """The page of a link whose token is unknown, or spent or expired: 404, nothing done."""
    return _link_page(request, language, caller, template, token="", status_code=404, unusable=True)


async def _use_link(
    request: Request,
    language: Language,
    caller: Any,
    template: str,
    use: Callable[[str], Watch],
) -> Response:
    """Do what the emailed link is for (`use` its token, posted from its page) and say so."""
    await check_csrf(request, caller)
    token = form_text(await request.form(), "token")
    try:
        watch = use(token)
    except service.LinkUnusable:
        return _unusable_link_page(request, language, caller, template)
    return _link_page(request, language, caller, template, token="", watch=watch, done=True)


@router.get(f"{WATCH_PAGE_PATH}/confirm")
def confirm_page(
    request: Request, language: LanguageDep, caller: Visitor, token: str = ""
) -> Response:
    return _link_page(request, language, caller, "watches/confirm.html", token=token[:64])


@router.post(f"{WATCH_PAGE_PATH}/confirm")
async def confirm(
    request: Request, language: LanguageDep, caller: Visitor, session: SessionDep
) -> Response:
    return await _use_link(
        request,
        language,
        caller,
        "watches/confirm.html",
        lambda token: service.confirm_watch(session=session, secret=token, now=utcnow()),
    )


@router.get(f"{WATCH_PAGE_PATH}/cancel")
def cancel_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: SessionDep,
    token: str = "",
) -> Response:
    try:
        watch = service.watch_by_cancel_secret(session=session, secret=token)
    except service.LinkUnusable:
        return _unusable_link_page(request, language, caller, "watches/cancel.html")
    return _link_page(
        request,
        language,
        caller,
        "watches/cancel.html",
        token=token,
        watch=watch,
        done=watch.cancelled_at is not None,
    )


@router.post(f"{WATCH_PAGE_PATH}/cancel")
async def cancel(
    request: Request, language: LanguageDep, caller: Visitor, session: SessionDep
) -> Response:
    return await _use_link(
        request,
        language,
        caller,
        "watches/cancel.html",
        lambda token: service.cancel_watch(session=session, secret=token, now=utcnow()),
    )
