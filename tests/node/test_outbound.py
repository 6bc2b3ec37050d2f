"""The node's outbound client: an overall deadline on every request, and in production
connections to public addresses only, checked when connecting (DNS rebinding)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from sdgcities.node.config import Environment, Settings
from sdgcities.node.outbound import is_public_address, outbound_client

from ..slow_peer import slow_peer


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "169.254.1.1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fe80::1",
        "::1",
        "::",
        "0.0.0.0",  # noqa: S104 - an address to refuse, nothing binds to it
        "224.0.0.1",
        "ff02::1",
        "100.64.0.1",  # CGNAT
        "240.0.0.1",
        "255.255.255.255",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "2001:0::1",  # Teredo
        "not an address",
    ],
)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


def _settings(environment: Environment, deadline: float = 1.0) -> Settings:
    return Settings(
        environment=environment,
        key_passphrase="a secret of our own",
        base_url="https://ke.sdgcities.example",
        outbound_deadline_seconds=deadline,
        _env_file=None,  # type: ignore[call-arg]
    )


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_slow_peer_cannot_hold_a_request_past_its_deadline() -> None:
    with (
        slow_peer(interval=0.2) as (port, _),
        outbound_client(_settings(Environment.DEVELOPMENT, deadline=1.0)) as client,
    ):
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException, match=r"timed out|deadline"):
            client.get(f"http://127.0.0.1:{port}/status/r-1")
        elapsed = time.monotonic() - started

    # Each byte came well within the 5 s read timeout: only the overall deadline stops it.
    assert 0.9 < elapsed < 1.6


def test_a_streamed_answer_is_read_under_the_same_deadline() -> None:
    with (
        slow_peer(interval=0.2) as (port, _),
        outbound_client(_settings(Environment.DEVELOPMENT, deadline=1.0)) as client,
    ):
        started = time.monotonic()
        with (
            pytest.raises(httpx.TimeoutException),
            client.stream("GET", f"http://127.0.0.1:{port}/status/r-1") as response,
        ):
            for _chunk in response.iter_bytes():
                pass
        assert time.monotonic() - started < 1.6


def test_each_request_has_its_own_deadline(local_server: int) -> None:
    with outbound_client(_settings(Environment.DEVELOPMENT, deadline=0.5)) as client:
        for _ in range(3):
            assert client.get(f"http://127.0.0.1:{local_server}/").text == "ok"
            time.sleep(0.3)  # 0.9 s in all: more than one deadline, less than any request


def test_development_connects_to_loopback(local_server: int) -> None:
    with outbound_client(_settings(Environment.DEVELOPMENT)) as client:
        assert client.get(f"http://127.0.0.1:{local_server}/").status_code == 200


def test_production_refuses_a_loopback_address(local_server: int) -> None:
    with (
        outbound_client(_settings(Environment.PRODUCTION)) as client,
        pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1: not a public address"),
    ):
        client.get(f"http://127.0.0.1:{local_server}/")


def test_production_checks_the_address_a_name_resolves_to_when_connecting(
    local_server: int,
) -> None:
    """DNS rebinding: the name was public when a join request was checked; it now resolves
    to a private address, and the connection is refused."""
    answers = {"ke.sdgcities.example": ["10.0.0.7"]}

    def resolve(host: str, _port: int) -> list[str]:
        return answers[host]

    with outbound_client(_settings(Environment.PRODUCTION), resolve=resolve) as client:
        with pytest.raises(httpx.ConnectError, match=r"10\.0\.0\.7: not a public address"):
            client.get("http://ke.sdgcities.example/status/r-1")
        answers["ke.sdgcities.example"] = ["93.184.216.34", "127.0.0.1"]
        with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1: not a public address"):
            client.get(f"http://ke.sdgcities.example:{local_server}/")


def test_development_connects_by_name_without_the_check(local_server: int) -> None:
    seen: list[str] = []

    def resolve(host: str, _port: int) -> list[str]:
        seen.append(host)
        return ["10.0.0.7"]

    with outbound_client(_settings(Environment.DEVELOPMENT), resolve=resolve) as client:
        assert client.get(f"http://localhost:{local_server}/").status_code == 200
    assert seen == []


def test_a_slow_name_lookup_counts_against_the_deadline() -> None:
    def slow_dns(_host: str, _port: int) -> list[str]:
        time.sleep(2.0)
        return ["93.184.216.34"]

    started = time.monotonic()
    with (
        outbound_client(
            _settings(Environment.PRODUCTION, deadline=0.5), resolve=slow_dns
        ) as client,
        pytest.raises(httpx.ConnectTimeout, match=r"looking up ke\.sdgcities\.example"),
    ):
        client.get("https://ke.sdgcities.example/status/r-1")
    assert time.monotonic() - started < 1.0


def test_production_refuses_a_name_that_resolves_to_nothing() -> None:
    with (
        outbound_client(_settings(Environment.PRODUCTION), resolve=lambda _h, _p: []) as client,
        pytest.raises(httpx.ConnectError, match="resolves to nothing"),
    ):
        client.get("https://ke.sdgcities.example/status/r-1")
