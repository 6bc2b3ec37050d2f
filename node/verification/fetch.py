"""Where the node's verifier gets status lists: its own from its database, others' over HTTP.

Outbound requests follow no redirects and read at most `MAX_STATUS_LIST_BYTES`; the verifier has
already checked that the URL lies under the issuing node's base URL on the trust list.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

import httpx
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from sdgcities.credentials import StatusListUnavailable
from sdgcities.credentials.verify import DEFAULT_STATUS_MAX_AGE, MAX_STATUS_LIST_BYTES


class HttpStatusListFetcher:
    def __init__(self, client: httpx.Client, *, max_bytes: int = MAX_STATUS_LIST_BYTES) -> None:
        self._client, self._max_bytes = client, max_bytes

    def __call__(self, url: str) -> str:
        try:
            with self._client.stream(
                "GET", url, headers={"Accept": "application/vc+jwt"}, follow_redirects=False
            ) as response:
                if response.status_code != httpx.codes.OK:
                    raise StatusListUnavailable(
                        f"status list {url} answered {response.status_code}"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise StatusListUnavailable(f"status list {url} is too large")
        except httpx.HTTPError as exc:
            raise StatusListUnavailable(f"status list {url} is unreachable: {exc}") from exc
        try:
            return body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise StatusListUnavailable(f"status list {url} is not a compact JWS") from exc


_request_session: ContextVar[Session | None] = ContextVar("request_session", default=None)


@contextmanager
def reading_with(session: Session) -> Iterator[None]:
    """Within this block, this node's own status lists are read through the request's session."""
    reset = _request_session.set(session)
    try:
        yield
    finally:
        _request_session.reset(reset)


class NodeStatusListFetcher:
    """Reads this node's own lists from its database, so verifying never calls itself over HTTP.

    Its own lists are read on every call, never cached: a suspension or revocation the committee
    has just decided shows in the next answer. Other nodes' lists are kept for `remote_max_age`
    (the verifier re-checks their signature and validity on every use).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        own_prefix: str,
        remote: HttpStatusListFetcher,
        remote_max_age: timedelta = DEFAULT_STATUS_MAX_AGE,
    ) -> None:
        self._engine, self._own_prefix, self._remote = engine, own_prefix, remote
        self._remote_max_age = remote_max_age.total_seconds()
        # Plain dict reads and writes are atomic; a race costs at most one extra fetch.
        self._remote_cache: dict[str, tuple[float, str]] = {}

    def __call__(self, url: str) -> str:
        if not url.startswith(self._own_prefix):
            return self._fetch_remote(url)
        list_id = url.removeprefix(self._own_prefix)
        query = text("SELECT token FROM status_list WHERE list_id = :list_id")
        try:
            session = _request_session.get()
            if session is not None:
                token = session.execute(query, {"list_id": list_id}).scalar()
            else:
                with self._engine.connect() as connection:
                    token = connection.execute(query, {"list_id": list_id}).scalar()
        except SQLAlchemyError as exc:
            raise StatusListUnavailable(f"status list {list_id!r} cannot be read: {exc}") from exc
        if not isinstance(token, str):
            raise StatusListUnavailable(f"this node publishes no status list {list_id!r}")
        return token

    def _fetch_remote(self, url: str) -> str:
        now = time.monotonic()
        cached = self._remote_cache.get(url)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = self._remote(url)
        self._remote_cache[url] = (now + self._remote_max_age, token)
        return token
