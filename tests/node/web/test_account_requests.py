"""A city asks for an account on the public site; the secretariat approves or refuses it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import AccountRequest, AccountRequestStatus, Role, User
from sdgcities.node.mail.models import OutboxMessage

from ..conftest import MakeAccount, MakeCity
from .accounts import link_in, post_form
from .conftest import SignIn, form_token

REQUEST = {
    "name": "Grace Atieno",
    "email": "grace@nairobi.go.ke",
    "city": "Nairobi",
    "role_in_city": "Head of urban planning",
    "message": "We would like to apply for silver.",
}


def _ask(client: TestClient, language: str = "en", **fields: str) -> AccountRequest | None:
    response = post_form(client, f"/{language}/request-account", {**REQUEST, **fields})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/{language}/request-account?sent=1"
    return None


def _requests(session: Session) -> list[AccountRequest]:
    return list(session.exec(select(AccountRequest).order_by(col(AccountRequest.id))).all())


def _mail_to(session: Session, to: str) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.recipient == to)).all())


def test_a_city_asks_for_an_account(client: TestClient, session: Session) -> None:
    page = client.get("/en/request-account")
    assert page.status_code == 200
    assert 'id="request-account-form"' in page.text
    _ask(client, "fr")
    [request] = _requests(session)
    assert request.status is AccountRequestStatus.PENDING
    assert request.language == "fr"
    assert request.city == "Nairobi"
    sent = client.get("/fr/request-account?sent=1")
    assert 'id="request-sent"' in sent.text


def test_every_missing_field_is_named_and_nothing_is_lost(
    client: TestClient, session: Session
) -> None:
    response = post_form(
        client,
        "/en/request-account",
        {"name": "", "email": "not an address", "city": "", "role_in_city": "", "message": "Hi"},
    )
    assert response.status_code == 400
    for field in ("name", "email", "city", "role_in_city"):
        assert f'href="#{field}"' in response.text
        assert f'id="{field}-error"' in response.text
    assert 'href="#message"' not in response.text
    assert ">Hi</textarea>" in response.text
    assert 'value="not an address"' in response.text
    assert _requests(session) == []


def test_a_too_long_message_is_refused(client: TestClient) -> None:
    response = post_form(client, "/en/request-account", {**REQUEST, "message": "x" * 2001})
    assert response.status_code == 400
    assert 'href="#message"' in response.text


def test_a_request_needs_the_form_token(client: TestClient, session: Session) -> None:
    client.get("/en/request-account")
    assert client.post("/en/request-account", data=REQUEST).status_code == 403
    assert _requests(session) == []


def test_the_secretariat_approves_a_request_on_its_page(
    client: TestClient,
    session: Session,
    make_account: MakeAccount,
    make_city: MakeCity,
    sign_in: SignIn,
) -> None:
    locode = make_city()
    _ask(client, "es")
    [request] = _requests(session)
    sign_in(make_account(Role.SECRETARIAT))
    page = client.get("/en/account-requests")
    assert page.status_code == 200
    assert "Grace Atieno" in page.text
    assert f'value="{locode}"' in page.text
    response = client.post(
        f"/en/account-requests/{request.id}/approve",
        data={"city_locode": locode, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/en/account-requests?notice=approved"
    session.refresh(request)
    assert request.status is AccountRequestStatus.APPROVED
    user = session.get(User, request.user_id)
    assert user is not None
    assert user.role is Role.CITY_APPLICANT
    assert user.city_locode == locode
    [mail] = _mail_to(session, REQUEST["email"])
    language, token = link_in(mail.body)
    assert language == "es"
    assert client.get(f"/es/set-password/{token}").status_code == 200
    after = client.get("/en/account-requests?notice=approved")
    assert 'id="no-requests"' in after.text
    again = client.post(
        f"/en/account-requests/{request.id}/approve",
        data={"city_locode": locode, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert again.status_code == 409


def test_the_secretariat_refuses_a_request(
    client: TestClient, session: Session, make_account: MakeAccount, sign_in: SignIn
) -> None:
    _ask(client)
    [request] = _requests(session)
    sign_in(make_account(Role.SECRETARIAT))
    page = client.get("/en/account-requests")
    # Without a city on the node, only refusal is offered.
    assert "add the city before you approve" in page.text
    response = client.post(
        f"/en/account-requests/{request.id}/refuse",
        data={"csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.refresh(request)
    assert request.status is AccountRequestStatus.REFUSED
    assert request.user_id is None
    [mail] = _mail_to(session, REQUEST["email"])
    assert "has not approved" in mail.body


def test_decisions_need_the_form_token(
    client: TestClient,
    session: Session,
    make_account: MakeAccount,
    make_city: MakeCity,
    sign_in: SignIn,
) -> None:
    locode = make_city()
    _ask(client)
    [request] = _requests(session)
    sign_in(make_account(Role.SECRETARIAT))
    assert (
        client.post(
            f"/en/account-requests/{request.id}/approve", data={"city_locode": locode}
        ).status_code
        == 403
    )
    assert client.post(f"/en/account-requests/{request.id}/refuse").status_code == 403
    session.refresh(request)
    assert request.status is AccountRequestStatus.PENDING


def test_the_requests_page_is_for_the_secretariat_and_administrators(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    anonymous = client.get("/en/account-requests", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/en/sign-in?next=")
    sign_in(make_account(Role.REVIEWER))
    assert client.get("/en/account-requests").status_code == 403
    sign_in(make_account(Role.ADMINISTRATOR))
    assert client.get("/en/account-requests").status_code == 200


def test_the_api_lists_approves_and_refuses(
    client: TestClient, session: Session, make_account: MakeAccount, make_city: MakeCity
) -> None:
    locode = make_city()
    _ask(client)
    _ask(client, email="other@mombasa.go.ke", name="Other")
    first, second = _requests(session)
    secretariat = make_account(Role.SECRETARIAT)
    listed = client.get("/account-requests", headers=secretariat.headers).json()
    assert listed["count"] == 2
    approved = client.post(
        f"/account-requests/{first.id}/approve",
        json={"city_locode": locode},
        headers=secretariat.headers,
    )
    assert approved.status_code == 200
    assert approved.json()["role"] == "city_applicant"
    refused = client.post(f"/account-requests/{second.id}/refuse", headers=secretariat.headers)
    assert refused.json()["status"] == "refused"
    assert client.get("/account-requests", headers=secretariat.headers).json()["count"] == 0
    everything = client.get("/account-requests?status=approved", headers=secretariat.headers)
    assert everything.json()["count"] == 1
    assert (
        client.post(
            f"/account-requests/{second.id}/refuse", headers=secretariat.headers
        ).status_code
        == 409
    )
    assert (
        client.post("/account-requests/999999/refuse", headers=secretariat.headers).status_code
        == 404
    )


def test_approval_refuses_an_unknown_city_or_a_taken_address(
    client: TestClient, session: Session, make_account: MakeAccount, make_city: MakeCity
) -> None:
    locode = make_city()
    secretariat = make_account(Role.SECRETARIAT)
    _ask(client)
    [request] = _requests(session)
    unknown = client.post(
        f"/account-requests/{request.id}/approve",
        json={"city_locode": "KE-XXX"},
        headers=secretariat.headers,
    )
    assert unknown.status_code == 404
    make_account(Role.REVIEWER, email=REQUEST["email"])
    taken = client.post(
        f"/account-requests/{request.id}/approve",
        json={"city_locode": locode},
        headers=secretariat.headers,
    )
    assert taken.status_code == 409


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.COMMITTEE_MEMBER])
def test_other_roles_may_not_decide(
    client: TestClient, make_account: MakeAccount, role: Role
) -> None:
    account = make_account(role)
    assert client.get("/account-requests", headers=account.headers).status_code == 403
    assert client.post("/account-requests/1/refuse", headers=account.headers).status_code == 403


@pytest.mark.parametrize(("code", "text"), [("ar", "اطلب حساباً"), ("zh", "申请账户")])
def test_the_request_page_in_arabic_and_chinese(client: TestClient, code: str, text: str) -> None:
    page = client.get(f"/{code}/request-account")
    assert page.status_code == 200
    assert text in page.text
