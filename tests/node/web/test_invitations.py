"""Invitations and password resets: the mailed one-time link, and the password rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import OneTimeLink, Role, User
from sdgcities.node.mail.models import OutboxMessage
from sdgcities.node.timeutil import utcnow

from ..conftest import Account, Backend, MakeAccount
from .accounts import PASSWORD, give_password, link_in, post_form, sign_in_with_password


def _outbox(session: Session, to: str) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == to)
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def _invite(client: TestClient, by: Account, **fields: object) -> dict[str, object]:
    body = {"name": "Wanjiru Kamau", "email": "wanjiru@example.org", "role": "reviewer", **fields}
    response = client.post("/invitations", json=body, headers=by.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_secretariat_invites_and_the_person_sets_a_password(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    secretariat = make_account(Role.SECRETARIAT)
    _invite(client, secretariat, languages=["fr"])
    [mail] = _outbox(session, "wanjiru@example.org")
    assert "Wanjiru Kamau" in mail.body
    language, token = link_in(mail.body)
    assert language == "fr"
    assert mail.subject.startswith("Votre compte")
    page = client.get(f"/fr/set-password/{token}")
    assert page.status_code == 200
    assert "wanjiru@example.org" in page.text
    done = post_form(
        client,
        f"/en/set-password/{token}",
        {
            "new_password": "a long and good password",
            "confirm_password": "a long and good password",
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/en/sign-in?notice=password_set"
    assert "Your password is set" in client.get(done.headers["location"]).text
    assert (
        sign_in_with_password(client, "wanjiru@example.org", "a long and good password").status_code
        == 303
    )


def test_a_link_works_once(client: TestClient, session: Session, make_account: MakeAccount) -> None:
    _invite(client, make_account(Role.SECRETARIAT))
    _, token = link_in(_outbox(session, "wanjiru@example.org")[0].body)
    fields = {
        "new_password": "a long and good password",
        "confirm_password": "a long and good password",
    }
    assert post_form(client, f"/en/set-password/{token}", fields).status_code == 303
    again = client.get(f"/en/set-password/{token}")
    assert again.status_code == 404
    assert "This link cannot be used" in again.text
    posted = post_form(client, f"/en/set-password/{token}", fields, page="/en/forgot-password")
    assert posted.status_code == 404


def test_an_expired_or_unknown_link_cannot_be_used(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    _invite(client, make_account(Role.SECRETARIAT))
    _, token = link_in(_outbox(session, "wanjiru@example.org")[0].body)
    link = session.exec(select(OneTimeLink)).all()[-1]
    link.expires_at = utcnow() - timedelta(seconds=1)
    session.add(link)
    session.commit()
    assert client.get(f"/en/set-password/{token}").status_code == 404
    assert client.get("/en/set-password/not-a-token").status_code == 404
    assert client.get(f"/en/set-password/{'x' * 200}").status_code == 404


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters"),
        ("wanjiru@example.org", "must not be your email address"),
        ("password1234", "too common"),
        ("Qwertyuiop12", "too common"),
        ("sdgcities2030!", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
    ],
)
def test_weak_passwords_are_refused_and_the_link_stays_usable(
    client: TestClient, session: Session, make_account: MakeAccount, password: str, message: str
) -> None:
    _invite(client, make_account(Role.SECRETARIAT))
    _, token = link_in(_outbox(session, "wanjiru@example.org")[0].body)
    response = post_form(
        client,
        f"/en/set-password/{token}",
        {"new_password": password, "confirm_password": password},
    )
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-describedby="new_password-hint new_password-error"' in response.text
    assert client.get(f"/en/set-password/{token}").status_code == 200


def test_two_different_passwords_are_refused(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    _invite(client, make_account(Role.SECRETARIAT))
    _, token = link_in(_outbox(session, "wanjiru@example.org")[0].body)
    response = post_form(
        client,
        f"/en/set-password/{token}",
        {"new_password": "a long and good password", "confirm_password": "another long password"},
    )
    assert response.status_code == 400
    assert "The two passwords are not the same" in response.text


def test_setting_a_password_needs_the_form_token(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    _invite(client, make_account(Role.SECRETARIAT))
    _, token = link_in(_outbox(session, "wanjiru@example.org")[0].body)
    client.get(f"/en/set-password/{token}")
    response = client.post(
        f"/en/set-password/{token}",
        data={
            "new_password": "a long and good password",
            "confirm_password": "a long and good password",
        },
    )
    assert response.status_code == 403
    assert client.get(f"/en/set-password/{token}").status_code == 200


def test_the_secretariat_may_not_invite_an_administrator(
    client: TestClient, make_account: MakeAccount
) -> None:
    body = {"name": "X", "email": "x@example.org", "role": "administrator"}
    refused = client.post("/invitations", json=body, headers=make_account(Role.SECRETARIAT).headers)
    assert refused.status_code == 403
    allowed = client.post(
        "/invitations", json=body, headers=make_account(Role.ADMINISTRATOR).headers
    )
    assert allowed.status_code == 201


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.CITY_APPLICANT, Role.COMMITTEE_MEMBER])
def test_other_roles_may_not_invite(
    client: TestClient, make_account: MakeAccount, make_city: object, role: Role
) -> None:
    account = make_account(role, city_locode=make_city() if role is Role.CITY_APPLICANT else None)  # type: ignore[operator]
    body = {"name": "X", "email": "x@example.org", "role": "reviewer"}
    assert client.post("/invitations", json=body, headers=account.headers).status_code == 403
    assert client.post("/invitations", json=body).status_code == 401


def test_an_unknown_mail_language_is_refused(client: TestClient, make_account: MakeAccount) -> None:
    body = {"name": "X", "email": "x@example.org", "role": "reviewer", "language": "de"}
    response = client.post(
        "/invitations", json=body, headers=make_account(Role.SECRETARIAT).headers
    )
    assert response.status_code == 422


def test_an_invitation_is_sent_again_with_a_new_link(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    secretariat = make_account(Role.SECRETARIAT)
    user = _invite(client, secretariat)
    _, first = link_in(_outbox(session, "wanjiru@example.org")[0].body)
    again = client.post(f"/users/{user['id']}/invitation", headers=secretariat.headers)
    assert again.status_code == 202
    _, second = link_in(_outbox(session, "wanjiru@example.org")[1].body)
    assert client.get(f"/en/set-password/{first}").status_code == 404
    assert client.get(f"/en/set-password/{second}").status_code == 200


def test_no_second_invitation_once_a_password_is_set(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    secretariat = make_account(Role.SECRETARIAT)
    person = make_account(Role.REVIEWER)
    give_password(session, person.user_id)
    response = client.post(f"/users/{person.user_id}/invitation", headers=secretariat.headers)
    assert response.status_code == 409
    admin = make_account(Role.ADMINISTRATOR)
    refused = client.post(f"/users/{admin.user_id}/invitation", headers=secretariat.headers)
    assert refused.status_code == 403


def test_a_password_reset_is_mailed_and_the_answer_is_the_same_for_unknown_addresses(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    user = give_password(session, account.user_id)
    known = post_form(client, "/es/forgot-password", {"email": user.email.upper()})
    unknown = post_form(client, "/es/forgot-password", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert 'id="reset-sent"' in known.text

    def without_token(text: str) -> str:
        return text.split('id="reset-sent"')[1]

    assert without_token(known.text) == without_token(unknown.text)
    assert _outbox(session, "nobody@example.org") == []
    [mail] = _outbox(session, user.email)
    language, token = link_in(mail.body)
    assert language == "es"
    new = "my new long password"
    done = post_form(
        client, f"/es/set-password/{token}", {"new_password": new, "confirm_password": new}
    )
    assert done.status_code == 303
    assert sign_in_with_password(client, user.email, PASSWORD).status_code == 400
    assert sign_in_with_password(client, user.email, new).status_code == 303


def test_asking_again_within_the_interval_sends_nothing_and_keeps_the_first_link(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    user = give_password(session, account.user_id)
    for _ in range(3):
        answer = post_form(client, "/en/forgot-password", {"email": user.email})
        assert answer.status_code == 200  # the same answer: it tells nothing
        assert 'id="reset-sent"' in answer.text
    [mail] = _outbox(session, user.email)
    _, token = link_in(mail.body)
    assert client.get(f"/en/set-password/{token}").status_code == 200  # not cancelled

    link = session.exec(select(OneTimeLink).where(OneTimeLink.user_id == user.id)).one()
    link.created_at = utcnow() - timedelta(seconds=61)  # the default interval has passed
    session.add(link)
    session.commit()
    post_form(client, "/en/forgot-password", {"email": user.email})
    assert len(_outbox(session, user.email)) == 2


@pytest.mark.parametrize("path", ["/en/forgot-password", "/en/request-account"])
def test_mail_sending_forms_are_rate_limited_per_address(backend: Backend, path: str) -> None:
    from sdgcities.node.app import create_app

    settings = backend.settings.model_copy(update={"rate_limit_mail_forms_per_minute": 2})
    app = create_app(settings, engine=backend.engine)
    with TestClient(app, client=("203.0.113.51", 5000)) as client:
        answers = [client.post(path, data={"email": "a@example.org"}) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [403, 403]  # counted, no form token
    assert answers[2].status_code == 429
    assert "Too many" in answers[2].text


def test_a_reset_needs_an_address_and_the_form_token(client: TestClient) -> None:
    assert post_form(client, "/en/forgot-password", {"email": ""}).status_code == 400
    client.get("/en/forgot-password")
    assert client.post("/en/forgot-password", data={"email": "a@example.org"}).status_code == 403


def test_a_deactivated_account_gets_no_reset(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    user = give_password(session, account.user_id)
    user.active = False
    session.add(user)
    session.commit()
    assert post_form(client, "/en/forgot-password", {"email": user.email}).status_code == 200
    assert _outbox(session, user.email) == []


@pytest.mark.parametrize(("code", "text"), [("ar", "كلمة المرور"), ("zh", "密码")])
def test_the_forgotten_password_page_in_arabic_and_chinese(
    client: TestClient, code: str, text: str
) -> None:
    page = client.get(f"/{code}/forgot-password")
    assert page.status_code == 200
    assert text in page.text


def test_invited_users_exist_before_their_password(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    user = _invite(client, make_account(Role.SECRETARIAT))
    row = session.get(User, user["id"])
    assert row is not None
    assert row.password_hash is None
