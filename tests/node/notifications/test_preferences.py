"""Each person's notice preferences: the account page (a form with its CSRF token) and the JSON
API for the signed-in caller; refusals for the anonymous, forged posts and bad values."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.accounts.models import Role

from ..conftest import MakeAccount, MakeCity
from ..web.conftest import SignIn, form_token, sign_in
from .outbox import email_of

__all__ = ["sign_in"]
PAGE = "/en/account/notices"


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/en/sign-in?next={PAGE}")


def test_the_api_refuses_the_anonymous(client: TestClient) -> None:
    assert client.get("/me/notices").status_code == 401
    refused = client.put("/me/notices", json={"language": "fr", "muted": []})
    assert refused.status_code == 401


def test_a_person_chooses_their_notices_on_the_account_page(
    client: TestClient,
    session: Session,
    make_city: MakeCity,
    make_account: MakeAccount,
    sign_in: SignIn,
) -> None:
    make_city("KE-NBO", "Nairobi")
    person = make_account(Role.CITY_APPLICANT, city_locode="KE-NBO", languages=["ru"])
    sign_in(person)
    page = client.get(PAGE)
    assert page.status_code == 200
    # Every notice a city's official can get, on by default, in the account's first language.
    assert page.text.count('type="checkbox" name="notice"') == 6
    assert page.text.count(" checked>") == 6
    assert 'value="review_assigned"' not in page.text  # a reviewer's notice
    assert "Notices are now sent in Русский." in page.text
    assert 'href="/en/account/notices"' in client.get("/en/account").text

    saved = client.post(
        PAGE,
        data={
            "csrf_token": form_token(page.text),
            "language": "es",
            "notice": ["decision_taken", "certificate_expiring"],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?saved=1"
    shown = client.get(saved.headers["location"])
    assert "Your choices are saved." in shown.text
    assert '<option value="es" lang="es" selected>' in shown.text
    assert 'value="decision_taken" id="notice-decision_taken" checked>' in shown.text
    assert 'value="clarification_asked" id="notice-clarification_asked">' in shown.text
    assert "Notices are now sent in Español." in shown.text

    # The API shows the same choices to the same person.
    api = client.get("/me/notices", headers=person.headers).json()
    assert api["language"] == "es"
    assert api["effective_language"] == "es"
    assert api["muted"] == [
        "certificate_changed",
        "clarification_asked",
        "community_event",
        "community_formed",
    ]
    assert api["kinds"] == [
        "clarification_asked",
        "decision_taken",
        "certificate_changed",
        "certificate_expiring",
        "community_formed",
        "community_event",
    ]
    assert email_of(session, person)  # the account is untouched


def test_the_page_refuses_a_forged_post_and_bad_values(
    client: TestClient, make_city: MakeCity, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.CITY_APPLICANT, city_locode=make_city("KE-NBO", "Nairobi")))
    token = form_token(client.get(PAGE).text)
    forged = client.post(PAGE, data={"csrf_token": "forged", "language": "fr"})
    assert forged.status_code == 403
    assert "This form has expired" in forged.text

    bad_language = client.post(PAGE, data={"csrf_token": token, "language": "de"})
    assert bad_language.status_code == 400
    assert "Choose one of the languages in the list" in bad_language.text
    bad_kind = client.post(PAGE, data={"csrf_token": token, "notice": ["everything"]})
    assert bad_kind.status_code == 400
    assert "Choose notices from the list" in bad_kind.text
    not_offered = client.post(PAGE, data={"csrf_token": token, "notice": ["node_alarm"]})
    assert not_offered.status_code == 400  # the global secretariat's notice
    assert "Choose notices from the list" in not_offered.text
    # Nothing was saved.
    assert "Your choices are saved." not in client.get(PAGE).text
    assert client.get(PAGE).text.count(" checked>") == 6


def test_a_role_that_gets_no_notices_is_told_so(
    client: TestClient, make_account: MakeAccount, sign_in: SignIn
) -> None:
    sign_in(make_account(Role.ADMINISTRATOR))
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'id="no-notices"' in page.text
    assert 'name="notice"' not in page.text


def test_the_api_sets_and_checks_the_callers_preferences(
    client: TestClient, make_account: MakeAccount
) -> None:
    reviewer = make_account(Role.REVIEWER, languages=["zh-CN", "en"])
    shown = client.get("/me/notices", headers=reviewer.headers)
    assert shown.status_code == 200
    assert shown.json() == {
        "language": None,
        "muted": [],
        "effective_language": "zh",
        "kinds": ["review_assigned", "clarification_answered"],
    }
    changed = client.put(
        "/me/notices",
        headers=reviewer.headers,
        json={"language": "ar", "muted": ["node_alarm", "node_silent"]},
    )
    assert changed.status_code == 200
    assert changed.json()["muted"] == ["node_alarm", "node_silent"]
    assert changed.json()["effective_language"] == "ar"
    for body in (
        {"language": "de", "muted": []},
        {"language": None, "muted": ["everything"]},
        {"language": None, "muted": [], "extra": 1},
    ):
        refused = client.put("/me/notices", headers=reviewer.headers, json=body)
        assert refused.status_code == 422, body
    assert client.get("/me/notices", headers=reviewer.headers).json()["language"] == "ar"
