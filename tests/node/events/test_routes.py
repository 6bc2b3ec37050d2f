from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import KeyPeriod, KeyStatus, NodeStatus, TrustedNode, TrustList
from sdgcities.federation import (
    GENESIS_HASH,
    REPORT_MEDIA_TYPE,
    ChainHead,
    EventType,
    ReportBatch,
    verify_chain,
)
from sdgcities.federation.event_data import ApplicationChanged
from sdgcities.node.accounts.models import Role
from sdgcities.node.app import allowed_roles
from sdgcities.node.events.routes import router as events_router
from sdgcities.node.events.service import append_event, log_head
from sdgcities.node.timeutil import utcnow

from ..conftest import Backend


@pytest.fixture
def trusted(backend: Backend) -> TrustList:
    """A trust list that knows the test node and its signing key."""
    settings = backend.settings
    now = utcnow()
    node = TrustedNode(
        id=settings.node_id,
        did=settings.did,
        name=settings.node_name,
        base_url=settings.base_url,
        status=NodeStatus.ACTIVE,
        status_since=now - timedelta(days=1),
        keys=(
            KeyPeriod(
                public_key=backend.app.state.node.signing_key.public_key,
                status=KeyStatus.ACTIVE,
                valid_from=now - timedelta(days=1),
            ),
        ),
    )
    return TrustList(
        issuer="did:web:global.example.org",
        sequence=1,
        issued_at=now,
        next_update=now + timedelta(days=1),
        nodes=(node,),
    )


@pytest.fixture
def five_events(session: Session) -> ChainHead:
    """Appends five events after whatever the log holds; returns the head before them."""
    start = log_head(session=session)
    for n in range(5):
        append_event(
            session=session,
            node_id="KE",
            type=EventType.APPLICATION_SUBMITTED,
            subject={"locode": "KE-NBO", "application": n},
            data=ApplicationChanged(stage="qualification"),
        )
    session.commit()
    return start


def test_events_come_as_a_signed_report(
    client: TestClient, trusted: TrustList, five_events: ChainHead
) -> None:
    response = client.get("/federation/events", params={"after": five_events.sequence})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    body = response.json()
    batch = ReportBatch.verify(body["report"], trust_list=trusted)
    assert body["events"] == [event.to_json() for event in batch.events]
    assert len(batch.events) == 5
    assert batch.first == five_events.sequence + 1
    assert verify_chain(batch.events, after=five_events) == batch.head
    assert body["head"] == {"sequence": batch.last, "hash": batch.events[-1].hash}
    assert body["next"] is None


def test_pages_follow_next_until_the_head(
    client: TestClient, trusted: TrustList, five_events: ChainHead, backend: Backend
) -> None:
    collected: list[Any] = []
    url: str | None = f"/federation/events?after={five_events.sequence}&limit=2"
    pages = 0
    while url is not None:
        response = client.get(url.removeprefix(backend.settings.base_url))
        assert response.status_code == 200, response.text
        batch = ReportBatch.verify(response.json()["report"], trust_list=trusted)
        assert len(batch.events) <= 2
        collected.extend(batch.events)
        url = response.json()["next"]
        pages += 1
    assert pages == 3
    assert [e.sequence for e in collected] == [five_events.sequence + n for n in range(1, 6)]
    assert verify_chain(collected, after=five_events) is not None


def test_report_alone_with_accept_and_a_link_header(
    client: TestClient, trusted: TrustList, five_events: ChainHead, backend: Backend
) -> None:
    after = five_events.sequence
    headers = {"Accept": REPORT_MEDIA_TYPE}
    first = client.get("/federation/events", params={"after": after, "limit": 3}, headers=headers)
    assert first.status_code == 200
    assert first.headers["content-type"] == REPORT_MEDIA_TYPE
    assert first.headers["vary"] == "Accept"
    batch = ReportBatch.verify(first.text, trust_list=trusted)
    assert (batch.first, batch.last) == (after + 1, after + 3)
    assert first.headers["link"] == (
        f'<{backend.settings.base_url}/federation/events?after={after + 3}&limit=3>; rel="next"'
    )
    last = client.get(
        "/federation/events", params={"after": after + 3, "limit": 3}, headers=headers
    )
    assert ReportBatch.verify(last.text, trust_list=trusted).last == after + 5
    assert "link" not in last.headers
    # A refused media type (q=0) or a wildcard gets the JSON default.
    for accept in (f"{REPORT_MEDIA_TYPE};q=0", "*/*", "application/json"):
        answer = client.get("/federation/events", headers={"Accept": accept})
        assert answer.headers["content-type"] == "application/json", accept


def test_nothing_after_the_head_is_a_signed_empty_report(
    client: TestClient, trusted: TrustList, five_events: ChainHead
) -> None:
    head = five_events.sequence + 5
    response = client.get("/federation/events", params={"after": head})
    assert response.status_code == 200
    batch = ReportBatch.verify(response.json()["report"], trust_list=trusted)
    assert (batch.first, batch.last, batch.events) == (head + 1, head, ())
    assert response.json()["events"] == []
    assert response.json()["head"]["sequence"] == head


def test_an_empty_log_answers_with_the_genesis_head(
    client: TestClient, trusted: TrustList, session: Session
) -> None:
    if log_head(session=session).sequence != 0:
        pytest.skip("this database's log is not empty")
    body = client.get("/federation/events").json()
    assert body["head"] == {"sequence": 0, "hash": GENESIS_HASH}
    assert ReportBatch.verify(body["report"], trust_list=trusted).events == ()


def test_after_beyond_the_head_is_not_found(client: TestClient, five_events: ChainHead) -> None:
    head = five_events.sequence + 5
    response = client.get("/federation/events", params={"after": head + 1})
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"this node's event log ends at sequence {head}; nothing follows {head + 1}",
        "code": "not_found",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 1001}, "query.limit: Input should be less than or equal to 1000"),
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"after": -1}, "query.after: Input should be greater than or equal to 0"),
        ({"after": "ten"}, "query.after: Input should be a valid integer"),
        ({"after": 2**53}, "query.after: Input should be less than or equal to 9007199254740991"),
    ],
)
def test_bounds_are_refused_with_a_clear_message(
    client: TestClient, params: dict[str, Any], message: str
) -> None:
    response = client.get("/federation/events", params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)
    assert response.json()["code"] == "invalid_request"


def test_the_feed_is_public_and_documented(client: TestClient) -> None:
    (route,) = (r for r in events_router.routes if isinstance(r, APIRoute))
    assert allowed_roles(route) == {Role.PUBLIC}
    operation = client.get("/openapi.json").json()["paths"]["/federation/events"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", REPORT_MEDIA_TYPE}
