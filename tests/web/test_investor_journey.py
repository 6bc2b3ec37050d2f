"""An investor, in English, Arabic and Chinese: finds a certified city in the registry (search and
filter), opens its certificate, scans the page's QR code (decoded from the picture the browser
draws, as a phone would) and lands on the same page, downloads the signed token and pastes it on
the verify page, which says it is valid."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from .browser import assert_accessible, watched_page
from .world import WebWorld

pytestmark = pytest.mark.slow


def decode_qr(page: Page) -> str:
    """The text of the QR code the page shows, read from a screenshot of it."""
    picture = Image.open(io.BytesIO(page.locator("img.qr-code").screenshot()))
    found = zxingcpp.read_barcodes(picture)
    assert len(found) == 1, f"{len(found)} codes read from the QR image"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


@pytest.mark.parametrize("code", ["en", "ar", "zh"])
def test_an_investor_finds_a_city_scans_its_certificate_and_verifies_it(
    chromium: Browser, web_world: WebWorld, code: str
) -> None:
    credential_id = web_world.certificates["KE-NBO"]
    # A phone-sized screen at twice the density, as the QR code would be photographed.
    with watched_page(
        chromium, web_world.url, accept_downloads=True, device_scale_factor=2
    ) as page:
        page.goto(f"/{code}/registry")
        page.fill("#registry-q", "Nairobi")
        page.select_option("#registry-level", "silver")
        page.click("#registry-submit")
        page.wait_for_url(f"**/{code}/registry?*")
        results = page.locator("#registry-results table a")
        expect(results).to_have_count(1)
        expect(results).to_have_text("Nairobi")
        results.click()
        page.wait_for_url(f"**/{code}/cities/KE-NBO")
        page.locator("table a[href*='/certificates/']").first.click()
        page.wait_for_url(f"**/{code}/certificates/**")
        expect(page.locator("#certificate-title")).to_have_text("Nairobi")
        certificate_page = page.url

        scanned = decode_qr(page)
        assert scanned == certificate_page
        page.goto(scanned)
        expect(page.locator("#certificate-title")).to_have_text("Nairobi")

        with page.expect_download() as download_info:
            page.click("#certificate-download")
        download = download_info.value
        path = download.path()
        assert path is not None
        token = path.read_text(encoding="ascii").strip()
        assert token.startswith("ey")

        page.goto(f"/{code}/verify")
        page.fill("#certificate-token", token)
        page.click("#verify-submit")
        verdict = page.locator("#verdict")
        expect(verdict).to_have_class("verdict verdict-valid")
        expect(verdict.locator("#verdict-heading")).to_have_class("status-valid")
        expect(page.locator("main")).to_contain_text(credential_id)
        assert_accessible(page)
