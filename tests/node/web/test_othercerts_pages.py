"""The city's profile page (other certifications and ESG indicators, report §30d, §30e) and
what investors see of it on the public city and registry pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sdgcities.credentials import SigningKey

from ..conftest import MakeAccount, MakeCity, MakeFramework
from ..evidence.samples import PDF, WINDOWS_EXE
from ..othercerts.factories import INDICATOR, NAIROBI, add, issued_now
from ..registry.factories import Registrar
from ..review.factories import ReviewWorld, make_world, ok
from .conftest import SignIn, form_token

PROFILE = "/en/city/profile"
CERTIFICATION = {
    "scheme": "ISO 37120",
    "issuer": "World Council on City Data",
    "level": "Platinum",
    "awarded_on": "2025-03-01",
    "valid_until": "",
    "credential": "",
}


@pytest.fixture
def world(
    make_city: MakeCity, make_account: MakeAccount, make_framework: MakeFramework
) -> ReviewWorld:
    return make_world(make_city, make_account, make_framework)


def _post(
    client: TestClient, action: str, data: dict[str, str], files: dict[str, object] | None = None
) -> Response:
    token = form_token(client.get(PROFILE).text)
    return client.post(
        action,
        data={"csrf_token": token, **data},
        files=files,  # type: ignore[arg-type]
        follow_redirects=False,
    )


def test_a_city_adds_and_removes_certifications_and_indicators(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    assert "Your profile for investors" in client.get("/en/city").text
    assert "None recorded yet." in client.get(PROFILE).text
    with_document = _post(
        client,
        f"{PROFILE}/certifications",
        CERTIFICATION,
        files={"document": ("certificate.pdf", PDF, "application/pdf")},
    )
    assert (with_document.status_code, with_document.headers["location"]) == (
        303,
        "/en/city/profile?saved=certification#other-certifications",
    )
    verified = _post(
        client,
        f"{PROFILE}/certifications",
        {**CERTIFICATION, "scheme": "ISO 37122", "credential": issued_now(SigningKey.generate())},
    )
    assert verified.status_code == 303
    page = client.get(PROFILE).text
    assert "Document: certificate.pdf" in page
    assert "<strong>Verified</strong>" in page
    assert "Declared by the city" in page
    added = _post(client, f"{PROFILE}/indicators", {k: str(v) for k, v in INDICATOR.items()})
    assert added.status_code == 303
    page = client.get(PROFILE).text
    assert "GHG-per-capita" in page
    listed = ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))
    first = listed["data"][0]["id"]
    removed = _post(client, f"{PROFILE}/certifications/{first}/removal", {})
    assert removed.status_code == 303
    assert ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["count"] == 1
    indicator = ok(client.get(f"{NAIROBI}/esg-indicators", headers=world.nairobi.headers))
    gone = _post(client, f"{PROFILE}/indicators/{indicator['data'][0]['id']}/removal", {})
    assert gone.status_code == 303
    assert ok(client.get(f"{NAIROBI}/esg-indicators", headers=world.nairobi.headers))["count"] == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scheme": ""}, "Enter the scheme or standard"),
        ({"awarded_on": "not a date"}, "Enter the date of the award"),
        ({"valid_until": "2020-01-01"}, "Enter a date after the award"),
        ({"credential": "a.b.c"}, "Paste the credential as its issuer gave it"),
    ],
)
def test_a_refused_certification_keeps_what_was_typed(
    client: TestClient,
    world: ReviewWorld,
    sign_in: SignIn,
    changes: dict[str, str],
    message: str,
) -> None:
    sign_in(world.nairobi)
    response = _post(client, f"{PROFILE}/certifications", {**CERTIFICATION, **changes})
    assert response.status_code in (400, 422)
    assert "There is a problem" in response.text
    assert message in response.text
    assert 'value="World Council on City Data"' in response.text
    assert ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["count"] == 0


def test_a_refused_document_is_said_beside_its_field(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    response = _post(
        client,
        f"{PROFILE}/certifications",
        CERTIFICATION,
        files={"document": ("tool.pdf", WINDOWS_EXE, "application/pdf")},
    )
    assert response.status_code == 415
    assert "This kind of file is not accepted" in response.text
    assert ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["count"] == 0


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"year": "1800"}, "Enter the year, from 1990 to 2100.", 400),
        ({"value": "1,5"}, "Enter the value as a number", 400),
        ({"code": "has spaces"}, "Enter the indicator", 400),
    ],
)
def test_a_refused_indicator_is_said_beside_its_field(
    client: TestClient,
    world: ReviewWorld,
    sign_in: SignIn,
    changes: dict[str, str],
    message: str,
    status: int,
) -> None:
    sign_in(world.nairobi)
    data = {k: str(v) for k, v in INDICATOR.items()} | changes
    response = _post(client, f"{PROFILE}/indicators", data)
    assert response.status_code == status
    assert message in response.text


def test_a_second_value_for_the_same_year_is_a_409_page(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    sign_in(world.nairobi)
    data = {k: str(v) for k, v in INDICATOR.items()}
    assert _post(client, f"{PROFILE}/indicators", data).status_code == 303
    again = _post(client, f"{PROFILE}/indicators", data)
    assert again.status_code == 409
    assert "already recorded" in again.text


def test_only_city_applicants_see_the_profile_page(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    anonymous = client.get(PROFILE, follow_redirects=False)
    assert anonymous.status_code == 303
    assert "/en/sign-in" in anonymous.headers["location"]
    sign_in(world.secretariat)
    assert client.get(PROFILE).status_code == 403


def test_another_citys_entry_cannot_be_removed(
    client: TestClient, world: ReviewWorld, sign_in: SignIn
) -> None:
    nairobi = add(client, world.nairobi)
    sign_in(world.mombasa)
    response = _post(client, f"{PROFILE}/certifications/{nairobi['id']}/removal", {})
    assert response.status_code == 404
    assert ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["count"] == 1


def test_investors_see_verified_apart_from_declared(
    client: TestClient, world: ReviewWorld, registrar: Registrar
) -> None:
    registrar.issue("KE-NBO")
    add(client, world.nairobi, scheme="ISO 37122", credential=issued_now(SigningKey.generate()))
    add(client, world.nairobi, scheme="National smart city label")
    ok(client.post(f"{NAIROBI}/esg-indicators", headers=world.nairobi.headers, json=INDICATOR), 201)
    page = client.get("/en/cities/KE-NBO").text
    assert page.count('id="other-certifications"') == 1
    assert "Other certifications" not in page[: page.index("</head>")]
    verified = page.index('class="other-certifications verified"')
    declared = page.index('class="other-certifications declared"')
    assert verified < page.index("ISO 37122") < declared < page.index("National smart city label")
    assert "Greenhouse gas emissions per capita" in page
    registry = client.get("/en/registry", params={"country": "KE"}).text
    assert 'href="/registry/export.csv?country=KE"' in registry
    assert 'href="/registry/export.json?country=KE"' in registry
    french = client.get("/fr/cities/KE-NBO").text
    assert "Autres certifications" in french


@pytest.fixture
def registrar(session: object, backend: object, world: ReviewWorld) -> Registrar:
    return Registrar(
        session=session,  # type: ignore[arg-type]
        state=backend.app.state.node,  # type: ignore[attr-defined]
        framework_id=world.framework_id,
    )


@pytest.mark.parametrize(
    ("setting", "status", "message"),
    [
        ("evidence_max_bytes", 413, "The file is too large."),
        ("city_quota_bytes", 409, "your city's storage is full"),
    ],
)
def test_a_document_past_a_limit_is_refused_on_the_page(
    client: TestClient,
    world: ReviewWorld,
    sign_in: SignIn,
    backend: object,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    status: int,
    message: str,
) -> None:
    sign_in(world.nairobi)
    monkeypatch.setattr(backend.app.state.node.settings, setting, 16)  # type: ignore[attr-defined]
    response = _post(
        client,
        f"{PROFILE}/certifications",
        CERTIFICATION,
        files={"document": ("certificate.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == status
    assert message in response.text
    assert ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["count"] == 0
