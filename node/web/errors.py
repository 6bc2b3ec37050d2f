"""Errors on pages answer a page, in the page's language, never the API's JSON."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import Scope

from sdgcities.node.actor import PUBLIC

from .i18n import SOURCE_LANGUAGE, Language, language_of
from .pages import render
from .session import WebCaller

# The outline of each status, shown as the page's heading (translated in the template).
STATUS_TITLES: Final = {
    400: "bad_request",
    401: "sign_in",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported",
    422: "invalid",
    429: "too_many",
}


def page_language(request: Request) -> Language | None:
    """The language of a page request (its first path segment), or None for the API."""
    first = request.url.path.lstrip("/").partition("/")[0]
    return language_of(first)


def error_page(
    request: Request, *, status_code: int, detail: str | None = None, kind: str | None = None
) -> HTMLResponse:
    language = page_language(request) or SOURCE_LANGUAGE
    # An error page shows no account links: it cannot know the caller without the database.
    caller = WebCaller(actor=PUBLIC, csrf_token="")
    return render(
        request,
        "error.html",
        language=language,
        caller=caller,
        status_code=status_code,
        kind=kind or STATUS_TITLES.get(status_code, "error"),
        detail=detail,
    )


def sign_in_redirect(language_code: str, next_path: str) -> Response:
    return RedirectResponse(
        f"/{language_code}/sign-in?next={quote(next_path, safe='/')}", status_code=303
    )


def refusal_page(scope: Scope, status_code: int, headers: dict[str, str]) -> Response | None:
    """A refusal by the node's ASGI guards (rate limit 429, body cap 413) on a page's path, as a
    page; None for the API, which answers JSON."""
    request = Request(scope)
    if page_language(request) is None:
        return None
    response = error_page(request, status_code=status_code)
    response.headers.update(headers)
    return response
