"""Rate limits on the routes anyone may call without an account (`POST /verify`,
`POST /federation/join`): a token bucket per client address and route, in this process.

- **Which client**: the connection's peer address; `X-Forwarded-For` is honoured only when that
  peer is one of `SDGCITIES_TRUSTED_PROXIES` (CIDRs), and then the client is the rightmost
  address in it that is not itself a trusted proxy (what lies left of it, anyone could have
  written). IPv6 clients are counted per /64, the block one subscriber usually holds.
- **Bounded memory**: at most `SDGCITIES_RATE_LIMIT_TRACKED_CLIENTS` buckets per route; the
  least recently seen is dropped first (a dropped bucket is a full one again: it costs a client
  who was limited a fresh start, never an honest client a refusal).
- A refusal is 429 with `Retry-After` (whole seconds until a token is back) and a `detail`,
  before the body is read. Plain ASGI, for the reason given in `body_limit.py`.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .route_match import RouteMatch

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV6_CLIENT_PREFIX = 64

PageRefusal = Callable[[Scope, int, dict[str, str]], Response | None]
"""A refusal as a web page, for a page's path (None: not a page, answer the API's JSON)."""


class TokenBuckets:
    """`capacity` requests at once per key, refilled at `capacity` per `period` seconds."""

    def __init__(
        self,
        *,
        capacity: int,
        period: float,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity, self.max_keys, self._clock = capacity, max_keys, clock
        self._refill_per_second = capacity / period
        # key -> (tokens, when they were counted); most recently seen last.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float | None:
        """Take a token for `key`: None if there was one, else the seconds until there is."""
        now = self._clock()
        with self._lock:
            tokens, counted_at = self._buckets.pop(key, (float(self.capacity), now))
            tokens = min(self.capacity, tokens + (now - counted_at) * self._refill_per_second)
            wait = None if tokens >= 1 else (1 - tokens) / self._refill_per_second
            self._buckets[key] = (tokens - 1 if wait is None else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


@dataclass(frozen=True, slots=True)
class RouteRateLimit:
    route: RouteMatch
    buckets: TokenBuckets
    what: str  # "verifications", "join requests": for the refusal's detail


def client_key(scope: Scope, trusted_proxies: Sequence[IpNetwork]) -> str:
    """Who a request counts against: see the module docstring."""
    peer = scope["client"][0] if scope.get("client") else ""
    address = _parse(peer)
    if address is not None and _trusted(address, trusted_proxies):
        forwarded = Headers(scope=scope).getlist("x-forwarded-for")
        hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            hop_address = _parse(hop)
            if hop_address is None:
                return hop  # what the trusted proxy wrote, as it wrote it
            address = hop_address
            if not _trusted(hop_address, trusted_proxies):
                break
    if address is None:
        return peer
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[IpNetwork]
) -> bool:
    return any(address in network for network in proxies)


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Sequence[RouteRateLimit],
        trusted_proxies: Sequence[IpNetwork] = (),
        page_refusal: PageRefusal | None = None,
    ) -> None:
        self.app, self.limits, self.trusted_proxies = app, tuple(limits), tuple(trusted_proxies)
        self.page_refusal = page_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for limit in self.limits:
                if not limit.route.applies(scope):
                    continue
                wait = limit.buckets.take(client_key(scope, self.trusted_proxies))
                if wait is not None:
                    retry_after = max(1, math.ceil(wait))
                    detail = (
                        f"too many {limit.what} from this address: at most "
                        f"{limit.buckets.capacity} in a row; try again in {retry_after} s"
                    )
                    headers = {"Retry-After": str(retry_after)}
                    page = self.page_refusal(scope, 429, headers) if self.page_refusal else None
                    response = page or JSONResponse(
                        {"detail": detail, "code": "rate_limited"},
                        status_code=429,
                        headers=headers,
                    )
                    await response(scope, receive, send)
                    return
                break
        await self.app(scope, receive, send)
