"""axe-core on every page of the site, in English, Arabic and Chinese: no serious or critical
violation; and, as on every watched page, no console error and no request leaving the node.

Each person signs in once per module (their browser state is reused), so the sixty-odd page
visits cost a page load and an axe run each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, expect

from .browser import assert_accessible, watched_page
from .world import WebWorld

pytestmark = pytest.mark.slow

LANGUAGES = ("en", "ar", "zh")


def _certificate(world: WebWorld) -> str:
    return quote(world.certificates["KE-NBO"], safe=":")


def _application(world: WebWorld) -> int:
    return world.reviewed_application


# page name -> (who is signed in, or None; its path for a language and the world)
PAGES: dict[str, tuple[str | None, Callable[[str, WebWorld], str]]] = {
    "home": (None, lambda lang, _w: f"/{lang}/"),
    "registry": (None, lambda lang, _w: f"/{lang}/registry?q=Nairobi"),
    "city": (None, lambda lang, _w: f"/{lang}/cities/KE-NBO"),
    "certificate": (None, lambda lang, w: f"/{lang}/certificates/{_certificate(w)}"),
    "verify-form": (None, lambda lang, _w: f"/{lang}/verify"),
    "verify-answer": (None, lambda lang, w: f"/{lang}/verify?certificate={_certificate(w)}"),
    "criteria": (None, lambda lang, _w: f"/{lang}/criteria"),
    "criteria-version": (None, lambda lang, w: f"/{lang}/criteria/{w.review.framework_id}"),
    "sign-in": (None, lambda lang, _w: f"/{lang}/sign-in"),
    "request-account": (None, lambda lang, _w: f"/{lang}/request-account"),
    "forgot-password": (None, lambda lang, _w: f"/{lang}/forgot-password"),
    "not-found": (None, lambda lang, _w: f"/{lang}/no-such-page"),
    "account": ("mombasa", lambda lang, _w: f"/{lang}/account"),
    "city-dashboard": ("mombasa", lambda lang, _w: f"/{lang}/city"),
    "self-assessment": (
        "mombasa",
        lambda lang, w: f"/{lang}/city/applications/{_application(w)}",
    ),
    "stage-report": (
        "mombasa",
        lambda lang, w: f"/{lang}/city/applications/{_application(w)}/report",
    ),
    "account-requests": ("secretariat", lambda lang, _w: f"/{lang}/account-requests"),
    "review-assignments": ("lead", lambda lang, _w: f"/{lang}/review"),
    "review-conflicts": ("lead", lambda lang, _w: f"/{lang}/review/conflicts"),
    "review-application": (
        "lead",
        lambda lang, w: f"/{lang}/review/applications/{_application(w)}",
    ),
    "review-consolidation": (
        "lead",
        lambda lang, w: f"/{lang}/review/applications/{_application(w)}/consolidation",
    ),
    "review-report": (
        "lead",
        lambda lang, w: f"/{lang}/review/applications/{_application(w)}/report.html",
    ),
}
NOT_FOUND = {"not-found"}
# The stage report as the API renders it: a document in the application's language (English
# here), whatever the language of the page that links to it.
OWN_LANGUAGE = {"review-report"}


@pytest.fixture(scope="module")
def signed_in(chromium: Browser, web_world: WebWorld) -> dict[str, Any]:
    """Each person's browser state (their session cookie) after signing in once."""
    states: dict[str, Any] = {}
    for name in {who for who, _ in PAGES.values() if who is not None}:
        person = web_world.people[name]
        with watched_page(chromium, web_world.url) as page:
            page.goto("/en/sign-in")
            page.fill("#email", person.email)
            page.fill("#password", person.password)
            page.click("#sign-in")
            page.wait_for_url(lambda url: "/sign-in" not in url)
            states[name] = page.context.storage_state()
    return states


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_is_accessible(
    chromium: Browser, web_world: WebWorld, signed_in: dict[str, Any], name: str, lang: str
) -> None:
    who, path_of = PAGES[name]
    path = path_of(lang, web_world)
    options = {"storage_state": signed_in[who]} if who is not None else {}
    expected_failures = {path} if name in NOT_FOUND else set()
    with watched_page(
        chromium, web_world.url, expected_failures=expected_failures, **options
    ) as page:
        response = page.goto(path)
        assert response is not None
        assert response.status == (404 if name in NOT_FOUND else 200), page.url
        assert "/sign-in" not in page.url or name == "sign-in"
        expected_language = "en" if name in OWN_LANGUAGE else lang
        expect(page.locator("html")).to_have_attribute("lang", expected_language)
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page)
