"""Investors read a certified city's other certifications and ESG indicators in the registry,
and export the registry as CSV or JSON, filtered as the listing is (report §30d)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdgcities.credentials import SigningKey
from sdgcities.node.registry import export

from ..evidence.samples import PDF
from ..registry.factories import Registrar
from ..review.factories import ReviewWorld, ok
from .factories import INDICATOR, NAIROBI, add, issued_now


@pytest.fixture
def certified(client: TestClient, world: ReviewWorld, registrar: Registrar) -> dict[str, Any]:
    """Nairobi certified, with a verified and a declared certification and an indicator."""
    registrar.issue("KE-NBO")
    verified = add(client, world.nairobi, credential=issued_now(SigningKey.generate()))
    declared = add(client, world.nairobi, scheme='=HYPERLINK("https://evil.example")')
    ok(
        client.put(
            f"{NAIROBI}/certifications/{declared['id']}/document",
            params={"filename": "national.pdf"},
            headers={**world.nairobi.headers, "Content-Type": "application/octet-stream"},
            content=PDF,
        )
    )
    ok(client.post(f"{NAIROBI}/esg-indicators", headers=world.nairobi.headers, json=INDICATOR), 201)
    return {"verified": verified, "declared": declared}


def test_the_city_record_keeps_verified_and_declared_apart(
    client: TestClient, certified: dict[str, Any]
) -> None:
    record = ok(client.get("/registry/cities/KE-NBO"))
    others = record["otherCertifications"]
    assert [c["id"] for c in others["verified"]] == [certified["verified"]["id"]]
    assert [c["id"] for c in others["declared"]] == [certified["declared"]["id"]]
    assert others["verified"][0]["verification"] == "verified"
    assert others["verified"][0]["credentialIssuer"].startswith("did:key:")
    assert others["declared"][0]["credentialIssuer"] is None
    assert others["declared"][0]["documentUrl"].endswith(
        f"/registry/cities/KE-NBO/certifications/{certified['declared']['id']}/document"
    )
    assert record["esgIndicators"]["declared"][0]["code"] == "GHG-per-capita"


def test_anyone_downloads_a_certifications_document(
    client: TestClient, certified: dict[str, Any]
) -> None:
    path = f"/registry/cities/KE-NBO/certifications/{certified['declared']['id']}/document"
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith('attachment; filename="national.pdf"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    no_document = f"/registry/cities/KE-NBO/certifications/{certified['verified']['id']}/document"
    assert client.get(no_document).status_code == 404
    assert client.get("/registry/cities/KE-NBO/certifications/999/document").status_code == 404


def test_an_uncertified_citys_profile_is_not_public(client: TestClient, world: ReviewWorld) -> None:
    declared = add(client, world.nairobi)
    assert client.get("/registry/cities/KE-NBO").status_code == 404
    path = f"/registry/cities/KE-NBO/certifications/{declared['id']}/document"
    assert client.get(path).status_code == 404


@pytest.mark.usefixtures("certified")
def test_the_csv_export_is_safe_to_open_in_a_spreadsheet(
    client: TestClient,
) -> None:
    response = client.get("/registry/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="sdgcities-registry-ke-'
    )
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["record"] for row in rows] == [
        "sdg-cities",
        "certification",
        "certification",
        "esg",
    ]
    assert rows[0]["sdgLevel"] == "silver"
    assert [row["verification"] for row in rows[1:]] == ["verified", "declared", "declared"]
    assert rows[2]["scheme"] == '\'=HYPERLINK("https://evil.example")'
    assert rows[3]["value"] == "2.4"
    assert rows[3]["source"] == "City climate inventory 2024"


def test_the_json_export_and_its_filters(client: TestClient, certified: dict[str, Any]) -> None:
    body = ok(client.get("/registry/export.json", params={"country": "ke"}))
    assert body["count"] == 1
    assert body["filters"] == {"country": "KE"}
    city = body["data"][0]
    assert city["locode"] == "KE-NBO"
    assert city["otherCertifications"]["verified"][0]["id"] == certified["verified"]["id"]
    assert city["esgIndicators"]["declared"][0]["value"] == 2.4
    assert ok(client.get("/registry/export.json", params={"country": "UG"}))["data"] == []
    assert ok(client.get("/registry/export.json", params={"level": "gold"}))["count"] == 0
    csv_rows = client.get("/registry/export.csv", params={"q": "mombasa"}).content
    assert csv_rows.decode("utf-8-sig").count("\r\n") == 1  # the header alone


@pytest.mark.usefixtures("certified")
def test_an_export_answers_304_while_nothing_changed(
    client: TestClient, world: ReviewWorld
) -> None:
    first = client.get("/registry/export.json")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/registry/export.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other_format = client.get("/registry/export.csv", headers={"If-None-Match": etag})
    assert other_format.status_code == 200
    ok(
        client.post(
            f"{NAIROBI}/esg-indicators",
            headers=world.nairobi.headers,
            json={**INDICATOR, "year": 2025},
        ),
        201,
    )
    changed = client.get("/registry/export.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/registry/export.xml", {}, 404),
        ("/registry/export.csv", {"country": "KEN"}, 422),
        ("/registry/export.json", {"level": "bronze"}, 422),
        ("/registry/export.json", {"q": "x" * 101}, 422),
    ],
)
def test_export_refusals(
    client: TestClient, path: str, params: dict[str, str], status: int
) -> None:
    assert client.get(path, params=params).status_code == status


@pytest.mark.usefixtures("certified")
def test_an_export_is_bounded(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "MAX_EXPORT_CITIES", 0)
    response = client.get("/registry/export.csv")
    assert response.status_code == 422
    assert "narrow it" in response.json()["detail"]


def test_export_json_is_one_document() -> None:
    # The streamed pieces join into JSON even with no city at all.
    pieces = export.stream_json(
        open_session=None,  # type: ignore[arg-type]
        entries=[],
        now=datetime(2026, 1, 1, tzinfo=UTC),
        base_url="https://x",
        node="KE",
        filters={},
    )
    assert json.loads(b"".join(pieces))["data"] == []


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_spreadsheet_formulas_are_neutralised(text: str) -> None:
    assert export.spreadsheet_safe(text) == "'" + text
    assert export.spreadsheet_safe("Nairobi") == "Nairobi"
