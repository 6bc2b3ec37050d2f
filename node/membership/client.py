"""Outbound calls to the global node: no redirects, bodies capped both ways.

Requests go only to the configured global URL or to a base URL on the trust list; anything
else is refused before a socket is opened.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import httpx

from sdgcities.credentials import TRUST_LIST_TYP, TrustList, normalise_base_url
from sdgcities.credentials.trust_list import MAX_TRUST_LIST_BYTES
from sdgcities.node.errors import Conflict, InvalidRequest

MAX_REQUEST_BYTES = 256 * 1024
MAX_RESPONSE_BYTES = 256 * 1024


class FederationUnreachable(Conflict):
    """The global node could not be reached, or answered something unusable."""


def allowed_base_urls(*, global_url: str | None, trust_list: TrustList | None) -> set[str]:
    allowed = {normalise_base_url(global_url)} if global_url else set()
    if trust_list is not None:
        allowed |= {n.base_url for n in trust_list.nodes}
    return allowed


def _check_target(base_url: str, allowed: set[str]) -> str:
    target = normalise_base_url(base_url)
    if target not in allowed:
        raise InvalidRequest(f"{target} is neither the global node nor on the trust list")
    return target


def _read_capped(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FederationUnreachable(f"{what} is larger than {max_bytes} bytes")
    return bytes(body)


def post_json(
    client: httpx.Client, *, base_url: str, path: str, body: dict[str, Any], allowed: set[str]
) -> tuple[int, dict[str, Any]]:
    url = _check_target(base_url, allowed) + path
    data = json.dumps(body).encode()
    if len(data) > MAX_REQUEST_BYTES:
        raise InvalidRequest(f"the request to {url} is larger than {MAX_REQUEST_BYTES} bytes")
    try:
        with client.stream(
            "POST",
            url,
            content=data,
            headers={"Content-Type": "application/json"},
            follow_redirects=False,
        ) as response:
            raw = _read_capped(response, MAX_RESPONSE_BYTES, f"the answer of {url}")
            status = response.status_code
    except httpx.HTTPError as exc:
        raise FederationUnreachable(f"{url} is unreachable: {exc}") from exc
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise FederationUnreachable(
            f"{url} answered {status} with a body that is not JSON"
        ) from exc
    return status, parsed if isinstance(parsed, dict) else {"detail": parsed}


def fetch_trust_list(client: httpx.Client, *, base_url: str, allowed: set[str]) -> str:
    url = _check_target(base_url, allowed) + "/federation/trust-list"
    try:
        with client.stream(
            "GET", url, headers={"Accept": f"application/{TRUST_LIST_TYP}"}, follow_redirects=False
        ) as response:
            if response.status_code != httpx.codes.OK:
                raise FederationUnreachable(f"{url} answered {response.status_code}")
            raw = _read_capped(response, MAX_TRUST_LIST_BYTES, f"the trust list at {url}")
    except httpx.HTTPError as exc:
        raise FederationUnreachable(f"{url} is unreachable: {exc}") from exc
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise FederationUnreachable(f"{url} did not answer a compact JWS") from exc


class Answer(NamedTuple):
    """A capped answer: status, body, and the headers a federation caller acts on."""

    status: int
    body: bytes
    headers: httpx.Headers


def exchange(
    client: httpx.Client,
    *,
    method: str,
    url: str,
    allowed: set[str],
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> Answer:
    """One request to a URL under an allowed base URL, both bodies capped, no redirects."""
    base, separator, _rest = url.partition("/federation/")
    if not separator:
        raise InvalidRequest(f"{url} is not a federation endpoint")
    _check_target(base, allowed)
    if content is not None and len(content) > max_request_bytes:
        raise InvalidRequest(f"the request to {url} is larger than {max_request_bytes} bytes")
    try:
        with client.stream(
            method, url, content=content, headers=headers, follow_redirects=False
        ) as response:
            raw = _read_capped(response, max_response_bytes, f"the answer of {url}")
            return Answer(response.status_code, raw, response.headers)
    except httpx.HTTPError as exc:
        raise FederationUnreachable(f"{url} is unreachable: {exc}") from exc
