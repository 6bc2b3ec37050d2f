"""The node's outbound HTTP client: an overall deadline per request, public addresses only.

Every request a node sends (status lists, the trust list, joining, relaying reports, pulling a
member's log) goes through `outbound_client(settings)`:

- **An overall deadline.** httpx's timeouts bound each operation, so a peer that sends one byte
  every two seconds never trips a five-second read timeout and holds the caller for as long as
  it likes. `OutboundTransport` gives each request `outbound_deadline_seconds` of wall clock,
  from connecting to the last byte of the answer read: its network streams shorten every
  connect, TLS handshake, write and read to what is left, and refuse to start one once the time
  is up (`httpx.TimeoutException`, which callers already handle as "unreachable").
- **Public addresses only, in production.** A base URL names a host; what it resolves to can
  change between the check and the connection (DNS rebinding). So the transport resolves the
  host itself when it connects and refuses a connection to any address that is not public
  (loopback, private, link-local and cloud metadata, CGNAT, multicast, reserved, unspecified,
  and the IPv4-mapped and 6to4 forms of these); TLS still checks the certificate against the
  name; the lookup counts against the deadline. In development (the demo federation runs on
  127.0.0.1) any address is accepted.
- No redirects, no proxy taken from the environment (it would connect on our behalf, unchecked).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import ContextVar
from functools import cache
from typing import Any

import httpcore
import httpx

from .config import Environment, Settings

Resolver = Callable[[str, int], list[str]]
"""Host and port to the addresses to try, in order (`getaddrinfo` by default; tests replace it:
DNS is outside the system)."""

PER_OPERATION_TIMEOUT = 5.0
# `getaddrinfo` takes no timeout: lookups run here so that a caller waits no longer than its
# deadline (a lookup that hangs keeps its thread until the system resolver gives up).
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")
_deadline: ContextVar[float | None] = ContextVar("outbound_deadline", default=None)


def is_public_address(address: str) -> bool:
    """Whether an IP address is one a node may be asked to connect to in production."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public_address(str(embedded))
        if ip.teredo is not None:
            return False  # a tunnel to an address we cannot see
    if ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified:
        return False
    # `is_global` is false for loopback, private (RFC 1918, fc00::/7 such as fd00:ec2::254),
    # 169.254/16 (metadata at 169.254.169.254), CGNAT 100.64/10 and the other special ranges.
    return ip.is_global


def resolve_host(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"{host} cannot be resolved: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _within_deadline(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout`, shortened to what is left of the current request's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's overall deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _within_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Connects within the deadline and, when `public_only`, to checked addresses only."""

    def __init__(self, *, public_only: bool, resolve: Resolver) -> None:
        self._public_only, self._resolve = public_only, resolve
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = [host]
        if self._public_only:
            addresses = self._lookup(host, port, timeout)
            refused = [a for a in addresses if not is_public_address(a)]
            if refused or not addresses:
                raise httpcore.ConnectError(
                    f"{host} resolves to {', '.join(refused) or 'nothing'}: "
                    "not a public address, refused"
                )
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = self._backend.connect_tcp(
                    address,
                    port,
                    _within_deadline(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        assert failure is not None  # at least one address was tried
        raise failure

    def _lookup(self, host: str, port: int, timeout: float | None) -> list[str]:
        limit = _within_deadline(timeout, httpcore.ConnectTimeout)
        try:
            return _LOOKUPS.submit(self._resolve, host, port).result(timeout=limit)
        except FutureTimeout as exc:
            raise httpcore.ConnectTimeout(f"looking up {host} took too long") from exc

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """An answer's body, read under the deadline of the request that asked for it."""

    def __init__(self, stream: httpx.SyncByteStream, deadline: float) -> None:
        self._stream, self._deadline = stream, deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._stream)
        while True:
            reset = _deadline.set(self._deadline)
            try:
                chunk = next(chunks, None)
            finally:
                _deadline.reset(reset)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._stream.close()


class OutboundTransport(httpx.HTTPTransport):
    def __init__(
        self,
        *,
        deadline_seconds: float,
        public_only: bool,
        resolve: Resolver = resolve_host,
    ) -> None:
        super().__init__(verify=tls_context(), trust_env=False)
        self.deadline_seconds = deadline_seconds
        limits = httpx.Limits()
        # httpx takes no network backend of its own; the connection pool it wraps does, so the
        # pool is rebuilt with ours (no proxy is configured, so `_pool` is a ConnectionPool).
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(public_only=public_only, resolve=resolve),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.deadline_seconds
        reset = _deadline.set(deadline)
        try:
            response = super().handle_request(request)
        finally:
            _deadline.reset(reset)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _DeadlineBody(response.stream, deadline)
        return response


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings and certificate authorities every client of this process shares: making
    a context reads the whole CA bundle (tens of milliseconds of CPU), and a node made one for
    each client it opened, three per application start."""
    return httpx.create_ssl_context(trust_env=False)


def outbound_client(settings: Settings, *, resolve: Resolver = resolve_host) -> httpx.Client:
    """The client for every request this node sends to another node."""
    transport = OutboundTransport(
        deadline_seconds=settings.outbound_deadline_seconds,
        public_only=settings.environment is Environment.PRODUCTION,
        resolve=resolve,
    )
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(PER_OPERATION_TIMEOUT),
        trust_env=False,
    )
