"""A city's consent to share its gaps across countries (§30c), on its national node: each
change is a `community.sharing` event of the node's log, which the relay takes to the global
node."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.federation import EventType
from sdgcities.node.events.models import EventRecord

from ..review.factories import ok
from .conftest import CommunityWorld

SHARING = "/communities/sharing"


def _events(session: Session) -> list[tuple[dict[str, object], dict[str, object]]]:
    session.expire_all()
    return [
        (record.subject, record.data)
        for record in session.exec(
            select(EventRecord)
            .where(EventRecord.type == EventType.COMMUNITY_SHARING)
            .order_by(col(EventRecord.sequence))
        ).all()
    ]


def test_a_city_gives_and_withdraws_its_consent(
    client: TestClient, world: CommunityWorld, session: Session
) -> None:
    city = world.review.mombasa.headers
    assert ok(client.get(SHARING, headers=city)) == {
        "city_locode": "KE-MBA",
        "share": False,
        "updated_at": None,
    }
    never_given = client.put(SHARING, headers=city, json={"share": False})
    assert never_given.status_code == 409
    assert "no consent to withdraw" in never_given.json()["detail"]
    assert ok(client.put(SHARING, headers=city, json={"share": True}))["share"] is True
    again = client.put(SHARING, headers=city, json={"share": True})
    assert again.status_code == 409
    assert "already given" in again.json()["detail"]
    assert ok(client.get(SHARING, headers=city))["share"] is True
    assert ok(client.put(SHARING, headers=city, json={"share": False}))["share"] is False
    assert _events(session) == [
        ({"locode": "KE-MBA"}, {"share": True}),
        ({"locode": "KE-MBA"}, {"share": False}),
    ]


def test_who_may_consent_and_bad_bodies(client: TestClient, world: CommunityWorld) -> None:
    review = world.review
    for account in (review.secretariat, review.lead, review.committee):
        assert client.put(SHARING, headers=account.headers, json={"share": True}).status_code == 403
    city = review.mombasa.headers
    assert client.put(SHARING, headers=city, json={"share": "maybe"}).status_code == 422
    assert (
        client.put(SHARING, headers=city, json={"share": True, "city": "KE-NBO"}).status_code == 422
    )
    # The cross-country proposals are the global node's.
    national = client.get("/communities/federation/proposals", headers=review.secretariat.headers)
    assert national.status_code == 404
    assert "global node only" in national.json()["detail"]
