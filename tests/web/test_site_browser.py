"""The site's frame in Chromium: every language's home page renders from the node alone, passes
axe-core, mirrors for Arabic, and the language switch and skip link work from the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser import assert_accessible

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("code", ["en", "ar", "zh"])
def test_the_home_page_is_accessible(national_page: Page, code: str) -> None:
    national_page.goto(f"/{code}/")
    expect(national_page.locator("h1")).to_be_visible()
    assert_accessible(national_page)


def test_arabic_pages_read_right_to_left(national_page: Page) -> None:
    national_page.goto("/ar/")
    assert national_page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    heading = national_page.locator("h1").bounding_box()
    page_width = national_page.viewport_size["width"] if national_page.viewport_size else 1280
    assert heading is not None
    # The heading hugs the right-hand edge of the page.
    assert heading["x"] + heading["width"] > page_width / 2


def test_a_browser_lands_in_its_language(national_page: Page) -> None:
    national_page.set_extra_http_headers({"Accept-Language": "fr-FR,fr;q=0.9"})
    national_page.goto("/")
    assert national_page.url.endswith("/fr/")
    expect(national_page.locator("html")).to_have_attribute("lang", "fr")


def test_the_language_switch_and_skip_link_work_from_the_keyboard(national_page: Page) -> None:
    national_page.goto("/en/")
    national_page.keyboard.press("Tab")
    skip = national_page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    national_page.get_by_role("link", name="Español").focus()
    national_page.keyboard.press("Enter")
    national_page.wait_for_url("**/es/")
    expect(national_page.locator("h1")).to_have_text("Certificación SDG Cities")
