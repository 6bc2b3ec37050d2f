"""`create_app(settings)`: the node's FastAPI application.

The engine is built and checked (durability, migrations) when the app is created, so a node that
could lose data never starts; errors raised by services become JSON responses in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from sdgcities.credentials import Error as CredentialsError
from sdgcities.federation import MAX_REPORT_BYTES

from .accounts.models import Role
from .accounts.people_routes import router as people_router
from .accounts.routes import me_router
from .accounts.routes import router as accounts_router
from .applications.routes import EVIDENCE_UPLOAD_PATH
from .applications.routes import router as applications_router
from .assistance.routes import router as assistance_router
from .audit.routes import router as audit_router
from .body_limit import RequestSizeLimit, RouteBodyCap
from .catalogue.routes import router as catalogue_router
from .certificates.routes import router as certificates_router
from .cities.routes import router as cities_router
from .coherence import INGEST_PULL, STATUS_LIST, TRUST_LIST, ChangeListener
from .committee.routes import router as committee_router
from .communities.routes import global_router as communities_global_router
from .communities.routes import national_router as communities_national_router
from .communities.routes import router as communities_router
from .communities.tasks import community_deliveries
from .config import Settings, get_settings
from .db import check_durability, make_engine, migrate
from .docs import install_docs
from .errors import NodeError
from .events.routes import router as events_router
from .evidence.errors import EvidenceTooLarge
from .federation_registry.routes import router as federation_assistance_router
from .fees.routes import router as fees_router
from .frameworks.routes import router as frameworks_router
from .frameworks.service import install_baseline
from .identity.service import load_active_key
from .ingest.local import LocalTransport
from .ingest.routes import REPORT_TOO_LARGE, REPORTS_PATH
from .ingest.routes import router as ingest_router
from .ingest.service import IngestRuntime
from .ingest.tasks import ingest_pull
from .ingest.workers import ingest_pool
from .leader import run_once_per_node
from .mail.tasks import mail_sender
from .members.root_key import load_root_key
from .members.routes import JOIN_PATH
from .members.routes import router as members_router
from .members.tasks import republish_once, trust_list_republish
from .membership.routes import router as membership_router
from .membership.tasks import trust_list_sync
from .monitoring.routes import router as monitoring_router
from .monitoring.tasks import quality_reports
from .notifications.routes import router as notices_router
from .notifications.tasks import periodic_notices
from .openapi import document_errors, guard_of
from .othercerts.routes import DOCUMENT_UPLOAD_PATH
from .othercerts.routes import router as othercerts_router
from .outbound import outbound_client
from .rate_limit import RateLimit, RouteRateLimit, TokenBuckets
from .registry.cache import FEDERATION, NATIONAL, RegistryCache
from .registry.routes import router as registry_router
from .relay.service import HttpTransport, Transport
from .relay.tasks import event_relay
from .reports.routes import router as reports_router
from .review.routes import router as review_router
from .route_match import RouteMatch
from .spotchecks.routes import global_router as spotchecks_global_router
from .spotchecks.routes import national_router as spotchecks_national_router
from .state import NodeState
from .status.routes import router as status_router
from .status.tasks import refresh_once, status_refresh
from .trust.routes import router as trust_router
from .verification.routes import VERIFY_PATH
from .verification.routes import router as verification_router
from .verification.service import VerifierCache
from .watches.routes import (
    MAX_WATCH_REQUEST_BYTES,
    WATCH_REQUEST_TOO_LARGE,
    WATCHES_PATH,
)
from .watches.routes import router as watches_router
from .watches.tasks import watch_notices
from .web.account.routes import MAIL_FORM_PATHS, SIGN_IN_PATH, enrolment_redirect
from .web.city.evidence import EVIDENCE_PAGE_PATH, UPLOAD_FORM_OVERHEAD
from .web.city.profile import CERTIFICATION_PAGE_PATH
from .web.errors import error_page, page_language, refusal_page, sign_in_redirect
from .web.routes import install_site, is_page_route
from .web.session import CsrfRefused, EnrolmentRequired, PageForbidden, SignInRequired
from .web.verify import VERIFY_PAGE_PATH
from .web.watches import WATCH_PAGE_PATH
from .wellknown.routes import router as wellknown_router

ROUTERS = (
    wellknown_router,
    me_router,
    notices_router,
    accounts_router,
    people_router,
    audit_router,
    cities_router,
    catalogue_router,
    trust_router,
    verification_router,
    frameworks_router,
    applications_router,
    review_router,
    reports_router,
    events_router,
    status_router,
    committee_router,
    certificates_router,
    registry_router,
    watches_router,
    assistance_router,
    communities_router,
    fees_router,
    othercerts_router,
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
    install_baseline(engine)

    app = FastAPI(
        title=f"SDG Cities node {settings.node_id}",
        summary="SDG Cities certification: applications, review, committee, certificates",
        version="0.1.0",
        lifespan=_lifespan,
        # FastAPI's pages load their files from a CDN; ours are served by the node (node/docs.py).
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    # Every call to another node: no redirects, an overall deadline, public addresses only.
    http = outbound_client(settings)
    app.state.node = NodeState(
        settings=settings,
        engine=engine,
        signing_key=signing_key,
        http=http,
        verifiers=VerifierCache(settings=settings, engine=engine, client=http),
        root_key=load_root_key(settings=settings),
        # The global node's registry lists every node's certificates, as reported to it.
        registry=RegistryCache(source=FEDERATION if settings.is_global else NATIONAL),
    )
    # Lists that lapsed while the node was down are re-signed before it serves them.
    refresh_once(app.state.node)
    if app.state.node.root_key is not None:
        republish_once(app.state.node)  # a list that lapsed while the node was down
    # The federation store (reports in, the global node's own log too) lives on the global node.
    app.state.ingest = (
        IngestRuntime(concurrency=settings.ingest_concurrency) if settings.is_global else None
    )
    app.state.ingest_pool = ingest_pool(settings, engine)
    _include_routers(app, is_global=settings.is_global)
    install_site(app)
    _describe_access(app)
    document_errors(app, api_routes)
    _install_error_handlers(app)
    app.add_middleware(
        RequestSizeLimit,
        max_bytes=settings.max_request_bytes,
        routes=_body_caps(settings),
        page_refusal=refusal_page,
    )
    # Added last, so outermost: a refused request costs no body read.
    app.add_middleware(
        RateLimit,
        limits=_rate_limits(settings),
        trusted_proxies=settings.trusted_proxies,
        page_refusal=refusal_page,
    )
    return app


def _include_routers(app: FastAPI, *, is_global: bool) -> None:
    """Every node's routes, then the global node's own (members, spot checks, the reports
    coming in, monitoring) or a national node's (its membership, its side of spot checks, its
    cities in communities across countries)."""
    for router in ROUTERS:
        app.include_router(router)
    if is_global:
        app.include_router(members_router)
        app.include_router(spotchecks_global_router)
        app.include_router(ingest_router)
        app.include_router(monitoring_router)
        app.include_router(federation_assistance_router)
        app.include_router(communities_global_router)
    else:
        app.include_router(membership_router)
        app.include_router(spotchecks_national_router)
        app.include_router(communities_national_router)


def _body_caps(settings: Settings) -> tuple[RouteBodyCap, ...]:
    """The routes whose bodies have a cap of their own instead of `max_request_bytes`: the
    uploads, a member's report, a watch request, and the pages that send a file in a form."""
    return (
        RouteBodyCap.for_route(
            "POST",
            EVIDENCE_UPLOAD_PATH,
            settings.evidence_max_bytes,
            detail=str(EvidenceTooLarge(max_bytes=settings.evidence_max_bytes)),
        ),
        RouteBodyCap.for_route(
            "PUT",
            DOCUMENT_UPLOAD_PATH,
            settings.evidence_max_bytes,
            detail=str(EvidenceTooLarge(max_bytes=settings.evidence_max_bytes)),
        ),
        RouteBodyCap.for_route("POST", REPORTS_PATH, MAX_REPORT_BYTES, detail=REPORT_TOO_LARGE),
        RouteBodyCap.for_route(
            "POST", WATCHES_PATH, MAX_WATCH_REQUEST_BYTES, detail=WATCH_REQUEST_TOO_LARGE
        ),
        # The city's upload page: the same file in a multipart form, with its few fields.
        RouteBodyCap.for_route(
            "POST",
            EVIDENCE_PAGE_PATH,
            settings.evidence_max_bytes + UPLOAD_FORM_OVERHEAD,
            detail=str(EvidenceTooLarge(max_bytes=settings.evidence_max_bytes)),
        ),
        # A certification with its document, in a multipart form (web/city/profile.py).
        RouteBodyCap.for_route(
            "POST",
            CERTIFICATION_PAGE_PATH,
            settings.evidence_max_bytes + UPLOAD_FORM_OVERHEAD,
            detail=str(EvidenceTooLarge(max_bytes=settings.evidence_max_bytes)),
        ),
    )


