"""`/docs` (Swagger UI) with every file served by the node itself.

FastAPI's own page loads Swagger UI and a favicon from a CDN, so on a ministry's intranet or
offline `/docs` was a blank page. The script and style come from the `fastapi-offline` package,
which ships a recent build; we use only its files, not its app class. The page is a plain
Starlette route, not an API route: it is outside the OpenAPI document and the access matrix
(anyone may read the API's description, as anyone may read `/openapi.json`).

There is no `/redoc`: ReDoc's standalone build always loads its "API docs by Redocly" logo from
Redocly's CDN (tests/web caught it), and Swagger UI shows the same document.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

SWAGGER_PATH: Final = "/docs"
ASSETS_PATH: Final = "/assets/api-docs"
# Swagger UI's own defaults would call its online validator; nothing may leave the node.
SWAGGER_PARAMETERS: Final[dict[str, Any]] = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at `/docs`; the app must be made with `docs_url=None, redoc_url=None`, so
    that none of FastAPI's CDN-loading pages is there."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the API docs need the OpenAPI document")
    app.mount(
        ASSETS_PATH, StaticFiles(packages=[("fastapi_offline", "static")]), name="api-docs-assets"
    )

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return _with_language(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title}: API",
                swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
                swagger_ui_parameters=SWAGGER_PARAMETERS,
            )
        )

    app.add_route(SWAGGER_PATH, swagger_ui, methods=["GET", "HEAD"], include_in_schema=False)


def _with_language(page: HTMLResponse) -> HTMLResponse:
    """FastAPI's page names no language (a serious WCAG failure for screen readers); the API's
    descriptions are in English."""
    html = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
    if b'<html lang="en">' not in html:
        raise RuntimeError("FastAPI's docs page changed shape: no <html> element to mark")
    return HTMLResponse(html)
