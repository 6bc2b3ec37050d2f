"""`/docs` of a real national node in Chromium: it renders the API from the node's own files
alone (every other origin is blocked and fails the test), with no console error.

axe-core: the page around Swagger UI is ours and must pass; what Swagger UI renders inside
`#swagger-ui` is not, and has serious violations of its own (5.32: low-contrast grey text and
buttons, operation summaries that nest buttons in a button). We check that no other kind appears,
so a Swagger UI upgrade that brings a new one is noticed.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser import assert_accessible, axe_violations, describe_violations

pytestmark = pytest.mark.slow

SWAGGER_UI_ROOT = "#swagger-ui"
SWAGGER_UI_KNOWN_VIOLATIONS = frozenset({"color-contrast", "nested-interactive"})


def _open_swagger_ui(page: Page) -> None:
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()


def test_swagger_ui_shows_the_operations_offline(national_page: Page) -> None:
    _open_swagger_ui(national_page)
    expect(national_page.get_by_role("heading", name="SDG Cities node KE")).to_be_visible()
    verify = national_page.locator(".opblock-post", has_text="/verify").first
    expect(verify).to_be_visible()
    verify.locator(".opblock-summary-control").click()
    expect(verify.get_by_role("button", name="Try it out")).to_be_visible()


def test_the_page_around_swagger_ui_is_accessible(national_page: Page) -> None:
    _open_swagger_ui(national_page)
    assert_accessible(national_page, exclude=[SWAGGER_UI_ROOT])


def test_swagger_ui_has_no_new_kind_of_serious_violation(national_page: Page) -> None:
    _open_swagger_ui(national_page)
    violations = axe_violations(national_page)
    new = [v for v in violations if v["id"] not in SWAGGER_UI_KNOWN_VIOLATIONS]
    assert not new, describe_violations(new)
