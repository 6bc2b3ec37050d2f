"""Signing in on the web: password, throttling, the second factor and its enrolment, `next`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.node.accounts.models import Role, SignInFailure, User
from sdgcities.node.config import Environment
from sdgcities.node.web.session import SESSION_COOKIE

from ..conftest import Backend, MakeAccount, MakeCity
from .accounts import (
    PASSWORD,
    give_password,
    give_second_factor,
    post_form,
    sign_in_with_password,
    wrong_code,
)
from .conftest import SignIn, form_token


def _email(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    assert user is not None
    return user.email


def test_sign_in_page_has_a_form(client: TestClient) -> None:
    page = client.get("/en/sign-in")
    assert page.status_code == 200
    assert 'id="sign-in-form"' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert 'spellcheck="false"' in page.text
    assert form_token(page.text)


def test_a_reviewer_signs_in_and_lands_on_the_account_page(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER, name="Amina Reviewer")
    give_password(session, account.user_id)
    response = sign_in_with_password(client, _email(session, account.user_id))
    assert response.status_code == 303
    assert response.headers["location"] == "/en/account"
    assert SESSION_COOKIE in response.headers["set-cookie"]
    page = client.get("/en/account")
    assert page.status_code == 200
    assert "Amina Reviewer" in page.text
    assert "Reviewer" in page.text


def test_a_city_applicant_lands_on_the_city_dashboard(
    client: TestClient, session: Session, make_account: MakeAccount, make_city: MakeCity
) -> None:
    account = make_account(Role.CITY_APPLICANT, city_locode=make_city())
    give_password(session, account.user_id)
    response = sign_in_with_password(client, _email(session, account.user_id))
    assert response.headers["location"] == "/en/city"


def test_the_address_is_matched_whatever_its_case(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    response = sign_in_with_password(client, _email(session, account.user_id).upper())
    assert response.status_code == 303


def test_next_is_followed_when_it_is_a_local_path(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    response = sign_in_with_password(
        client, _email(session, account.user_id), next_path="/fr/account?x=1"
    )
    assert response.headers["location"] == "/fr/account?x=1"


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/en/\r\nLocation: https://evil.example",
        "evil.example",
    ],
)
def test_next_never_leads_to_another_site(
    client: TestClient, session: Session, make_account: MakeAccount, next_path: str
) -> None:
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    page = client.get("/en/sign-in", params={"next": next_path})
    assert 'name="next" value=""' in page.text
    response = sign_in_with_password(client, _email(session, account.user_id), next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/en/account"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    wrong = sign_in_with_password(client, _email(session, account.user_id), "not the password!")
    unknown = sign_in_with_password(client, "nobody@example.org", "not the password!")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert 'class="error-summary"' in response.text
        assert "The email address or the password is not right" in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/en/account", follow_redirects=False).status_code == 303


def test_empty_fields_are_named(client: TestClient) -> None:
    response = post_form(client, "/en/sign-in", {"email": "", "password": ""})
    assert response.status_code == 400
    assert 'href="#email"' in response.text
    assert 'href="#password"' in response.text


def test_an_account_without_a_password_or_deactivated_cannot_sign_in(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    invited = make_account(Role.REVIEWER)
    assert sign_in_with_password(client, _email(session, invited.user_id)).status_code == 400
    gone = make_account(Role.REVIEWER)
    user = give_password(session, gone.user_id)
    user.active = False
    session.add(user)
    session.commit()
    assert sign_in_with_password(client, user.email).status_code == 400


def test_sign_in_without_the_form_token_is_refused(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    client.get("/en/sign-in")
    response = client.post(
        "/en/sign-in",
        data={"email": _email(session, account.user_id), "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_an_account_is_locked_after_five_failures_even_for_the_right_password(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    for _ in range(5):
        assert sign_in_with_password(client, email, "a wrong password").status_code == 400
    locked = sign_in_with_password(client, email)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert 'id="locked"' in locked.text
    assert "wait 15 minutes" in locked.text
    assert SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    other = make_account(Role.REVIEWER)
    give_password(session, other.user_id)
    # Another account from the same address is not locked (the address's limit is higher).
    assert sign_in_with_password(client, _email(session, other.user_id)).status_code == 303


def test_a_client_address_is_locked_after_many_failures_on_any_addresses(
    client: TestClient,
    session: Session,
    make_account: MakeAccount,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Above the account's limit (five), so only the client's limit can lock; each failure costs
    # an Argon2 check, so not the default twenty.
    limit = backend.settings.sign_in_failures_per_account + 2
    assert limit < backend.settings.sign_in_failures_per_client
    monkeypatch.setattr(backend.settings, "sign_in_failures_per_client", limit)
    for n in range(limit):
        assert sign_in_with_password(client, f"guess{n}@example.org", "wrong").status_code == 400
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    assert sign_in_with_password(client, _email(session, account.user_id)).status_code == 429


def test_a_successful_sign_in_forgets_the_accounts_failures(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.REVIEWER)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    for _ in range(4):
        sign_in_with_password(client, email, "a wrong password")
    assert sign_in_with_password(client, email).status_code == 303
    failures = session.exec(select(SignInFailure).where(SignInFailure.email == email)).all()
    assert failures == []


def test_the_second_factor_is_asked_after_the_password(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.SECRETARIAT)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    totp = give_second_factor(session, account.user_id)
    response = sign_in_with_password(client, email, next_path="/en/account?from=code")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/en/sign-in/code")
    # Half signed in is not signed in.
    assert client.get("/en/account", follow_redirects=False).status_code == 303
    code_page = client.get(response.headers["location"])
    assert 'autocomplete="one-time-code"' in code_page.text
    assert 'inputmode="numeric" class="input-short"' in code_page.text
    bad = post_form(client, "/en/sign-in/code", {"code": wrong_code(totp), "next": "/en/account"})
    assert bad.status_code == 400
    assert "The code is not right" in bad.text
    empty = post_form(client, "/en/sign-in/code", {"code": ""})
    assert empty.status_code == 400
    good = post_form(
        client, "/en/sign-in/code", {"code": totp.now(), "next": "/en/account?from=code"}
    )
    assert good.status_code == 303
    assert good.headers["location"] == "/en/account?from=code"
    assert client.get("/en/account").status_code == 200


def test_a_code_is_never_accepted_twice(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.SECRETARIAT)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    totp = give_second_factor(session, account.user_id)
    code = totp.now()
    sign_in_with_password(client, email)
    assert post_form(client, "/en/sign-in/code", {"code": code}).status_code == 303
    client.cookies.clear()
    sign_in_with_password(client, email)
    replayed = post_form(client, "/en/sign-in/code", {"code": code})
    assert replayed.status_code == 400
    assert "used already" in replayed.text


def test_wrong_codes_lock_the_account_too(
    client: TestClient, session: Session, make_account: MakeAccount
) -> None:
    account = make_account(Role.SECRETARIAT)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    totp = give_second_factor(session, account.user_id)
    sign_in_with_password(client, email)
    for _ in range(5):
        assert post_form(client, "/en/sign-in/code", {"code": wrong_code(totp)}).status_code == 400
    locked = post_form(client, "/en/sign-in/code", {"code": totp.now()})
    assert locked.status_code == 429
    assert 'id="locked"' in locked.text


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(client: TestClient) -> None:
    response = client.get("/en/sign-in/code", follow_redirects=False)
    assert response.headers["location"] == "/en/sign-in"
    posted = post_form(client, "/en/sign-in/code", {"code": "123456"}, page="/en/sign-in")
    assert posted.headers["location"] == "/en/sign-in"


def test_anyone_may_enrol_a_second_factor(
    client: TestClient, session: Session, make_account: MakeAccount, sign_in: SignIn
) -> None:
    import pyotp

    account = make_account(Role.REVIEWER)
    sign_in(account)
    page = client.get("/en/account/second-factor")
    assert page.status_code == 200
    assert "<svg" in page.text
    user = session.get(User, account.user_id)
    assert user is not None
    session.refresh(user)
    assert user.totp_pending_secret is not None
    totp = pyotp.TOTP(user.totp_pending_secret)
    # The same secret on a second visit: the app scanned first still works.
    assert user.totp_pending_secret[:4] in client.get("/en/account/second-factor").text
    bad = post_form(client, "/en/account/second-factor", {"code": wrong_code(totp)})
    assert bad.status_code == 400
    assert 'class="error-summary"' in bad.text
    good = post_form(client, "/en/account/second-factor", {"code": totp.now()})
    assert good.status_code == 303
    assert good.headers["location"] == "/en/account?notice=second_factor"
    session.refresh(user)
    assert user.totp_enabled_at is not None
    assert user.totp_pending_secret is None
    assert "Two-step sign-in is on" in client.get("/en/account?notice=second_factor").text


def test_staff_in_production_must_enrol_before_anything_else(
    client: TestClient,
    session: Session,
    make_account: MakeAccount,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyotp

    monkeypatch.setattr(backend.settings, "environment", Environment.PRODUCTION)
    account = make_account(Role.COMMITTEE_MEMBER)
    give_password(session, account.user_id)
    response = sign_in_with_password(client, _email(session, account.user_id))
    assert response.headers["location"] == "/en/account/second-factor"
    blocked = client.get("/en/account", follow_redirects=False)
    assert blocked.status_code == 303
    assert blocked.headers["location"] == "/en/account/second-factor"
    page = client.get("/en/account/second-factor")
    assert "Your role needs two-step sign-in" in page.text
    user = session.get(User, account.user_id)
    assert user is not None
    session.refresh(user)
    assert user.totp_pending_secret is not None
    code = pyotp.TOTP(user.totp_pending_secret).now()
    assert post_form(client, "/en/account/second-factor", {"code": code}).status_code == 303
    assert client.get("/en/account").status_code == 200


def test_a_reviewer_in_production_needs_no_second_factor(
    client: TestClient,
    session: Session,
    make_account: MakeAccount,
    backend: Backend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backend.settings, "environment", Environment.PRODUCTION)
    account = make_account(Role.REVIEWER)
    give_password(session, account.user_id)
    response = sign_in_with_password(client, _email(session, account.user_id))
    assert response.headers["location"] == "/en/account"


def test_the_password_is_changed_on_the_account_page(
    client: TestClient, session: Session, make_account: MakeAccount, sign_in: SignIn
) -> None:
    account = make_account(Role.REVIEWER)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    sign_in(account)
    new = "a brand new passphrase"
    wrong = post_form(
        client,
        "/en/account/password",
        {"current_password": "nope", "new_password": new, "confirm_password": new},
        page="/en/account",
    )
    assert wrong.status_code == 400
    assert "Your current password is not right" in wrong.text
    weak = post_form(
        client,
        "/en/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        page="/en/account",
    )
    assert weak.status_code == 400
    assert "at least 12 characters" in weak.text
    differ = post_form(
        client,
        "/en/account/password",
        {"current_password": PASSWORD, "new_password": new, "confirm_password": new + "x"},
        page="/en/account",
    )
    assert differ.status_code == 400
    done = post_form(
        client,
        "/en/account/password",
        {"current_password": PASSWORD, "new_password": new, "confirm_password": new},
        page="/en/account",
    )
    assert done.status_code == 303
    client.cookies.clear()
    assert sign_in_with_password(client, email, PASSWORD).status_code == 400
    assert sign_in_with_password(client, email, new).status_code == 303


def test_the_account_page_needs_a_sign_in(client: TestClient) -> None:
    response = client.get("/en/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/en/sign-in?next=/en/account"


@pytest.mark.parametrize(("code", "text"), [("ar", "تسجيل الدخول"), ("zh", "登录")])
def test_the_sign_in_page_in_arabic_and_chinese(client: TestClient, code: str, text: str) -> None:
    page = client.get(f"/{code}/sign-in")
    assert page.status_code == 200
    assert text in page.text
    assert f'lang="{code}"' in page.text


def test_sign_in_posts_are_rate_limited_per_address(backend: Backend) -> None:
    from sdgcities.node.app import create_app

    settings = backend.settings.model_copy(update={"rate_limit_sign_in_per_minute": 1})
    app = create_app(settings, engine=backend.engine)
    with TestClient(app, client=("203.0.113.50", 5000)) as client:
        first = client.post("/fr/sign-in", data={"email": "a@example.org"})
        second = client.post("/fr/sign-in", data={"email": "a@example.org"})
    assert first.status_code == 403  # counted, then refused for its missing form token
    assert second.status_code == 429
    # A page's refusal is a page in its language, not the API's JSON.
    assert "Trop de tentatives" in second.text
    assert int(second.headers["retry-after"]) >= 1


def test_a_new_password_signs_out_the_other_sessions(
    client: TestClient, session: Session, make_account: MakeAccount, backend: Backend
) -> None:
    account = make_account(Role.REVIEWER)
    email = _email(session, account.user_id)
    give_password(session, account.user_id)
    with TestClient(backend.app) as elsewhere:
        assert sign_in_with_password(elsewhere, email).status_code == 303
        assert elsewhere.get("/en/account").status_code == 200
        assert sign_in_with_password(client, email).status_code == 303
        new = "another long passphrase"
        changed = post_form(
            client,
            "/en/account/password",
            {"current_password": PASSWORD, "new_password": new, "confirm_password": new},
            page="/en/account",
        )
        assert changed.status_code == 303
        assert client.get("/en/account").status_code == 200
        assert elsewhere.get("/en/account", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("code", "heading", "two_step"),
    [("ar", "حسابك", "تسجيل الدخول بخطوتين"), ("zh", "您的账户", "两步登录")],
)
def test_the_account_pages_in_arabic_and_chinese(
    client: TestClient,
    make_account: MakeAccount,
    sign_in: SignIn,
    code: str,
    heading: str,
    two_step: str,
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    account = client.get(f"/{code}/account")
    assert account.status_code == 200
    assert heading in account.text
    assert two_step in account.text
    enrol = client.get(f"/{code}/account/second-factor")
    assert f"<h1>{two_step}</h1>" in enrol.text
    assert 'dir="rtl"' in enrol.text if code == "ar" else 'dir="ltr"' in enrol.text
