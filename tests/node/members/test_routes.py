"""The trust registry on the global node: onboarding, key changes, member status, publishing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from sdgcities.credentials import KeyStatus, NodeStatus, SigningKey, TrustList
from sdgcities.credentials.jws import sign_jws
from sdgcities.federation.onboarding import JOIN_REQUEST_TYP, JoinRequest, KeyRotation
from sdgcities.node.accounts.models import Role
from sdgcities.node.timeutil import utcnow

from ..conftest import ROOT_KEY, Account, MakeAccount

KE_URL = "https://ke.example.org"
KE_DID = "did:web:ke.example.org"


@pytest.fixture
def secretariat(make_account: MakeAccount) -> Account:
    return make_account(Role.SECRETARIAT)


def _join(client: TestClient, key: SigningKey, node_id: str = "KE", **kw: Any) -> Any:
    url = kw.pop("base_url", KE_URL)
    token = JoinRequest.sign(node_id=node_id, base_url=url, name=f"{node_id} node", key=key)
    return client.post("/federation/join", json={"token": token})


def _trust_list(client: TestClient) -> TrustList:
    response = client.get("/federation/trust-list")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/trust-list+jwt")
    assert "max-age" in response.headers["cache-control"]
    return TrustList.from_jws(response.text, pinned_thumbprints=[ROOT_KEY.kid])


def _member(client: TestClient, secretariat: Account, key: SigningKey) -> None:
    request_id = _join(client, key).json()["id"]
    response = client.post(
        f"/federation/join-requests/{request_id}/approve", headers=secretariat.headers
    )
    assert response.status_code == 200, response.text


def test_join_approve_puts_the_node_on_the_next_trust_list(
    client: TestClient, secretariat: Account
) -> None:
    before = _trust_list(client)
    assert before.node("global") is not None
    assert before.node("KE") is None
    key = SigningKey.generate()
    response = _join(client, key)
    assert response.status_code == 202
    assert response.json()["state"] == "pending"
    listed = client.get("/federation/join-requests?state=pending", headers=secretariat.headers)
    assert [r["node_id"] for r in listed.json()["data"]] == ["KE"]

    approved = client.post(
        f"/federation/join-requests/{response.json()['id']}/approve", headers=secretariat.headers
    )
    assert approved.status_code == 200
    assert approved.json()["did"] == "did:web:ke.example.org"
    assert approved.json()["history"][0]["reason"] == "joined"

    after = _trust_list(client)
    assert after.sequence == before.sequence + 1
    node = after.node("KE")
    assert node is not None
    assert node.status is NodeStatus.ACTIVE
    assert [k.public_key.kid for k in node.keys] == [key.kid]
    assert after.key(key.kid) is not None


def test_join_refusals(client: TestClient) -> None:
    key = SigningKey.generate()
    forged = sign_jws(
        {"nodeId": "KE", "keys": [SigningKey.generate().public_key.to_jwk()]},
        key=key,
        did=KE_DID,
        typ=JOIN_REQUEST_TYP,
    )
    response = client.post("/federation/join", json={"token": forged})
    assert response.status_code == 422
    assert "not signed by a key it carries" in response.json()["detail"]

    stale = JoinRequest.sign(
        node_id="KE", base_url=KE_URL, name="KE", key=key, now=utcnow() - timedelta(hours=1)
    )
    response = client.post("/federation/join", json={"token": stale})
    assert response.status_code == 422
    assert "more than 10 minutes" in response.json()["detail"]

    response = _join(client, key, node_id="XX")
    assert response.status_code == 422
    assert response.json()["detail"] == "nodeId must be an ISO 3166-1 alpha-2 country code"

    response = _join(client, SigningKey.generate(), base_url="https://global.example.org")
    assert response.status_code == 409
    assert response.json()["detail"] == "did:web:global.example.org is this global node"

    assert _join(client, key).status_code == 202
    waiting = (
        "a join request for KE is already pending: the secretariat decides it before another "
        "is accepted"
    )
    for second in (key, SigningKey.generate()):  # the same key again, or anyone else's
        response = _join(client, second)
        assert response.status_code == 409
        assert response.json()["detail"] == waiting
    # Another country's request waits beside it.
    assert _join(client, SigningKey.generate(), node_id="UG").status_code == 202

    response = client.post("/federation/join", json={"token": "x" * 70_000})
    assert response.status_code == 422  # over the size cap


def test_decisions_need_the_secretariat(client: TestClient, make_account: MakeAccount) -> None:
    response = client.get("/federation/join-requests")
    assert response.status_code == 401
    assert response.json()["detail"] == "this endpoint needs a bearer token"
    reviewer = make_account(Role.REVIEWER)
    response = client.post("/federation/join-requests/1/approve", headers=reviewer.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "a reviewer may not do this"


def test_approve_and_refuse_states(client: TestClient, secretariat: Account) -> None:
    response = client.post("/federation/join-requests/999999/approve", headers=secretariat.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "join request 999999 not found"

    request_id = _join(client, SigningKey.generate()).json()["id"]
    response = client.post(
        f"/federation/join-requests/{request_id}/refuse", json={}, headers=secretariat.headers
    )
    assert response.status_code == 422
    refused = client.post(
        f"/federation/join-requests/{request_id}/refuse",
        json={"reason": "no ministry mandate"},
        headers=secretariat.headers,
    )
    assert refused.status_code == 200
    assert refused.json()["state"] == "refused"
    response = client.post(
        f"/federation/join-requests/{request_id}/approve", headers=secretariat.headers
    )
    assert response.status_code == 409
    assert response.json()["detail"] == f"join request {request_id} is already refused"

    key = SigningKey.generate()
    _member(client, secretariat, key)
    response = _join(client, SigningKey.generate())
    assert response.status_code == 409
    assert response.json()["detail"] == "node KE is already a member"


def test_key_rotation(client: TestClient, secretariat: Account) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    _member(client, secretariat, old)
    token = KeyRotation.sign(node_id="KE", did=KE_DID, current_key=old, new_key=new)
    response = client.post("/federation/keys/rotate", json={"token": token})
    assert response.status_code == 201
    assert response.json()["kid"] == new.kid
    assert _trust_list(client).key(new.kid) is not None

    response = client.post("/federation/keys/rotate", json={"token": token})
    assert response.status_code == 409
    assert response.json()["detail"] == f"key {new.kid} is already registered"

    stranger = SigningKey.generate()
    token = KeyRotation.sign(
        node_id="KE", did=KE_DID, current_key=stranger, new_key=SigningKey.generate()
    )
    response = client.post("/federation/keys/rotate", json={"token": token})
    assert response.status_code == 422
    assert "not signed by an active key of the node" in response.json()["detail"]

    # KE's real key, the rotation's kids naming another node's DID.
    token = KeyRotation.sign(
        node_id="KE", did="did:web:gh.example.org", current_key=new, new_key=SigningKey.generate()
    )
    response = client.post("/federation/keys/rotate", json={"token": token})
    assert response.status_code == 422
    assert "kid names another DID than the key's node" in response.json()["detail"]

    token = KeyRotation.sign(
        node_id="UG", did="did:web:ug.example.org", current_key=old, new_key=SigningKey.generate()
    )
    response = client.post("/federation/keys/rotate", json={"token": token})
    assert response.status_code == 404
    assert response.json()["detail"] == "node UG is not a member"

    response = client.post("/federation/keys/rotate", json={"token": "not-a-jws"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("key rotation refused: not a key-rotation+jwt")


def test_retire_and_compromise_keys(client: TestClient, secretariat: Account) -> None:
    key = SigningKey.generate()
    _member(client, secretariat, key)
    reason = {"reason": "scheduled rotation"}
    response = client.post(
        f"/federation/members/KE/keys/{key.kid}/retire", json=reason, headers=secretariat.headers
    )
    assert response.status_code == 200
    found = _trust_list(client).key(key.kid)
    assert found is not None
    assert found[1].status is KeyStatus.RETIRED

    response = client.post(
        f"/federation/members/KE/keys/{key.kid}/retire", json=reason, headers=secretariat.headers
    )
    assert response.status_code == 409
    assert response.json()["detail"] == f"key {key.kid} is already retired"

    response = client.post(
        f"/federation/members/KE/keys/{key.kid}/compromise",
        json={"reason": "leaked"},
        headers=secretariat.headers,
    )
    assert response.status_code == 200
    found = _trust_list(client).key(key.kid)
    assert found is not None
    assert found[1].status is KeyStatus.COMPROMISED
    response = client.post(
        f"/federation/members/KE/keys/{key.kid}/retire", json=reason, headers=secretariat.headers
    )
    assert response.status_code == 409
    assert response.json()["detail"] == f"key {key.kid} is already compromised"

    response = client.post(
        "/federation/members/KE/keys/nope/retire", json=reason, headers=secretariat.headers
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "node KE has no key nope"


def test_suspend_reinstate_withdraw_keep_history(
    client: TestClient, secretariat: Account, session: Session
) -> None:
    _member(client, secretariat, SigningKey.generate())

    def change(verb: str) -> Any:
        return client.post(
            f"/federation/members/KE/{verb}",
            json={"reason": f"{verb} for a test"},
            headers=secretariat.headers,
        )

    response = change("reinstate")
    assert response.status_code == 409
    assert response.json()["detail"] == "node KE is active: it cannot become active"
    assert change("suspend").status_code == 200
    node = _trust_list(client).node("KE")
    assert node is not None
    assert node.status is NodeStatus.SUSPENDED

    token = KeyRotation.sign(
        node_id="KE", did=KE_DID, current_key=SigningKey.generate(), new_key=SigningKey.generate()
    )
    response = client.post("/federation/keys/rotate", json={"token": token})
    assert response.status_code == 409
    assert response.json()["detail"] == "node KE is suspended: it cannot rotate keys"

    assert change("reinstate").status_code == 200
    withdrawn = change("withdraw")
    assert withdrawn.status_code == 200
    assert [h["status"] for h in withdrawn.json()["history"]] == [
        "active",
        "suspended",
        "active",
        "withdrawn",
    ]
    response = change("reinstate")
    assert response.status_code == 409
    assert response.json()["detail"] == "node KE is withdrawn: it cannot become active"
    node = _trust_list(client).node("KE")
    assert node is not None
    assert node.status is NodeStatus.WITHDRAWN

    response = client.post(
        "/federation/members/UG/suspend", json={"reason": "x"}, headers=secretariat.headers
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "node UG is not a member"

    listed = client.get("/federation/members", headers=secretariat.headers)
    assert [m["node_id"] for m in listed.json()["data"]] == ["KE"]
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM member_node_history"))
