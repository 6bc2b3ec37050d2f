"""Where the node's verifier gets status lists: its own from its database, others' over HTTP.

Outbound requests follow no redirects and read at most `MAX_STATUS_LIST_BYTES`; the verifier has
already checked that the URL lies under the issuing node's base URL on the trust list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from sdgcities.credentials import StatusListCache, StatusListUnavailable
from sdgcities.credentials.status_memory import DEFAULT_CACHE_BYTES
from sdgcities.credentials.verify import DEFAULT_STATUS_MAX_AGE, MAX_STATUS_LIST_BYTES
from sdgcities.node.db import SessionOpener

OWN_STATUS_MAX_AGE = timedelta(seconds=2)


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


@dataclass
class _Reads:
    """How this verification may get a list it does not hold: through `open_session` (this
    node's own), over HTTP (others'), or not at all (`may_wait` false: answer from memory)."""

    open_session: SessionOpener | None
    may_wait: bool = True
    would_wait: bool = False

    def refuse_to_wait(self, what: str) -> None:
        if not self.may_wait:
            self.would_wait = True
            raise StatusListUnavailable(f"{what} is not in memory")


_reads: ContextVar[_Reads | None] = ContextVar("status_list_reads", default=None)


@contextmanager
def reading_with(open_session: SessionOpener) -> Iterator[None]:
    """Within this block, this node's own status lists are read through `open_session`."""
    reset = _reads.set(_Reads(open_session))
    try:
        yield
    finally:
        _reads.reset(reset)


@contextmanager
def from_memory() -> Iterator[_Reads]:
    """Within this block nothing is read or fetched: a list not held fails, and `would_wait`
    says so, so that the caller can verify again where waiting is allowed."""
    reads = _Reads(None, may_wait=False)
    reset = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(reset)


class NodeStatusListFetcher:
    """Reads this node's own lists from its database, so verifying never calls itself over HTTP.

    Its own lists are kept in memory and dropped the moment this process changes one
    (`own_list_changed`, called when a list is re-signed and again when that transaction
    commits), so a suspension or revocation the committee has just decided shows in the next
    answer. `own_max_age` bounds how long a change made by another process (a second replica on
    the same database) can go unseen. A generation counter keeps a read that began before a
    change from caching what it read. Other nodes' lists are kept for `remote_max_age` (the
    verifier re-checks their signature and validity on every use).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        own_prefix: str,
        remote: HttpStatusListFetcher,
        remote_max_age: timedelta = DEFAULT_STATUS_MAX_AGE,
        own_max_age: timedelta = OWN_STATUS_MAX_AGE,
        remote_cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self._engine, self._own_prefix, self._remote = engine, own_prefix, remote
        self._remote_max_age = remote_max_age.total_seconds()
        self._own_max_age = own_max_age.total_seconds()
        # Other nodes' lists within a byte budget (any certificate may name any list of its
        # issuer); this node's own are few. A race costs at most one extra fetch.
        self._remote_cache: StatusListCache[tuple[float, str]] = StatusListCache(
            max_bytes=remote_cache_bytes
        )
        self._own_cache: dict[str, tuple[float, str]] = {}
        self._own_generation = 0
        self._own_lock = threading.Lock()

    def own_list_changed(self, list_id: str | None = None) -> None:
        """Forget this node's list `list_id` (every one of its lists when None)."""
        with self._own_lock:
            self._own_generation += 1
            if list_id is None:
                self._own_cache.clear()
            else:
                self._own_cache.pop(list_id, None)

    def __call__(self, url: str) -> str:
        if not url.startswith(self._own_prefix):
            return self._fetch_remote(url)
        list_id = url.removeprefix(self._own_prefix)
        now = time.monotonic()
        cached = self._own_cache.get(list_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        reads = _reads.get()
        if reads is not None:
            reads.refuse_to_wait(f"status list {list_id!r}")
        generation = self._own_generation
        token = self._read_own(list_id, reads)
        with self._own_lock:
            if generation == self._own_generation:
                self._own_cache[list_id] = (now + self._own_max_age, token)
        return token

    def _read_own(self, list_id: str, reads: _Reads | None) -> str:
        query = text("SELECT token FROM status_list WHERE list_id = :list_id")
        try:
            if reads is not None and reads.open_session is not None:
                with reads.open_session() as session:
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
        reads = _reads.get()
        if reads is not None:
            reads.refuse_to_wait(f"status list {url}")
        token = self._remote(url)
        self._remote_cache.put(url, (now + self._remote_max_age, token), cost=len(token))
        return token
