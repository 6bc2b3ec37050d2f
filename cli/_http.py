"""Outbound HTTP for the investor commands: no redirects, timeouts, and a cap on every body.

Bodies are streamed and the read stops one byte past the cap, so a hostile or broken server
costs a bounded amount of memory. Responses are asked for without content coding
(`Accept-Encoding: identity`) and a compressed answer is refused, so the cap counts the bytes
that are kept. A redirect is an error, never followed: every URL the commands fetch is one the
pinned trust list (or the user) named.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from sdgcities import __version__
from sdgcities.credentials import StatusListUnavailable

TRUST_LIST_MEDIA_TYPE = "application/trust-list+jwt"
VC_JWT_MEDIA_TYPE = "application/vc+jwt"
MAX_TRUST_LIST_BYTES = 4 * 1024 * 1024
MAX_STATUS_LIST_BYTES = 1024 * 1024
MAX_CERTIFICATE_BYTES = 64 * 1024
MAX_JSON_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 10.0
# The timeout applies to each network operation; a whole body must also arrive within this many
# timeouts, so a server that drips a byte at a time cannot hold a command for ever.
BODY_DEADLINE_TIMEOUTS = 3


class FetchError(Exception):
    """A request that gave no usable body; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def new_client(*, timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": f"sdgcities/{__version__}", "Accept-Encoding": "identity"},
    )


def fetch_bytes(client: httpx.Client, url: str, *, accept: str, max_bytes: int) -> bytes:
    """GET `url`: the body of a 200 answer of at most `max_bytes`, or `FetchError`."""
    deadline = time.monotonic() + BODY_DEADLINE_TIMEOUTS * (client.timeout.read or DEFAULT_TIMEOUT)
    try:
        with client.stream("GET", url, headers={"Accept": accept}) as response:
            status = response.status_code
            if response.is_redirect:
                target = response.headers.get("location", "elsewhere")
                raise FetchError(
                    f"{url} redirects to {target}; redirects are not followed", status=status
                )
            if status != httpx.codes.OK:
                raise FetchError(f"{url} answered HTTP {status}", status=status)
            coding = response.headers.get("content-encoding", "identity").strip().lower()
            if coding not in ("", "identity"):
                raise FetchError(f"{url} answered with content coding {coding!r}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{url} is larger than {max_bytes} bytes")
            body = bytearray()
            for chunk in response.iter_bytes():  # identity only (checked above): raw bytes
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"{url} is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} is too slow: the body did not arrive in time")
    except httpx.HTTPError as exc:
        raise FetchError(f"{url} is unreachable: {exc or type(exc).__name__}") from exc
    return bytes(body)


def fetch_token(client: httpx.Client, url: str, *, accept: str, max_bytes: int) -> str:
    """A compact JWS (ASCII text) published at `url`."""
    body = fetch_bytes(client, url, accept=accept, max_bytes=max_bytes)
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise FetchError(f"{url} did not answer a compact JWS") from exc


def fetch_json(client: httpx.Client, url: str, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    body = fetch_bytes(client, url, accept="application/json", max_bytes=max_bytes)
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FetchError(f"{url} did not answer JSON") from exc


class HttpStatusListFetcher:
    """The `credentials.Verifier`'s status-list fetcher, over this module's capped requests."""

    def __init__(self, client: httpx.Client, *, max_bytes: int = MAX_STATUS_LIST_BYTES) -> None:
        self._client, self._max_bytes = client, max_bytes

    def __call__(self, url: str) -> str:
        try:
            return fetch_token(
                self._client, url, accept=VC_JWT_MEDIA_TYPE, max_bytes=self._max_bytes
            )
        except FetchError as exc:
            raise StatusListUnavailable(f"status list {exc}") from exc
