"""`POST /federation/trust-list/publish`: the secretariat republishes the trust list at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.credentials import TrustList
from sdgcities.node.accounts.models import Role

from ..conftest import ROOT_KEY, MakeAccount


def test_publish_now_signs_the_next_sequence(client: TestClient, make_account: MakeAccount) -> None:
    secretariat = make_account(Role.SECRETARIAT)
    before = TrustList.from_jws(
        client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.kid]
    )
    response = client.post("/federation/trust-list/publish", headers=secretariat.headers)
    assert response.status_code == 200, response.text
    published = response.json()
    assert published["sequence"] == before.sequence + 1
    served = TrustList.from_jws(
        client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.kid]
    )
    assert served.sequence == published["sequence"]
    audit = client.get(
        "/admin/audit",
        params={"action": "trust_list.publish"},
        headers=make_account(Role.ADMINISTRATOR).headers,
    )
    assert [entry["target_id"] for entry in audit.json()["data"]][:1] == [
        str(published["sequence"])
    ]


def test_publish_needs_the_secretariat(client: TestClient, make_account: MakeAccount) -> None:
    response = client.post(
        "/federation/trust-list/publish", headers=make_account(Role.REVIEWER).headers
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "a reviewer may not do this"
    assert client.post("/federation/trust-list/publish").status_code == 401
