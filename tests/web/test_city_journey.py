"""A city official's first days, in Chromium against the real node: asks for an account on the
public site, the secretariat approves it on its page, the invitation arrives by SMTP, the official
follows its link, chooses a password, signs in, fills the self-assessment with an evidence file
(a real PDF) and submits it, and the dashboard shows it submitted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.sync_api import Browser, Page, expect

from .browser import assert_accessible, watched_page
from .world import JOURNEY_CITY, WebWorld

pytestmark = pytest.mark.slow

OFFICIAL = "planning@nakuru.example.org"
NEW_PASSWORD = "lake flamingo county plan"
CRITERIA = ("A.a", "A.b", "A.c")
_LINK = re.compile(r"https?://\S+/en/set-password/[A-Za-z0-9_-]+")


def stocktaking_pdf(folder: Path) -> Path:
    """A small, real PDF, as a city would upload it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Nakuru: stocktaking of SDG policies, local data and action plans, 2026.")
    path = folder / "nakuru-stocktaking.pdf"
    pdf.output(str(path))
    return path


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/en/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def test_a_city_official_asks_for_an_account_and_submits_a_self_assessment(
    chromium: Browser, web_world: WebWorld, tmp_path: Path
) -> None:
    locode, city = JOURNEY_CITY
    with watched_page(chromium, web_world.url) as page:
        page.goto("/en/request-account")
        assert_accessible(page)
        page.fill("#name", "Wanjiru Kamau")
        page.fill("#email", OFFICIAL)
        page.fill("#city", city)
        page.fill("#role_in_city", "Head of urban planning")
        page.fill("#message", "We would like to start with the qualification stage.")
        page.click("#send-request")
        expect(page.locator("#request-sent")).to_be_visible()

    secretariat = web_world.people["secretariat"]
    with watched_page(chromium, web_world.url) as page:
        sign_in(page, secretariat.email, secretariat.password)
        page.goto("/en/account-requests")
        request = page.locator("li.card", has_text=OFFICIAL)
        expect(request).to_have_count(1)
        request.locator("select[name=city_locode]").select_option(locode)
        request.locator("button[id^=approve-]").click()
        expect(page.locator("li.card", has_text=OFFICIAL)).to_have_count(0)

    invitation = web_world.mailbox.wait_for(OFFICIAL)
    body = invitation.get_body(preferencelist=("plain",))
    assert body is not None
    found = _LINK.search(body.get_content())
    assert found is not None, body.get_content()
    link = found.group(0)
    assert link.startswith(web_world.url)

    with watched_page(chromium, web_world.url) as page:
        page.goto(link)
        expect(page.locator("main")).to_contain_text(OFFICIAL)
        page.fill("#new_password", NEW_PASSWORD)
        page.fill("#confirm_password", NEW_PASSWORD)
        page.click("#set-password")
        page.wait_for_url(lambda url: "/set-password/" not in url)
        sign_in(page, OFFICIAL, NEW_PASSWORD)

        page.goto("/en/city")
        expect(page.locator("h1")).to_contain_text(city)
        page.check("#stage")
        page.locator("#start-application button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/en/city/applications/\d+$"))
        application_page = page.url
        assert_accessible(page)

        evidence = stocktaking_pdf(tmp_path)
        for code in CRITERIA:
            slug = code.replace(".", "-")
            page.fill(f"#narrative-{slug}", f"How Nakuru meets criterion {code}, with evidence.")
            page.locator(f"#answer-{slug} button[type=submit]").click()
            expect(page.locator(f"#narrative-{slug}")).to_have_value(
                f"How Nakuru meets criterion {code}, with evidence."
            )
            page.set_input_files(f"#evidence-{slug}", evidence)
            page.locator(f"#upload-{slug} button[type=submit]").click()
            expect(page.locator(f"#criterion-{slug}")).to_contain_text(evidence.name)

        page.goto(application_page)
        page.locator("#submit-form button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("#submit-form")).to_have_count(0)

        page.goto("/en/city")
        card = page.locator("section.application-card")
        expect(card).to_have_count(1)
        expect(card.locator("dl.summary dd strong")).to_have_text("Submitted")
        assert_accessible(page)
