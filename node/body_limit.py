"""`RequestSizeLimit`: every request body is capped, counted as its bytes arrive.

A declared `Content-Length` over the cap is refused before anything is read; a body without one
(chunked) or that lies about it is refused at the first chunk past the cap, so no route ever
buffers more than the cap. Most routes take `SDGCITIES_MAX_REQUEST_BYTES`; a route that takes
larger bodies (evidence uploads, federation reports) names its own cap by method and path, never
by the content type the client chose.

Plain ASGI rather than `@app.middleware("http")`: Starlette's `BaseHTTPMiddleware` runs the rest
of the app in a separate task and re-streams every body, a cost on every request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import PayloadTooLarge
from .rate_limit import PageRefusal
from .route_match import RouteMatch


@dataclass(frozen=True, slots=True)
class RouteBodyCap:
    """The cap of one route's bodies, in place of the default, and the route's own words for a
    body over it."""

    route: RouteMatch
    max_bytes: int
    detail: str

    @classmethod
    def for_route(
        cls, method: str, path_template: str, max_bytes: int, *, detail: str
    ) -> RouteBodyCap:
        return cls(RouteMatch.of(method, path_template), max_bytes, detail)


class _BodyTooLarge(Exception):
    """Raised into the route from `receive`: it stops reading, and the 413 is ours to send."""


class RequestSizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        routes: Sequence[RouteBodyCap] = (),
        page_refusal: PageRefusal | None = None,
    ) -> None:
        self.app, self.max_bytes, self.routes = app, max_bytes, tuple(routes)
        self.page_refusal = page_refusal

    def cap_for(self, scope: Scope) -> tuple[int, str]:
        """The cap of this request's body, and what a refusal says."""
        for route in self.routes:
            if route.route.applies(scope):
                return route.max_bytes, route.detail
        return self.max_bytes, f"request bodies are limited to {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap, detail = self.cap_for(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await _refuse(detail, scope, receive, send, self.page_refusal)
            return
        received = 0
        refused = answered = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    refused = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            # Whatever the app answers to a read we cut short (FastAPI: 400 "error parsing the
            # body") is replaced by the 413.
            if refused and not answered:
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise
        if refused and not answered:
            await _refuse(detail, scope, receive, send, self.page_refusal)


async def _refuse(
    detail: str, scope: Scope, receive: Receive, send: Send, page_refusal: PageRefusal | None
) -> None:
    error = PayloadTooLarge(detail)
    # The rest of the body is not read: the connection cannot carry another request.
    headers = {"Connection": "close"}
    page = page_refusal(scope, error.status_code, headers) if page_refusal else None
    response = page or JSONResponse(
        {"detail": error.message, "code": error.code},
        status_code=error.status_code,
        headers=headers,
    )
    await response(scope, receive, send)
