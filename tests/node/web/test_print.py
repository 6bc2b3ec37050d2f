"""The certificate page prints on one A4 page, in Chromium (skipped where it is not installed).

The page and what it links (stylesheets, the QR code) are saved as files with relative links,
as a browser's "save page" would, and printed to PDF by headless Chromium; pypdf counts the
pages. A long city name, committee and meeting are used: the page must still fit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session

from sdgcities.node.cities.models import City

from ..registry.factories import Registrar
from .test_public import registrar  # noqa: F401 - fixture

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_LINKED = re.compile(r'(?:href|src)="(/static/[^"?]+)(?:\?[^"]*)?"|src="(/[^"]+/qr\.svg)"')
A4_POINTS = (595, 842)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize("language", ["en", "ar", "ru"])
def test_the_certificate_prints_on_one_a4_page(
    client: TestClient,
    registrar: Registrar,  # noqa: F811
    session: Session,
    tmp_path: Path,
    language: str,
) -> None:
    registrar.city("KE-NBO", "Nairobi")
    city = session.get(City, "KE-NBO")
    assert city is not None
    city.name = "Nairobi City County Metropolitan Area and its Surroundings"
    session.add(city)
    session.commit()
    certificate = registrar.issue("KE-NBO", "enabling-environment")
    html = client.get(f"/{language}/certificates/{certificate.id}").text

    for static, qr in set(_LINKED.findall(html)):
        path = static or qr
        saved = tmp_path / path.lstrip("/").replace(":", "_")
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(client.get(path).content)
        html = re.sub(rf'"{re.escape(path)}(\?[^"]*)?"', f'"{saved.as_uri()}"', html)
    page = tmp_path / "certificate.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "certificate.pdf"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--allow-file-access-from-files",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = PdfReader(pdf).pages
    assert len(pages) == 1
    width, height = (round(float(side)) for side in pages[0].mediabox[2:])
    assert (width, height) == A4_POINTS
    text = pages[0].extract_text()
    assert "KE-NBO" in text
    # The print rules applied: the site's header (its language switcher) is not printed.
    assert "Español" not in text
