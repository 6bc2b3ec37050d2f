"""`StaticFederation`: a real HTTP server on 127.0.0.1 serving fixed, signed files.

It stands in for the global node and a national node until the federation's own multi-node tests
exist: `/federation/trust-list`, `/ke/status` (the status-list index), `/ke/status/<id>`,
`/registry/cities/<locode>` and `/registry/credentials/<id>`, whatever a test puts in `routes`.
Every request is recorded, so a test can show which were (or were not) made.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True  # False: no Content-Length, the body ends when the connection closes


@dataclass
class Request:
    path: str
    accept: str | None


class StaticFederation:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve(
        self,
        path: str,
        body: str | bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        length: bool = True,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, status, content_type, headers or {}, length)

    def redirect(self, path: str, target: str) -> None:
        self.serve(path, b"", status=302, headers={"Location": target})

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def start(self) -> StaticFederation:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        federation = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                federation.requests.append(Request(path, self.headers.get("Accept")))
                route = federation.routes.get(path)
                if route is None:
                    route = Route(b'{"detail": "not found"}', 404)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler
