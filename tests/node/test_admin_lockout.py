"""An administrator cannot lock the node: the API refuses any change after which no active
administrator holds a valid token (only an administrator issues tokens and reactivates accounts)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role

from .conftest import Account, MakeAccount

LOCKOUT = (
    "this would leave no active administrator with a valid token and lock the node: "
    "issue another administrator a token first"
)


def _token_ids(client: TestClient, caller: Account, user_id: int) -> list[int]:
    listed = client.get(f"/admin/users/{user_id}/tokens", headers=caller.headers)
    assert listed.status_code == 200, listed.text
    return [token["id"] for token in listed.json()["data"]]


def test_the_last_administrator_cannot_revoke_their_last_token(
    client: TestClient, admin: Account
) -> None:
    [token_id] = _token_ids(client, admin, admin.user_id)
    refused = client.delete(f"/admin/tokens/{token_id}", headers=admin.headers)
    assert refused.status_code == 409
    assert refused.json() == {"detail": LOCKOUT, "code": "conflict"}
    assert client.get("/me", headers=admin.headers).status_code == 200


def test_an_administrator_revokes_their_token_while_another_holds_one(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    make_account(Role.ADMINISTRATOR)
    [token_id] = _token_ids(client, admin, admin.user_id)
    assert client.delete(f"/admin/tokens/{token_id}", headers=admin.headers).status_code == 200
    assert client.get("/me", headers=admin.headers).status_code == 401


def test_a_spare_token_of_the_last_administrator_can_be_revoked(
    client: TestClient, admin: Account
) -> None:
    issued = client.post(f"/admin/users/{admin.user_id}/tokens", headers=admin.headers, json={})
    assert issued.status_code == 201
    spare = issued.json()["id"]
    assert client.delete(f"/admin/tokens/{spare}", headers=admin.headers).status_code == 200
    # The one left is now the last.
    [last] = [i for i in _token_ids(client, admin, admin.user_id) if i != spare]
    assert client.delete(f"/admin/tokens/{last}", headers=admin.headers).status_code == 409


def test_an_administrator_without_a_token_does_not_count(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    other = make_account(Role.ADMINISTRATOR)
    [other_token] = _token_ids(client, admin, other.user_id)
    assert client.delete(f"/admin/tokens/{other_token}", headers=admin.headers).status_code == 200
    # `other` is still an active administrator, but can call nothing: the last token stays.
    [token_id] = _token_ids(client, admin, admin.user_id)
    assert client.delete(f"/admin/tokens/{token_id}", headers=admin.headers).status_code == 409


def test_the_last_administrator_cannot_deactivate_themselves(
    client: TestClient, admin: Account
) -> None:
    refused = client.patch(
        f"/admin/users/{admin.user_id}", headers=admin.headers, json={"active": False}
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == LOCKOUT
    me = client.get("/me", headers=admin.headers)
    assert me.status_code == 200
    assert me.json()["active"] is True


def test_an_administrator_is_deactivated_while_another_holds_a_token(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    other = make_account(Role.ADMINISTRATOR)
    deactivated = client.patch(
        f"/admin/users/{other.user_id}", headers=admin.headers, json={"active": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False
    # Now `admin` is the last one.
    refused = client.patch(
        f"/admin/users/{admin.user_id}", headers=admin.headers, json={"active": False}
    )
    assert refused.status_code == 409


def test_other_accounts_are_deactivated_and_revoked_freely(
    client: TestClient, admin: Account, make_account: MakeAccount
) -> None:
    reviewer = make_account(Role.REVIEWER)
    [token_id] = _token_ids(client, admin, reviewer.user_id)
    assert client.delete(f"/admin/tokens/{token_id}", headers=admin.headers).status_code == 200
    patched = client.patch(
        f"/admin/users/{reviewer.user_id}", headers=admin.headers, json={"active": False}
    )
    assert patched.status_code == 200
