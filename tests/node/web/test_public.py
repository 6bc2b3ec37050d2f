"""The public pages: the registry (search, filters, pages), a city's certificates, one
certificate (QR code, token download), in several languages, and their errors as pages."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html import unescape
from urllib.parse import quote

import pytest
import segno
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.timeutil import utcnow
from sdgcities.node.web.public import PAGE_SIZE

from ..conftest import Backend, MakeFramework
from ..registry.factories import VALIDITY, Registrar


@pytest.fixture
def registrar(session: Session, backend: Backend, make_framework: MakeFramework) -> Registrar:
    return Registrar(session=session, state=backend.app.state.node, framework_id=make_framework())


def listed_cities(html: str) -> list[str]:
    """The UN/LOCODEs the registry table lists, in order."""
    return re.findall(r'<a href="/\w\w/cities/([A-Z0-9-]+)">', html)


def test_the_registry_lists_certified_cities_and_filters_them(
    client: TestClient, registrar: Registrar
) -> None:
    registrar.city("KE-NBO", "Nairobi", priorities=["Housing", "Transport"])
    registrar.city("KE-MBA", "Mombasa", priorities=["Water"])
    registrar.city("UG-KLA", "Kampala", priorities=["Housing"])
    registrar.city("KE-KIS", "Kisumu")
    registrar.issue("KE-NBO", "evidence-based-processes")
    registrar.issue("KE-MBA")
    registrar.issue("UG-KLA")
    # Only revoked: not certified, not listed.
    registrar.issue("KE-KIS", then=ProposalKind.REVOCATION)

    page = client.get("/en/registry")
    assert page.status_code == 200
    assert listed_cities(page.text) == ["UG-KLA", "KE-MBA", "KE-NBO"]
    assert "Certified cities found: 3" in page.text
    assert "Gold" in page.text
    # The country list names the countries with a certified city, in the page's language.
    assert '<option value="KE">Kenya</option>' in page.text
    assert '<option value="UG">Uganda</option>' in page.text

    def search(**query: str) -> list[str]:
        response = client.get("/en/registry", params=query)
        assert response.status_code == 200, response.text
        return listed_cities(response.text)

    assert search(country="KE") == ["KE-MBA", "KE-NBO"]
    assert search(country="ke") == ["KE-MBA", "KE-NBO"]
    assert search(q="nair") == ["KE-NBO"]
    assert search(q="UG-") == ["UG-KLA"]
    assert search(level="gold") == ["KE-NBO"]
    assert search(stage="qualification") == ["UG-KLA", "KE-MBA"]
    assert search(priority="housing") == ["UG-KLA", "KE-NBO"]
    assert search(country="KE", priority="housing", level="gold") == ["KE-NBO"]
    empty = client.get("/en/registry", params={"country": "TZ"})
    assert empty.status_code == 200
    assert "No certified city matches this search." in empty.text
    # The form keeps what was chosen.
    kept = client.get("/en/registry", params={"country": "KE", "q": "mom"}).text
    assert '<option value="KE" selected>' in kept
    assert 'name="q" value="mom"' in kept


def test_the_registry_is_paged(client: TestClient, registrar: Registrar) -> None:
    for number in range(PAGE_SIZE + 3):
        locode = f"KE-A{number:02d}"
        registrar.city(locode, f"City {number:02d}")
        registrar.issue(locode)
    first = client.get("/en/registry", params={"country": "KE"})
    assert len(listed_cities(first.text)) == PAGE_SIZE
    assert "Page 1 of 2" in first.text
    assert 'href="/en/registry?country=KE&amp;page=2" rel="next"' in first.text
    second = client.get("/en/registry", params={"country": "KE", "page": "2"})
    assert listed_cities(second.text) == ["KE-A20", "KE-A21", "KE-A22"]
    assert 'href="/en/registry?country=KE" rel="prev"' in second.text
    # Past the last page: a 404 that says so and leads back, not an empty table.
    beyond = client.get("/en/registry", params={"country": "KE", "page": "3"})
    assert beyond.status_code == 404
    assert "There is no page 3: the results fill 2 pages." in beyond.text
    assert 'href="/en/registry?country=KE"' in beyond.text
    assert listed_cities(beyond.text) == []


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"country": "Kenya"}, "country", "Choose a country from the list"),
        ({"stage": "bronze"}, "stage", "Choose a stage from the list"),
        ({"level": "copper"}, "level", "Choose a level from the list"),
        ({"page": "0"}, "page", "The page must be a whole number from 1"),
        ({"page": "two"}, "page", "The page must be a whole number from 1"),
        ({"page": "99999999999999999999"}, "page", "The page must be a whole number from 1"),
        ({"q": "x" * 101}, "q", "Enter at most 100 characters"),
        ({"priority": "y" * 101}, "priority", "Enter at most 100 characters"),
    ],
)
def test_a_filter_the_form_cannot_send_is_a_400_page_that_says_which(
    client: TestClient, registrar: Registrar, query: dict[str, str], field: str, message: str
) -> None:
    registrar.city("KE-NBO", "Nairobi")
    registrar.issue("KE-NBO")
    response = client.get("/en/registry", params=query)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert 'class="error-summary" role="alert"' in response.text
    assert message in response.text
    if field != "page":
        assert f'id="registry-{field}-error"' in response.text
    assert listed_cities(response.text) == []


def test_a_city_page_shows_every_certificate_and_its_status_in_words(
    client: TestClient, registrar: Registrar
) -> None:
    registrar.city("KE-NBO", "Nairobi", region="Nairobi County", population=4_397_073)
    now = utcnow()
    expired = registrar.issue("KE-NBO", decided_at=now - VALIDITY - timedelta(days=40))
    valid = registrar.issue("KE-NBO", decided_at=now - timedelta(days=30))
    suspended = registrar.issue(
        "KE-NBO",
        "evidence-based-processes",
        decided_at=now - timedelta(days=20),
        then=ProposalKind.SUSPENSION,
    )
    revoked = registrar.issue(
        "KE-NBO",
        "enabling-environment",
        decided_at=now - timedelta(days=10),
        then=ProposalKind.REVOCATION,
    )

    response = client.get("/en/cities/ke-nbo")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Nairobi" in html
    assert "Certified at Silver level." in html
    assert "4,397,073" in html
    statuses = re.findall(r'<span class="status status-(\w+)">(\w+)</span>', html)
    # The latest decision first; each status in words, its class only repeating it.
    assert statuses == [
        ("revoked", "Revoked"),
        ("suspended", "Suspended"),
        ("valid", "Valid"),
        ("expired", "Expired"),
    ]
    links = re.findall(r'href="/en/certificates/([^"]+)"', html)
    assert [unescape(link) for link in links] == [revoked.id, suspended.id, valid.id, expired.id]


def test_an_unknown_city_or_certificate_is_a_404_page(
    client: TestClient, registrar: Registrar
) -> None:
    registrar.city("KE-KIS", "Kisumu")  # never certified: not in the registry either
    for path in ("/en/cities/KE-KIS", "/en/cities/XX-NOPE", "/en/cities/TOO-LONG-CODE"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "No certified city has the code" in response.text
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000000"
    for path in (
        f"/fr/certificates/{unknown}",
        f"/fr/certificates/{unknown}/certificate.jwt",
        f"/fr/certificates/{'x' * 65}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page introuvable" in response.text
        assert "Il n\u2019existe aucun certificat" in response.text


def test_the_certificate_page_states_the_certificate_with_its_qr_code(
    client: TestClient, registrar: Registrar, backend: Backend
) -> None:
    registrar.city("KE-NBO", "Nairobi")
    certificate = registrar.issue("KE-NBO", "evidence-based-processes")
    path = f"/en/certificates/{certificate.id}"
    response = client.get(path)
    assert response.status_code == 200
    html = response.text
    assert '<h1 id="certificate-title">Nairobi</h1>' in html
    for fact in (
        "Gold",
        "Inclusive, evidence-based processes",
        "Kenya",
        backend.settings.node_name,
        "Kenya national committee",
        "Valid",
        certificate.id,
        "sdgcities-ke, version 1",
    ):
        assert fact in html, fact
    # The QR code is an image the node serves (no data: URI); the address is printed too.
    assert f'<img class="qr-code" src="{path}/qr.svg"' in html
    assert "data:" not in html
    address = f"{backend.settings.base_url}{path}"
    assert address in html
    assert 'href="/en/certificates/' + certificate.id + '/certificate.jwt"' in html


def test_the_qr_code_leads_back_to_the_page(
    client: TestClient, registrar: Registrar, backend: Backend
) -> None:
    """The image is the QR code of the page's absolute address: segno's own code of it."""
    registrar.city("KE-NBO", "Nairobi")
    certificate = registrar.issue("KE-NBO")
    path = f"/ar/certificates/{certificate.id}"
    response = client.get(f"{path}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert "immutable" in response.headers["cache-control"]
    expected = io.BytesIO()
    segno.make(f"{backend.settings.base_url}{path}", error="m").save(
        expected, kind="svg", scale=4, border=2, omitsize=True, lineclass=None, xmldecl=True
    )
    assert response.content == expected.getvalue()
    svg = ET.fromstring(response.content)  # noqa: S314 (our own node's answer)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert client.get("/ar/certificates/urn:uuid:nope/qr.svg").status_code == 404


def test_the_token_downloads_as_the_exact_signed_text(
    client: TestClient, registrar: Registrar
) -> None:
    registrar.city("KE-NBO", "Nairobi")
    certificate = registrar.issue("KE-NBO")
    response = client.get(f"/es/certificates/{quote(certificate.id)}/certificate.jwt")
    assert response.status_code == 200
    assert response.text == certificate.token
    assert response.headers["content-type"] == "application/vc+jwt"
    uuid_part = certificate.id.rpartition(":")[2]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="sdgcities-KE-NBO-{uuid_part}.jwt"'
    )


@pytest.mark.parametrize(
    ("status", "word_en", "kind"),
    [
        (ProposalKind.SUSPENSION, "Suspended", "suspended"),
        (ProposalKind.REVOCATION, "Revoked", "revoked"),
    ],
)
def test_the_certificate_page_shows_a_live_status(
    client: TestClient, registrar: Registrar, status: ProposalKind, word_en: str, kind: str
) -> None:
    registrar.city("KE-NBO", "Nairobi")
    certificate = registrar.issue("KE-NBO", then=status)
    html = client.get(f"/en/certificates/{certificate.id}").text
    assert f'<span class="status status-{kind}">{word_en}</span>' in html
    assert "It is no longer valid" in html or "It is not valid while suspended" in html


def test_the_pages_in_arabic_and_chinese(client: TestClient, registrar: Registrar) -> None:
    registrar.city("KE-NBO", "Nairobi")
    certificate = registrar.issue("KE-NBO")
    arabic = client.get("/ar/registry").text
    assert 'dir="rtl"' in arabic
    assert "كينيا" in arabic  # Kenya, in the country list, from CLDR
    assert "Certified cities" not in arabic
    chinese = client.get(f"/zh/certificates/{certificate.id}").text
    assert '<html lang="zh"' in chinese
    assert "肯尼亚" in chinese
    assert "Valid" not in chinese
    chinese_city = client.get("/zh/cities/KE-NBO").text
    assert "Certificates" not in chinese_city
