from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.credentials import StatusEntry
from sdgcities.node.accounts.models import Role
from sdgcities.node.app import allowed_roles
from sdgcities.node.state import NodeState
from sdgcities.node.status.models import StatusListRecord
from sdgcities.node.status.routes import router as status_router
from sdgcities.node.status.service import (
    allocate_status_entry,
    publish_status_list,
    set_status_bits,
)
from sdgcities.node.timeutil import utcnow

from .conftest import read_list


@pytest.fixture
def entry(session: Session, state: NodeState) -> StatusEntry:
    _, allocated = allocate_status_entry(session=session, state=state)
    session.commit()
    return allocated


def path_of(entry: StatusEntry) -> str:
    return "/status/" + entry.list_url.rsplit("/", 1)[1]


def max_age(cache_control: str) -> int:
    match = re.fullmatch(r"public, max-age=(\d+)", cache_control)
    assert match is not None, cache_control
    return int(match[1])


def test_a_list_is_served_as_a_signed_vc_jwt(
    client: TestClient, entry: StatusEntry, state: NodeState
) -> None:
    response = client.get(path_of(entry))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert re.fullmatch(r'"[0-9a-f]{64}"', response.headers["etag"])
    published = read_list(response.text, state)
    assert published.url == entry.list_url
    assert published.purpose == "message"
    assert published.bits.get_entry(entry.index, status_size=2) == 0


def test_if_none_match_answers_304_until_the_list_changes(
    client: TestClient, entry: StatusEntry, session: Session, state: NodeState
) -> None:
    etag = client.get(path_of(entry)).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        unchanged = client.get(path_of(entry), headers={"If-None-Match": header})
        assert unchanged.status_code == 304, header
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
        assert max_age(unchanged.headers["cache-control"]) == 300
    assert client.get(path_of(entry), headers={"If-None-Match": '"other"'}).status_code == 200

    set_status_bits(
        session=session,
        state=state,
        list_id=entry.list_url.rsplit("/", 1)[1],
        index=entry.index,
        revoked=True,
    )
    session.commit()
    changed = client.get(path_of(entry), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert read_list(changed.text, state).bits.get_entry(entry.index, status_size=2) == 0b10


def test_caches_keep_a_list_no_longer_than_it_is_valid(
    client: TestClient, entry: StatusEntry, session: Session, state: NodeState
) -> None:
    list_id = entry.list_url.rsplit("/", 1)[1]
    validity = state.settings.status_list_validity
    signed_at = utcnow() - validity + timedelta(seconds=100)
    _forget_later_versions(session, list_id, before=signed_at)
    publish_status_list(session=session, state=state, list_id=list_id, now=signed_at)
    session.commit()
    assert 90 <= max_age(client.get(path_of(entry)).headers["cache-control"]) <= 100
    signed_at = utcnow() - validity - timedelta(hours=1)
    _forget_later_versions(session, list_id, before=signed_at)
    publish_status_list(session=session, state=state, list_id=list_id, now=signed_at)
    session.commit()
    expired = client.get(path_of(entry))
    assert expired.status_code == 200
    assert max_age(expired.headers["cache-control"]) == 0


def _forget_later_versions(session: Session, list_id: str, *, before: datetime) -> None:
    """Make the stored version older than `before`: a node never dates a new version of a list
    before the last one (a verifier would take it for a replay), so to sign one in the past the
    test takes the last one back first."""
    record = session.exec(select(StatusListRecord).where(StatusListRecord.list_id == list_id)).one()
    record.valid_from = before - timedelta(seconds=1)
    session.add(record)
    session.flush()


def test_unknown_list_is_not_found(client: TestClient) -> None:
    response = client.get("/status/nothing-999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "no status list nothing-999999", "code": "not_found"}


def test_overlong_list_id_is_refused(client: TestClient) -> None:
    response = client.get("/status/" + "r" * 65)
    assert response.status_code == 422
    assert response.json()["detail"] == "path.list_id: String should have at most 64 characters"


def test_status_lists_are_public() -> None:
    routes = [r for r in status_router.routes if isinstance(r, APIRoute)]
    assert {r.path for r in routes} == {"/status", "/status/{list_id}"}
    for route in routes:
        assert allowed_roles(route) == {Role.PUBLIC}


def test_the_index_lists_every_published_list(
    client: TestClient, entry: StatusEntry, state: NodeState
) -> None:
    index = client.get("/status")
    assert index.status_code == 200
    lists = {item["id"]: item for item in index.json()["lists"]}
    listed = lists[path_of(entry).rsplit("/", 1)[1]]
    assert listed["purpose"] == "message"
    assert listed["url"] == entry.list_url
    assert {item["purpose"] for item in lists.values()} == {"message"}
    for item in lists.values():
        served = client.get(item["url"].removeprefix(state.settings.base_url))
        assert served.status_code == 200
        assert (
            read_list(served.text, state)
            .valid_until.isoformat()
            .startswith(item["validUntil"].removesuffix("Z"))
        )
