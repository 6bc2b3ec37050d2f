"""`GET /registry/cities/{locode}`: a certified city's public fields and every certificate it
was issued, current and past; 404 for a city the registry does not list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.timeutil import utcnow

from ..conftest import Backend
from .factories import VALIDITY, Registrar


def record(client: TestClient, locode: str) -> dict[str, Any]:
    response = client.get(f"/registry/cities/{locode}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_city_and_its_current_and_past_certificates(
    client: TestClient, registrar: Registrar, backend: Backend
) -> None:
    registrar.city(
        "KE-NBO", "Nairobi", priorities=["housing"], region="Nairobi County", population=4_397_073
    )
    now = utcnow()
    expired = registrar.issue("KE-NBO", decided_at=now - VALIDITY - timedelta(days=40))
    silver = registrar.issue("KE-NBO", decided_at=now - timedelta(days=30))
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
    # Expired while suspended: the dates decide, a suspension can no longer be lifted into
    # a valid certificate.
    lapsed = registrar.issue(
        "KE-NBO",
        "impact",
        decided_at=now - VALIDITY - timedelta(days=20),
        then=ProposalKind.SUSPENSION,
    )

    body = record(client, "KE-NBO")

    assert {key: body[key] for key in body if key != "certificates"} == {
        "locode": "KE-NBO",
        "name": "Nairobi",
        "country": "KE",
        "region": "Nairobi County",
        "population": 4_397_073,
        "priorities": ["housing"],
        "level": "silver",
        "stage": "qualification",
        # No other certification or ESG indicator declared (tests/node/othercerts).
        "otherCertifications": {"verified": [], "declared": []},
        "esgIndicators": {"declared": []},
    }
    listed = body["certificates"]
    # The latest awarded first.
    assert [c["id"] for c in listed] == [
        revoked.id,
        suspended.id,
        silver.id,
        lapsed.id,
        expired.id,
    ]
    by_id = {c["id"]: c for c in listed}
    assert {cid: (c["status"], c["current"]) for cid, c in by_id.items()} == {
        expired.id: ("expired", False),
        silver.id: ("active", True),
        suspended.id: ("suspended", False),
        revoked.id: ("revoked", False),
        lapsed.id: ("expired", False),
    }
    entry = by_id[silver.id]
    assert set(entry) == {
        "id",
        "stage",
        "level",
        "status",
        "current",
        "validFrom",
        "validUntil",
        "issuedAt",
        "url",
        "renews",
        "renewedBy",
    }
    assert (entry["stage"], entry["level"]) == ("qualification", "silver")
    assert moment(entry["validFrom"]) == silver.valid_from
    assert moment(entry["validUntil"]) == silver.valid_until
    assert moment(entry["issuedAt"]) == silver.issued_at
    assert entry["url"] == f"{backend.settings.base_url}/registry/credentials/{silver.id}"
    # The URL answers with that certificate.
    assert client.get(entry["url"].removeprefix(backend.settings.base_url)).json()["jwt"] == (
        silver.token
    )


def test_a_city_whose_certificates_are_all_past_is_still_listed_with_its_history(
    client: TestClient, registrar: Registrar
) -> None:
    registrar.city("KE-KIS", "Kisumu")
    revoked = registrar.issue("KE-KIS", then=ProposalKind.REVOCATION)
    body = record(client, "KE-KIS")
    assert (body["level"], body["stage"]) == (None, None)
    assert [(c["id"], c["status"]) for c in body["certificates"]] == [(revoked.id, "revoked")]


def test_locodes_are_read_in_any_case(client: TestClient, registrar: Registrar) -> None:
    registrar.city("KE-NBO", "Nairobi")
    registrar.issue("KE-NBO")
    assert record(client, "ke-nbo")["locode"] == "KE-NBO"


@pytest.mark.parametrize("locode", ["KE-THK", "KE-XXX"])
def test_a_city_never_certified_is_not_in_the_registry(
    client: TestClient, registrar: Registrar, locode: str
) -> None:
    # Registered but never certified answers exactly as unknown: the registry does not tell
    # who applied.
    registrar.city("KE-THK", "Thika")
    response = client.get(f"/registry/cities/{locode}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"no certified city {locode}", "code": "not_found"}


def test_an_overlong_locode_is_refused(client: TestClient) -> None:
    assert client.get("/registry/cities/KE-NBOXX").status_code == 422
