"""Rendering a page: one Jinja2 environment, the caller's language, and the headers every page
carries.

Templates live in `templates/`, one folder per area of the site (`public/`, `account/`,
`city/` ...); each extends `base.html`. Autoescaping is on: city names, narratives and reasons
are user input. Messages are marked with `{% trans %}` or `_()` and read from the language's
catalogue (`i18n.py`); routes pass data, never wording.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from .i18n import LANGUAGES, Language, translations
from .session import CSRF_FIELD, WebCaller, remember_csrf_cookie

_PACKAGE: Final = __name__.rpartition(".")[0]
STATIC_PATH: Final = "/static"

# Every asset comes from the node itself: no CDN, no font service, no inline script.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader(_PACKAGE, "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Messages come from the context of each render (the caller's language), not from globals:
    # one environment serves every language at once.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals["static_url"] = static_url
    env.globals["LANGUAGES"] = LANGUAGES
    return env


@cache
def static_url(name: str) -> str:
    """The asset's URL with a digest of its content, so a browser may keep it for a year."""
    data = (resources.files(_PACKAGE) / "static" / name).read_bytes()
    return f"{STATIC_PATH}/{name}?v={hashlib.sha256(data).hexdigest()[:12]}"


def switch_language_path(request: Request, language: Language) -> str:
    """This page's path in another language: the first segment replaced."""
    _, _, rest = request.url.path.lstrip("/").partition("/")
    query = f"?{request.url.query}" if request.url.query else ""
    return f"/{language.code}/{rest}{query}"


def gettext_for(language: Language) -> tuple[Any, Any]:
    """`gettext` and `ngettext` as Jinja2's "new style" calls them: `_("%(n)s cities", n=3)`.

    The translated text is trusted (it is ours); the values put into it are escaped.
    """
    catalogue = translations(language.code)

    def gettext(message: str, **values: Any) -> str:
        translated = Markup(catalogue.gettext(message))  # noqa: S704 (our own catalogue)
        return translated % values if values else translated

    def ngettext(singular: str, plural: str, count: int, **values: Any) -> str:
        translated = Markup(catalogue.ngettext(singular, plural, count))  # noqa: S704
        return translated % {"num": count, **values}

    return gettext, ngettext


def _csrf_field(caller: WebCaller) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, caller.csrf_token
    )


def render(
    request: Request,
    template: str,
    *,
    language: Language,
    caller: WebCaller,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    gettext, ngettext = gettext_for(language)
    state = request.app.state.node
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            language=language,
            caller=caller,
            # Macros cannot read `caller` (Jinja's name for a call block's body): they read this.
            caller_role=caller.actor.role.value,
            node=state.settings,
            gettext=gettext,
            ngettext=ngettext,
            _=gettext,
            csrf_field=_csrf_field(caller),
            other_language_path=lambda other: switch_language_path(request, other),
            **context,
        )
    )
    response = HTMLResponse(
        html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})}
    )
    # Pages that show a person's own data must not be kept by a shared cache.
    response.headers["Cache-Control"] = "private, no-cache" if caller.signed_in else "no-cache"
    response.headers["Vary"] = "Cookie"
    remember_csrf_cookie(response, caller, state.settings)
    return response
