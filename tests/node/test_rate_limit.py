"""Rate limits on the anonymous routes: a token bucket per client address, X-Forwarded-For
honoured only from a trusted proxy, 429 with Retry-After before the body is read."""

from __future__ import annotations

import ipaddress

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sdgcities.node.app import create_app
from sdgcities.node.rate_limit import TokenBuckets, client_key

from .conftest import Backend

PROXY = "10.0.0.2"
TRUSTED = [ipaddress.ip_network("10.0.0.0/8")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_capacity_then_one_per_refill_interval() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=3, period=60, max_keys=10, clock=clock)

    assert [buckets.take("a") for _ in range(3)] == [None, None, None]
    assert buckets.take("a") == pytest.approx(20.0)
    assert buckets.take("b") is None  # another client has its own bucket
    clock.now += 19.0
    assert buckets.take("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert buckets.take("a") is None
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][-1] is not None  # refilled to 3, not more


def test_buckets_are_bounded_least_recently_seen_first() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=1, period=60, max_keys=2, clock=clock)
    assert buckets.take("a") is None
    assert buckets.take("b") is None
    assert buckets.take("a") is not None  # a is now the most recently seen
    assert buckets.take("c") is None  # b is dropped

    assert len(buckets) == 2
    assert buckets.take("a") is not None  # still limited
    assert buckets.take("b") is None  # forgotten: full again


def _scope(peer: str, forwarded: str | None = None) -> dict[str, object]:
    headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
    return {"type": "http", "client": (peer, 5000), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.7", "203.0.113.5"),  # not a trusted proxy: ignored
        (PROXY, None, PROXY),
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # what the client wrote is ignored
        (PROXY, "198.51.100.7, 10.0.0.9", "198.51.100.7"),  # through two trusted proxies
        (PROXY, "10.0.0.8, 10.0.0.9", "10.0.0.8"),
        ("::ffff:203.0.113.5", None, "203.0.113.5"),
        ("2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),
        (PROXY, "2001:db8:1:2::9", "2001:db8:1:2::/64"),
    ],
)
def test_the_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_key(_scope(peer, forwarded), TRUSTED) == expected


def _app(backend: Backend, **limits: object) -> FastAPI:
    settings = backend.settings.model_copy(update=limits)
    return create_app(settings, engine=backend.engine)


@pytest.fixture
def limited(backend: Backend) -> FastAPI:
    return _app(
        backend,
        rate_limit_verify_per_minute=2,
        trusted_proxies=TRUSTED,
    )


def _verify(app: FastAPI, peer: str, forwarded: str | None = None) -> object:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    with TestClient(app, client=(peer, 5000)) as client:
        return client.post("/verify", json={"jwt": "not-a-token"}, headers=headers)


def test_verify_answers_429_with_retry_after_past_the_limit(limited: FastAPI) -> None:
    assert _verify(limited, "203.0.113.5").status_code == 200
    assert _verify(limited, "203.0.113.5").status_code == 200
    refused = _verify(limited, "203.0.113.5")

    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 25 <= retry_after <= 30  # a token every 30 s
    assert refused.json() == {
        "detail": (
            "too many verifications from this address: at most 2 in a row; "
            f"try again in {retry_after} s"
        ),
        "code": "rate_limited",
    }
    # Another client is not held back by the first.
    assert _verify(limited, "203.0.113.6").status_code == 200


def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(limited: FastAPI) -> None:
    # Two clients behind the proxy are counted apart.
    for _ in range(2):
        assert _verify(limited, PROXY, "198.51.100.7").status_code == 200
    assert _verify(limited, PROXY, "198.51.100.7").status_code == 429
    assert _verify(limited, PROXY, "198.51.100.8").status_code == 200
    # A client that writes the header itself is still counted by its own address.
    assert _verify(limited, "203.0.113.9", "1.1.1.1").status_code == 200
    assert _verify(limited, "203.0.113.9", "2.2.2.2").status_code == 200
    assert _verify(limited, "203.0.113.9", "3.3.3.3").status_code == 429


def test_a_refusal_reads_no_body(limited: FastAPI) -> None:
    for _ in range(2):
        _verify(limited, "203.0.113.20")
    with TestClient(limited, client=("203.0.113.20", 5000)) as client:
        refused = client.post("/verify", content=b"{" * 10, headers={"Content-Type": "x"})
    assert refused.status_code == 429  # not 422: the body was never parsed


def test_join_requests_are_limited_on_the_global_node(backend: Backend) -> None:
    app = _app(backend, node_id="global", rate_limit_join_per_hour=1)
    with TestClient(app, client=("203.0.113.30", 5000)) as client:
        first = client.post("/federation/join", json={"token": "x"})
        second = client.post("/federation/join", json={"token": "x"})
    assert first.status_code == 422  # counted, then refused for what it is
    assert second.status_code == 429
    assert 3590 <= int(second.headers["retry-after"]) <= 3600  # a token an hour
    assert "too many join requests" in second.json()["detail"]


def test_a_limit_of_zero_is_no_limit(backend: Backend) -> None:
    app = _app(backend, rate_limit_verify_per_minute=0)
    assert all(_verify(app, "203.0.113.40").status_code == 200 for _ in range(5))
