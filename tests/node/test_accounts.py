from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from .conftest import Account, MakeAccount


def test_admin_creates_user_and_token_shown_once(client: TestClient, admin: Account) -> None:
    created = client.post(
        "/admin/users",
        headers=admin.headers,
        json={
            "name": "Amina",
            "email": "amina@example.org",
            "role": "reviewer",
            "languages": ["en", "sw"],
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    issued = client.post(f"/admin/users/{user_id}/tokens", headers=admin.headers, json={})
    assert issued.status_code == 201
    secret = issued.json()["token"]
    me = client.get("/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["email"] == "amina@example.org"
    listed = client.get(f"/admin/users/{user_id}/tokens", headers=admin.headers).json()
    assert "token" not in listed["data"][0]
    assert secret not in str(listed)


def test_revoked_token_is_refused(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    reviewer = make_account(Role.REVIEWER)
    tokens = client.get(f"/admin/users/{reviewer.user_id}/tokens", headers=admin.headers).json()
    token_id = tokens["data"][0]["id"]
    assert client.get("/me", headers=reviewer.headers).status_code == 200
    assert client.delete(f"/admin/tokens/{token_id}", headers=admin.headers).status_code == 200
    refused = client.get("/me", headers=reviewer.headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "this token has been revoked"
    again = client.delete(f"/admin/tokens/{token_id}", headers=admin.headers)
    assert again.status_code == 409


def test_unknown_fields_are_refused(client: TestClient, admin: Account) -> None:
    response = client.post(
        "/admin/users",
        headers=admin.headers,
        json={"name": "X", "email": "x@example.org", "role": "reviewer", "active": False},
    )
    assert response.status_code == 422
    assert "active: Extra inputs are not permitted" in response.json()["detail"]


def test_bad_tokens(client: TestClient) -> None:
    assert client.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401
    unknown = client.get("/me", headers={"Authorization": "Bearer sdgc_" + "a" * 43})
    assert unknown.json()["detail"] == "unknown token"
    assert client.get("/me").json()["detail"] == "this endpoint needs a bearer token"


def test_audit_log_records_and_is_admin_only(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    make_account(Role.SECRETARIAT)
    log = client.get("/admin/audit", headers=admin.headers, params={"action": "user.create"})
    assert log.status_code == 200
    assert log.json()["count"] >= 2
    secretariat = make_account(Role.SECRETARIAT)
    assert client.get("/admin/audit", headers=secretariat.headers).status_code == 403
