"""Where the node's `/verify` reads status lists: others' over HTTP, kept a while; its own from
its database, kept until this node changes one (the end-to-end test shows a suspension
answered at once)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import StaticPool, create_engine, text
from sqlmodel import Session

from sdgcities.credentials import StatusListUnavailable
from sdgcities.node.verification.fetch import (
    HttpStatusListFetcher,
    NodeStatusListFetcher,
    from_memory,
    reading_with,
)


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


class OwnLists:
    """This node's `status_list` table, and how often the fetcher read it."""

    def __init__(self, max_age: timedelta = timedelta(minutes=5)) -> None:
        self.engine = create_engine("sqlite://", poolclass=StaticPool)
        with self.engine.begin() as connection:
            connection.execute(text("CREATE TABLE status_list (list_id TEXT, token TEXT)"))
        self.reads = 0
        self.during_read: Callable[[], None] = lambda: None
        self.fetch = NodeStatusListFetcher(
            engine=self.engine,
            own_prefix=OWN_PREFIX,
            remote=HttpStatusListFetcher(httpx.Client(transport=httpx.MockTransport(_refuse))),
            own_max_age=max_age,
        )

    def publish(self, list_id: str, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM status_list WHERE list_id = :id"), {"id": list_id})
            connection.execute(
                text("INSERT INTO status_list VALUES (:id, :token)"),
                {"id": list_id, "token": token},
            )

    @contextmanager
    def open_session(self) -> Iterator[Session]:
        self.reads += 1
        with Session(self.engine) as session:
            self.during_read()
            yield session

    def __call__(self, list_id: str) -> str:
        with reading_with(self.open_session):
            return self.fetch(OWN_PREFIX + list_id)


OWN_PREFIX = "https://ke.example.org/status/"


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"this node's own list was fetched over HTTP: {request.url}")


def test_this_nodes_own_list_is_read_once_while_it_does_not_change() -> None:
    lists = OwnLists()
    lists.publish("revocation-1", "token-a")
    assert [lists("revocation-1") for _ in range(3)] == ["token-a"] * 3
    assert lists.reads == 1


def test_this_nodes_own_list_is_read_again_as_soon_as_it_changed() -> None:
    lists = OwnLists()
    lists.publish("revocation-1", "token-a")
    lists.publish("suspension-1", "token-s")
    assert (lists("revocation-1"), lists("suspension-1")) == ("token-a", "token-s")
    lists.publish("revocation-1", "token-b")
    lists.fetch.own_list_changed("revocation-1")
    assert (lists("revocation-1"), lists("suspension-1")) == ("token-b", "token-s")
    assert lists.reads == 3  # the unchanged list was not read again


def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    lists = OwnLists()
    lists.publish("revocation-1", "token-a")

    def changed_meanwhile() -> None:
        lists.during_read = lambda: None
        lists.fetch.own_list_changed("revocation-1")

    lists.during_read = changed_meanwhile
    assert lists("revocation-1") == "token-a"  # what the read saw, answered once
    lists.publish("revocation-1", "token-b")
    assert lists("revocation-1") == "token-b"
    assert lists.reads == 2


def test_a_change_made_by_another_process_shows_after_the_own_max_age() -> None:
    lists = OwnLists(max_age=timedelta(0))
    lists.publish("revocation-1", "token-a")
    assert lists("revocation-1") == "token-a"
    lists.publish("revocation-1", "token-b")  # no own_list_changed: another process wrote it
    assert lists("revocation-1") == "token-b"


def test_a_list_this_node_does_not_publish_cannot_be_used() -> None:
    lists = OwnLists()
    with pytest.raises(StatusListUnavailable, match="publishes no status list 'revocation-9'"):
        lists("revocation-9")


def test_answering_from_memory_reads_nothing_and_says_it_would_have_waited() -> None:
    lists = OwnLists()
    lists.publish("revocation-1", "token-a")
    with from_memory() as reads, pytest.raises(StatusListUnavailable, match="not in memory"):
        lists.fetch(OWN_PREFIX + "revocation-1")
    assert reads.would_wait
    assert lists.reads == 0
    assert lists("revocation-1") == "token-a"  # read where waiting is allowed: now held
    with from_memory() as reads:
        assert lists.fetch(OWN_PREFIX + "revocation-1") == "token-a"
    assert not reads.would_wait


def test_answering_from_memory_fetches_no_other_nodes_list() -> None:
    served: list[str] = []
    fetch = _fetcher(served, timedelta(minutes=5))
    url = "https://tz.example.org/status/revocation-1"
    with from_memory() as reads, pytest.raises(StatusListUnavailable, match="not in memory"):
        fetch(url)
    assert reads.would_wait
    assert served == []
    assert fetch(url) == "token-1"
    with from_memory() as reads:
        assert fetch(url) == "token-1"
    assert not reads.would_wait
    assert served == [url]
