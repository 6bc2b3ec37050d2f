"""The operator commands' client for a node's API: a bearer token, no redirects, capped bodies.

Every failure becomes a `CliError` with one line for the user:

- the node answered 4xx: its `detail` (the reason the API gives), exit 1;
- the node answered 5xx, or something that is not JSON: exit 1, saying so;
- the node could not be asked (refused, timed out, 502/503/504 from a proxy in front of it):
  exit 3, "cannot decide", so that a script knows that trying again may help.

Requests carry `Accept-Encoding: identity` and bodies are read as a stream and cut off past the
cap, so a wrong URL (or a hostile server) costs a bounded amount of memory.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from sdgcities import __version__

from .errors import CliError, ExitCode, one_line

MAX_ANSWER_BYTES = 8 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
# A whole body must arrive within this many timeouts: a server that drips bytes is cut off.
BODY_DEADLINE_TIMEOUTS = 3
_GATEWAY_STATUSES = frozenset({502, 503, 504})


class NodeApi:
    """`get` / `post` / `patch` / `put` / `delete` against `base_url`, as the token's account."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={
                "User-Agent": f"sdgcities/{__version__}",
                "Accept": "application/json",
                "Accept-Encoding": "identity",
                "Authorization": f"Bearer {token}",
            },
        )

    def __enter__(self) -> NodeApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, body=body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PUT", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def text(self, path: str, *, accept: str) -> str:
        """A non-JSON answer (an HTML report), as text."""
        return self._send("GET", path, accept=accept).decode("utf-8", errors="replace")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        raw = self._send(method, path, params=params, body=body)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CliError(f"{method} {path}: the node did not answer JSON") from exc

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        accept: str = "application/json",
    ) -> bytes:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        deadline = time.monotonic() + BODY_DEADLINE_TIMEOUTS * (
            self._client.timeout.read or DEFAULT_TIMEOUT
        )
        where = f"{self.base_url}{path}"
        try:
            with self._client.stream(
                method, path, params=query, json=body, headers={"Accept": accept}
            ) as response:
                raw = _read_capped(response, where, deadline)
                status = response.status_code
                location = response.headers.get("location")
        except httpx.HTTPError as exc:
            raise CliError(
                f"the node at {self.base_url} is unreachable: {exc or type(exc).__name__}",
                ExitCode.CANNOT_DECIDE,
            ) from exc
        if 200 <= status < 300:
            return raw
        if 300 <= status < 400:
            raise CliError(f"{where} redirects to {location or 'elsewhere'}; not followed")
        reason = _detail(raw) or httpx.codes.get_reason_phrase(status)
        if status in _GATEWAY_STATUSES:
            raise CliError(
                f"the node is unavailable (HTTP {status}): {reason}", ExitCode.CANNOT_DECIDE
            )
        if status >= 500:
            raise CliError(f"the node failed (HTTP {status}): {reason}")
        if status == 401:
            raise CliError(f"the node refused the token: {reason}")
        raise CliError(reason)


def _read_capped(response: httpx.Response, where: str, deadline: float) -> bytes:
    coding = response.headers.get("content-encoding", "identity").strip().lower()
    if coding not in ("", "identity"):
        raise CliError(f"{where} answered with content coding {coding!r}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise CliError(f"the answer of {where} is larger than {MAX_ANSWER_BYTES} bytes")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise CliError(f"the answer of {where} is larger than {MAX_ANSWER_BYTES} bytes")
        if time.monotonic() > deadline:
            raise CliError(f"{where} is too slow: the answer did not arrive in time")
    return bytes(body)


def _detail(raw: bytes) -> str:
    """The API's `detail` (a string, or FastAPI's list of problems), on one line."""
    try:
        answer = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return one_line(raw.decode("utf-8", errors="replace"), limit=300)
    detail = answer.get("detail") if isinstance(answer, dict) else None
    if isinstance(detail, list):
        detail = "; ".join(str(p.get("msg", p)) if isinstance(p, dict) else str(p) for p in detail)
    return one_line(detail, limit=1000) if detail else ""