def _rate_limits(settings: Settings) -> list[RouteRateLimit]:
    """The anonymous routes' limits (a login route, when there is one, belongs here too)."""
    wanted = (
        ("POST", VERIFY_PATH, settings.rate_limit_verify_per_minute, 60.0, "verifications"),
        ("POST", JOIN_PATH, settings.rate_limit_join_per_hour, 3600.0, "join requests"),
        ("POST", VERIFY_PAGE_PATH, settings.rate_limit_verify_per_minute, 60.0, "verifications"),
        # A certificate link (`?certificate=` / `?token=`) verifies on GET.
        ("GET", VERIFY_PAGE_PATH, settings.rate_limit_verify_per_minute, 60.0, "verifications"),
        ("POST", SIGN_IN_PATH, settings.rate_limit_sign_in_per_minute, 60.0, "sign-in attempts"),
        # Each can send a mail: an address must not be able to flood inboxes through the node.
        *(
            ("POST", path, settings.rate_limit_mail_forms_per_minute, 60.0, "requests")
            for path in MAIL_FORM_PATHS
        ),
        ("POST", WATCHES_PATH, settings.rate_limit_watch_per_hour, 3600.0, "new watches"),
        ("POST", WATCH_PAGE_PATH, settings.rate_limit_watch_per_hour, 3600.0, "new watches"),
    )
    return [
        RouteRateLimit(
            RouteMatch.of(method, path),
            TokenBuckets(
                capacity=count, period=period, max_keys=settings.rate_limit_tracked_clients
            ),
            what,
        )
        for method, path, count, period, what in wanted
        if count > 0
    ]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: NodeState = app.state.node
    # What must run once per node runs in one process of it (node.leader).
    duties = (
        partial(status_refresh, state),
        partial(trust_list_republish, state),
        partial(trust_list_sync, state),
        partial(ingest_pull, state, app.state.ingest),
        partial(event_relay, state, _relay_transport(app)),
        partial(quality_reports, state),
        partial(community_deliveries, state),
        partial(periodic_notices, state),
        partial(mail_sender, state),
        partial(watch_notices, state),
    )
    changes = _listen_for_changes(app)
    changes.start()
    try:
        async with run_once_per_node(
            engine=state.engine, node_id=state.settings.node_id, duties=duties
        ):
            yield
    finally:
        changes.stop()
        if app.state.ingest_pool is not None:
            app.state.ingest_pool.close()


def _listen_for_changes(app: FastAPI) -> ChangeListener:
    """What this process forgets when another process of the node announces a change."""
    state: NodeState = app.state.node
    changes = ChangeListener(state.engine)

    def trust_list_changed(_sequence: str | None) -> None:
        state.verifiers.reset()
        state.relay_wake.wake()  # a list that lists this node lets the relay report

    def status_list_changed(list_id: str | None) -> None:
        if list_id is None:
            state.verifiers.reset()
        else:
            state.verifiers.own_status_list_changed(list_id)

    changes.on(TRUST_LIST, trust_list_changed)
    changes.on(STATUS_LIST, status_list_changed)
    runtime: IngestRuntime | None = app.state.ingest
    if runtime is not None:
        runtime.share_wish = changes.announcer(INGEST_PULL)

        def pull_wanted(node_id: str | None) -> None:
            if node_id is not None:
                runtime.want_pull(node_id, share=False)

        changes.on(INGEST_PULL, pull_wanted)
    return changes


def _relay_transport(app: FastAPI) -> Transport | None:
    state: NodeState = app.state.node
    if app.state.ingest is not None:
        return LocalTransport(state, app.state.ingest)
    return HttpTransport(state) if state.settings.global_url else None


def allowed_roles(route: APIRoute) -> frozenset[Role]:
    """The roles a route declares with `access(...)`; a route without one is a bug."""
    guard = guard_of(route)
    if guard is None:
        raise LookupError(f"{route.path} declares no access rule")
    return guard.roles


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, including those of included routers (not the web pages)."""
    return [route for route in _all_routes(app) if not is_page_route(route)]


def page_routes(app: FastAPI) -> list[APIRoute]:
    """Every web page route of the app (the site's, see `web/routes.py`), whatever its method."""
    return [route for route in _all_routes(app) if is_page_route(route)]


def _all_routes(app: FastAPI) -> list[APIRoute]:
    """FastAPI 0.16x keeps an included router as one opaque route holding the original router, so
    `app.routes` alone shows none of them; we look inside. We include routers without an extra
    prefix, so the original routes' paths are the served paths.
    """
    found: list[APIRoute] = []
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            found.append(route)
            continue
        included = getattr(route, "original_router", None)
        if included is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            if prefix:
                raise LookupError(f"routers are included without a prefix, not {prefix!r}")
            pending.extend(included.routes)
    return found


def _describe_access(app: FastAPI) -> None:
    for route in api_routes(app):
        roles = allowed_roles(route)
        who = "anyone" if Role.PUBLIC in roles else ", ".join(sorted(r.value for r in roles))
        # The routers' routes are shared by every app made in one process (the tests make many).
        if "**Who may call:**" not in route.description:
            route.description = f"{route.description}\n\n**Who may call:** {who}".strip()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_required(_request: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(exc.language_code, exc.next_path)

    @app.exception_handler(EnrolmentRequired)
    async def enrolment_required(_request: Request, exc: EnrolmentRequired) -> Response:
        return enrolment_redirect(exc.language_code)

    @app.exception_handler(PageForbidden)
    async def page_forbidden(request: Request, _exc: PageForbidden) -> Response:
        return error_page(request, status_code=403)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
        return error_page(request, status_code=403, kind="expired_form")

    @app.exception_handler(NodeError)
    async def node_error(request: Request, exc: NodeError) -> Response:
        if page_language(request) is not None:
            return error_page(request, status_code=exc.status_code, detail=exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {**exc.extra, "detail": exc.message, "code": exc.code},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if page_language(request) is not None:
            return error_page(request, status_code=exc.status_code)
        # Starlette's own refusals (an unknown path, a method a path does not take) in our shape.
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
        return JSONResponse(
            {"detail": str(exc.detail), "code": code},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(CredentialsError)
    async def credentials_error(_request: Request, exc: CredentialsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "code": "invalid_credential"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if page_language(request) is not None:
            return error_page(request, status_code=400)
        problems = [
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        ]
        # Only these members: `ctx` may hold the exception a validator raised and `input` a
        # non-finite number, neither of which JSON can carry.
        errors = [{key: error[key] for key in ("type", "loc", "msg")} for error in exc.errors()]
        return JSONResponse(
            {"detail": "; ".join(problems), "code": "invalid_request", "errors": errors},
            status_code=422,
        )
