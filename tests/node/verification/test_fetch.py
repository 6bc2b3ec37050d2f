"""Where the node's `/verify` reads status lists: others' over HTTP, kept a while; its own from
its database on every call (the end-to-end test shows a suspension answered at once)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import create_engine

from sdgcities.node.verification.fetch import HttpStatusListFetcher, NodeStatusListFetcher


def _fetcher(served: list[str], max_age: timedelta) -> NodeStatusListFetcher:
    def handler(request: httpx.Request) -> httpx.Response:
        served.append(str(request.url))
        return httpx.Response(200, text=f"token-{len(served)}")

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return NodeStatusListFetcher(
        engine=create_engine("sqlite://"),
        own_prefix="https://ke.example.org/status/",
        remote=HttpStatusListFetcher(client),
        remote_max_age=max_age,
    )


def test_another_nodes_list_is_fetched_once_within_its_max_age() -> None:
    served: list[str] = []
    fetch = _fetcher(served, timedelta(minutes=5))
    url = "https://tz.example.org/status/revocation-1"
    assert fetch(url) == "token-1"
    assert fetch(url) == "token-1"
    assert served == [url]


def test_another_nodes_list_is_fetched_again_after_its_max_age() -> None:
    served: list[str] = []
    fetch = _fetcher(served, timedelta(0))
    url = "https://tz.example.org/status/revocation-1"
    assert (fetch(url), fetch(url)) == ("token-1", "token-2")
    assert served == [url, url]
