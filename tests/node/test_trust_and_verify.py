from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from sdgcities.credentials import (
    CertificateIssue,
    Decision,
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    StatusEntry,
    TrustedNode,
    TrustList,
)

from .conftest import ROOT_DID, ROOT_KEY, Account, Backend

FRAMEWORK = FrameworkRef("sdgcities-ke", "1", "sha256:" + "0" * 64)


def _trust_list(backend: Backend, *, sequence: int, root: SigningKey = ROOT_KEY) -> str:
    now = datetime.now(UTC)
    node_key = backend.app.state.node.signing_key
    node = TrustedNode(
        id="KE",
        did=backend.settings.did,
        name="Kenya",
        base_url=backend.settings.base_url,
        status=NodeStatus.ACTIVE,
        status_since=now - timedelta(days=30),
        keys=(KeyPeriod(node_key.public_key, KeyStatus.ACTIVE, now - timedelta(days=900)),),
        frameworks=(
            Endorsement.sign(
                framework=FRAMEWORK,
                node_id="KE",
                root_key=root,
                issuer_did=ROOT_DID,
                endorsed_at=now,
            ),
        ),
    )
    return TrustList(
        issuer=ROOT_DID,
        sequence=sequence,
        issued_at=now,
        next_update=now + timedelta(days=1),
        nodes=(node,),
    ).sign(root)


def _certificate(backend: Backend, *, valid_until: datetime, key: SigningKey | None = None) -> str:
    now = datetime.now(UTC)
    base = backend.settings.base_url
    issue = CertificateIssue(
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        issuer_did=backend.settings.did,
        issuer_name="Kenya",
        locode="KE-NBO",
        city_name="Nairobi",
        country="KE",
        stage="qualification",
        framework=FRAMEWORK,
        decision=Decision("KE national committee", "2026-1", now - timedelta(days=400)),
        criteria=("A.a", "A.b", "A.c"),
        valid_from=now - timedelta(days=400),
        valid_until=valid_until,
        status=StatusEntry(f"{base}/status/1", 5),
    )
    return issue.sign(
        key or backend.app.state.node.signing_key, issued_at=now - timedelta(days=400)
    )


def test_trust_list_upload_and_rollback(
    client: TestClient, backend: Backend, admin: Account
) -> None:
    assert client.get("/federation/trust-list").status_code == 404
    second = _trust_list(backend, sequence=2)
    accepted = client.put("/admin/trust-list", headers=admin.headers, json={"token": second})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"sequence": 2, "stored": True}
    again = client.put("/admin/trust-list", headers=admin.headers, json={"token": second})
    assert again.json() == {"sequence": 2, "stored": False}
    older = client.put(
        "/admin/trust-list", headers=admin.headers, json={"token": _trust_list(backend, sequence=1)}
    )
    assert older.status_code == 422
    assert "older than #2" in older.json()["detail"]
    served = client.get("/federation/trust-list")
    assert served.text == second
    assert served.headers["content-type"] == "application/trust-list+jwt"


def test_trust_list_signed_by_unpinned_key_is_refused(
    client: TestClient, backend: Backend, admin: Account
) -> None:
    forged = _trust_list(backend, sequence=9, root=SigningKey.generate())
    refused = client.put("/admin/trust-list", headers=admin.headers, json={"token": forged})
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail.startswith(
        "trust list refused: the trust list is not signed by a pinned global root key"
    )
    assert detail.endswith(
        "check the root key this node pins (SDGCITIES_ROOT_KEYS, written by "
        "`node init --root-thumbprint`)"
    )


def test_verify_without_trust_list_cannot_decide(client: TestClient, backend: Backend) -> None:
    backend.app.state.node.verifiers.reset()
    answer = client.post("/verify", json={"jwt": "a.b.c"}).json()
    assert answer["status"] == "indeterminate"
    assert answer["valid"] is False


def test_verify_answers_reasons(client: TestClient, backend: Backend, admin: Account) -> None:
    client.put(
        "/admin/trust-list", headers=admin.headers, json={"token": _trust_list(backend, sequence=3)}
    )
    expired = _certificate(backend, valid_until=datetime.now(UTC) - timedelta(days=1))
    assert client.post("/verify", json={"jwt": expired}).json()["reason"] == "expired"
    stranger = _certificate(
        backend, valid_until=datetime.now(UTC) + timedelta(days=9), key=SigningKey.generate()
    )
    assert client.post("/verify", json={"jwt": stranger}).json()["reason"] == "unknown_issuer"
    assert client.post("/verify", json={"jwt": "x" * 70_000}).status_code == 422
    junk = client.post("/verify", json={"jwt": "not.a.token!"}).json()
    assert (junk["status"], junk["reason"]) == ("invalid", "malformed")
    unknown_member = client.post("/verify", json={"jwt": expired, "valid": True})
    assert unknown_member.status_code == 422
