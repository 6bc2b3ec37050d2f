"""`/docs` (Swagger UI) and `/redoc` with every file served by the node itself.

FastAPI's own pages load Swagger UI, ReDoc, a favicon and (for ReDoc) Google Fonts from outside, so
on a ministry's intranet or offline `/docs` was a blank page. The scripts and styles come from the
`fastapi-offline` package, which ships recent builds of both; we use only its files, not its app
class. The pages are plain Starlette routes, not API routes: they are outside the OpenAPI document
and the access matrix (anyone may read the API's description, as anyone may read `/openapi.json`).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

SWAGGER_PATH: Final = "/docs"
REDOC_PATH: Final = "/redoc"
ASSETS_PATH: Final = "/assets/api-docs"
# Swagger UI's own defaults would call its online validator; nothing may leave the node.
SWAGGER_PARAMETERS: Final[dict[str, Any]] = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at `/docs` and ReDoc at `/redoc`; the app must be made with
    `docs_url=None, redoc_url=None` so that FastAPI's CDN-loading pages are not there too."""
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the API docs need the OpenAPI document")
    app.mount(
        ASSETS_PATH, StaticFiles(packages=[("fastapi_offline", "static")]), name="api-docs-assets"
    )

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    async def redoc(_request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route(SWAGGER_PATH, swagger_ui, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_route(REDOC_PATH, redoc, methods=["GET", "HEAD"], include_in_schema=False)
