"""`create_app(settings)`: the node's FastAPI application.

The engine is built and checked (durability, migrations) when the app is created, so a node that
could lose data never starts; errors raised by services become JSON responses in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import Session

from sdgcities.credentials import Error as CredentialsError

from .accounts.models import Role
from .accounts.routes import me_router
from .accounts.routes import router as accounts_router
from .audit.routes import router as audit_router
from .cities.routes import router as cities_router
from .config import Settings, get_settings
from .db import check_durability, make_engine, migrate
from .deps import roles_of
from .errors import NodeError, PayloadTooLarge
from .identity.service import load_active_key
from .state import NodeState
from .trust.routes import router as trust_router
from .verification.routes import router as verification_router
from .verification.service import VerifierCache
from .wellknown.routes import router as wellknown_router

ROUTERS = (
    wellknown_router,
    me_router,
    accounts_router,
    audit_router,
    cities_router,
    trust_router,
    verification_router,
)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The node's app; `engine` is for tests that share one already migrated database."""
    settings = settings or get_settings()
    if engine is None:
        engine = make_engine(settings.sqlalchemy_url)
        check_durability(engine)
        migrate(engine)
    with Session(engine) as session:
        signing_key = load_active_key(session=session, settings=settings)

    app = FastAPI(
        title=f"SDG Cities node {settings.node_id}",
        summary="SDG Cities certification: applications, review, committee, certificates",
        version="0.1.0",
    )
    # Outbound calls (status lists, later the federation) never follow redirects and time out.
    http = httpx.Client(follow_redirects=False, timeout=httpx.Timeout(5.0))
    app.state.node = NodeState(
        settings=settings,
        engine=engine,
        signing_key=signing_key,
        http=http,
        verifiers=VerifierCache(settings=settings, engine=engine, client=http),
    )
    for router in ROUTERS:
        app.include_router(router)
    _describe_access(app)
    _install_error_handlers(app)
    _limit_request_size(app, settings.max_request_bytes)
    return app


def allowed_roles(route: APIRoute) -> frozenset[Role]:
    """The roles a route declares with `access(...)`; a route without one is a bug."""
    for dependency in route.dependant.dependencies:
        roles = roles_of(dependency.call)
        if roles is None:
            for sub in dependency.dependencies:
                roles = roles_of(sub.call)
                if roles is not None:
                    break
        if roles is not None:
            return roles
    raise LookupError(f"{route.path} declares no access rule")


def _describe_access(app: FastAPI) -> None:
    for route in app.routes:
        if isinstance(route, APIRoute):
            roles = allowed_roles(route)
            who = "anyone" if Role.PUBLIC in roles else ", ".join(sorted(r.value for r in roles))
            route.description = f"{route.description}\n\n**Who may call:** {who}".strip()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NodeError)
    async def node_error(_request: Request, exc: NodeError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"detail": exc.message, "code": exc.code}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(CredentialsError)
    async def credentials_error(_request: Request, exc: CredentialsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "code": "invalid_credential"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        ]
        return JSONResponse(
            {"detail": "; ".join(problems), "code": "invalid_request", "errors": exc.errors()},
            status_code=422,
        )


def _limit_request_size(app: FastAPI, max_bytes: int) -> None:
    """Refuse JSON bodies over `max_bytes` by their declared length (uploads have their own cap)."""

    @app.middleware("http")
    async def limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length")
        content_type = request.headers.get("content-type", "")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > max_bytes
            and not content_type.startswith("application/octet-stream")
        ):
            error = PayloadTooLarge(f"request bodies are limited to {max_bytes} bytes")
            return JSONResponse(
                {"detail": error.message, "code": error.code}, status_code=error.status_code
            )
        return await call_next(request)
