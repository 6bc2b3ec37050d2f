"""Framework endorsement on the global node: members ask, the committee decides, the trust
list carries the endorsement."""

from __future__ import annotations

from dataclasses import replace

import httpx
from fastapi.testclient import TestClient

from sdgcities.credentials import FrameworkRef, SigningKey, TrustList
from sdgcities.federation.onboarding import EndorsementRequest, JoinRequest
from sdgcities.node.accounts.models import Role
from sdgcities.node.frameworks.baseline import load_baseline
from sdgcities.node.frameworks.service import canonical_text

from ..conftest import ROOT_KEY, MakeAccount

DOCUMENT = load_baseline()
TEXT = canonical_text(DOCUMENT)
REF = FrameworkRef(DOCUMENT.id, DOCUMENT.version, DOCUMENT.digest)


def _join(client: TestClient, make_account: MakeAccount) -> tuple[SigningKey, dict[str, str]]:
    secretariat = make_account(Role.SECRETARIAT)
    key = SigningKey.generate()
    token = JoinRequest.sign(node_id="KE", base_url="https://ke.example.org", name="KE", key=key)
    request_id = client.post("/federation/join", json={"token": token}).json()["id"]
    approved = client.post(
        f"/federation/join-requests/{request_id}/approve", headers=secretariat.headers
    )
    assert approved.status_code == 200
    return key, secretariat.headers


def _ask(client: TestClient, key: SigningKey, ref: FrameworkRef = REF) -> httpx.Response:
    token = EndorsementRequest.sign(
        node_id="KE", did="did:web:ke.example.org", framework=ref, document=TEXT, key=key
    )
    return client.post("/federation/endorsements", json={"token": token})


def test_endorsement_goes_onto_the_trust_list(
    client: TestClient, make_account: MakeAccount
) -> None:
    key, _ = _join(client, make_account)
    committee = make_account(Role.COMMITTEE_MEMBER).headers
    asked = _ask(client, key)
    assert asked.status_code == 202
    request_id = asked.json()["id"]
    listed = client.get("/federation/endorsements?state=pending", headers=committee)
    assert [r["id"] for r in listed.json()["data"]] == [request_id]

    endorsed = client.post(f"/federation/endorsements/{request_id}/endorse", headers=committee)
    assert endorsed.status_code == 200
    token = endorsed.json()["endorsement_jws"]
    assert client.get(f"/federation/endorsements/{request_id}").json()["state"] == "endorsed"

    trust_list = TrustList.from_jws(
        client.get("/federation/trust-list").text, pinned_thumbprints=[ROOT_KEY.kid]
    )
    node = trust_list.node("KE")
    assert node is not None
    assert node.endorses(REF)
    assert [e.token for e in node.frameworks] == [token]

    again = client.post(f"/federation/endorsements/{request_id}/endorse", headers=committee)
    assert again.status_code == 409
    assert again.json()["detail"] == f"endorsement request {request_id} is already endorsed"
    duplicate = _ask(client, key)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"].endswith(f"is already endorsed (request {request_id})")


def test_endorsement_requests_refused(client: TestClient, make_account: MakeAccount) -> None:
    response = _ask(client, SigningKey.generate())
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "endorsement request refused: the request is not signed by a key on the trust list"
    )
    key, _ = _join(client, make_account)
    wrong = replace(REF, digest="sha256:" + "0" * 64)
    response = _ask(client, key, wrong)
    assert response.status_code == 422
    assert "not the" in response.json()["detail"]

    committee = make_account(Role.COMMITTEE_MEMBER).headers
    request_id = _ask(client, key).json()["id"]
    missing_reason = client.post(
        f"/federation/endorsements/{request_id}/refuse", json={}, headers=committee
    )
    assert missing_reason.status_code == 422
    refused = client.post(
        f"/federation/endorsements/{request_id}/refuse",
        json={"reason": "criterion B.c lost its evidence requirement"},
        headers=committee,
    )
    assert refused.status_code == 200
    assert refused.json()["state"] == "refused"

    response = client.post("/federation/endorsements/999999/endorse", headers=committee)
    assert response.status_code == 404
    assert response.json()["detail"] == "endorsement request 999999 not found"
    reviewer = make_account(Role.REVIEWER).headers
    response = client.post(f"/federation/endorsements/{request_id}/endorse", headers=reviewer)
    assert response.status_code == 403
    assert response.json()["detail"] == "a reviewer may not do this"
