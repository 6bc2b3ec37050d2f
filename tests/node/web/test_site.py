"""The site's frame: languages in the URL, the language switch, errors as pages, sessions, CSRF."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.accounts.models import Role
from sdgcities.node.app import api_routes
from sdgcities.node.web.i18n import LANGUAGES, preferred_language
from sdgcities.node.web.pages import CONTENT_SECURITY_POLICY

from ..conftest import Backend, MakeAccount, MakeCity
from .conftest import SignIn, form_token


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-DE,de;q=0.9,ar;q=0.5,en;q=0.4", "ar"),
        ("zh-Hant-TW", "zh"),
        ("en;q=0.1, ru;q=0.9", "ru"),
        ("es;q=0, en", "en"),
        ("de", "en"),
        ("", "en"),
        ("fr;q=abc, es", "es"),
    ],
)
def test_preferred_language(header: str, expected: str) -> None:
    assert preferred_language(header).code == expected


def test_root_sends_a_browser_to_its_language(client: TestClient) -> None:
    response = client.get(
        "/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ru/"
    assert "Accept-Language" in response.headers["vary"]


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_home_page_in_each_language(client: TestClient, language) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/{language.code}/")
    assert response.status_code == 200
    html = response.text
    assert f'<html lang="{language.code}" dir="{language.direction}">' in html
    # Every page links to itself in the five other languages.
    for other in LANGUAGES:
        if other is not language:
            assert f'href="/{other.code}/"' in html
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_are_translated(client: TestClient) -> None:
    assert "Vérifier un certificat" in client.get("/fr/").text
    assert 'dir="rtl"' in client.get("/ar/").text
    assert "Verify a certificate" in client.get("/en/").text
    assert "Verify a certificate" not in client.get("/zh/").text


def test_the_language_switch_keeps_the_page_and_its_query(client: TestClient) -> None:
    html = client.get("/fr/?page=2").text
    assert 'href="/es/?page=2"' in html


def test_a_page_without_its_slash_is_redirected(client: TestClient) -> None:
    response = client.get("/es", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/es/"


def test_an_unknown_page_is_a_page_in_its_language(client: TestClient) -> None:
    response = client.get("/fr/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in response.text


def test_the_api_still_answers_json(client: TestClient) -> None:
    response = client.get("/no-such-path")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # A language code that is not one of the six is not a page.
    assert client.get("/de/").json()["code"] == "not_found"


def test_pages_are_not_api_routes(backend: Backend) -> None:
    paths = {route.path for route in api_routes(backend.app)}
    assert "/" not in paths
    assert not any(path.startswith("/{lang") for path in paths)


def test_assets_are_served_by_the_node(client: TestClient) -> None:
    html = client.get("/en/").text
    assert "http://" not in html.replace('href="http://testserver', "")
    assert "https://" not in html
    css = client.get("/static/web.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_a_visitor_gets_an_anti_forgery_cookie_and_token(client: TestClient) -> None:
    response = client.get("/en/")
    cookie = response.cookies.get("sdgc_csrf")
    assert cookie
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie


def test_sign_out_ends_the_session(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.SECRETARIAT))
    html = client.get("/en/").text
    assert "Sign out" in html
    response = client.post(
        "/en/sign-out", data={"csrf_token": form_token(html)}, follow_redirects=False
    )
    assert response.status_code == 303
    # The cookie the browser still holds no longer signs anyone in.
    assert "Sign out" not in client.get("/en/").text


def test_sign_out_without_the_form_token_is_refused(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.REVIEWER))
    client.get("/en/")
    response = client.post("/en/sign-out", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "Sign out" in client.get("/en/").text


def test_a_cross_site_post_is_refused_even_with_the_token(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.REVIEWER))
    token = form_token(client.get("/en/").text)
    response = client.post(
        "/en/sign-out", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403


def test_a_page_for_signed_in_people_sends_others_to_sign_in(client: TestClient) -> None:
    response = client.post("/fr/sign-out", data={}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/fr/sign-in?next=/fr/sign-out"


def test_a_forged_session_cookie_signs_nobody_in(client: TestClient) -> None:
    client.cookies.set("sdgc_session", "x" * 43)
    assert "Sign out" not in client.get("/en/").text
    client.cookies.set("sdgc_session", "x" * 5000)
    assert client.get("/en/").status_code == 200


@pytest.mark.parametrize(
    ("role", "link", "absent"),
    [
        (Role.REVIEWER, "/en/review", "/en/committee"),
        (Role.COMMITTEE_MEMBER, "/en/committee", "/en/account-requests"),
        (Role.SECRETARIAT, "/en/account-requests", "/en/review"),
    ],
)
def test_the_navigation_leads_each_role_to_its_pages(
    client: TestClient,
    make_account: MakeAccount,
    sign_in: SignIn,
    role: Role,
    link: str,
    absent: str,
) -> None:
    sign_in(make_account(role))
    html = client.get("/en/").text
    assert f'href="{link}"' in html
    assert f'href="{absent}"' not in html
    assert client.get(link).status_code == 200


def test_a_city_official_is_led_to_the_city_pages(
    client: TestClient, make_account: MakeAccount, make_city: MakeCity, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.CITY_APPLICANT, city_locode=make_city()))
    assert 'href="/en/city"' in client.get("/en/").text
