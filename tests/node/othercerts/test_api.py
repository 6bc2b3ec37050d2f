"""`/cities/{locode}/certifications` and `/esg-indicators`: what a city declares, who may
write it, and when a certification is verified (report §30d, §30e)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from sdgcities.credentials import SigningKey
from sdgcities.node.othercerts import service
from sdgcities.node.othercerts.models import OtherCertification
from sdgcities.node.timeutil import utcnow

from ...credentials.external_issuer import credential, sign_external
from ..conftest import Backend
from ..evidence.samples import PDF, WINDOWS_EXE
from ..review.factories import ReviewWorld, ok
from .factories import INDICATOR, NAIROBI, add, body, issued_now


def test_a_city_declares_a_certification_without_a_credential(
    client: TestClient, world: ReviewWorld
) -> None:
    created = add(client, world.nairobi)
    assert created["verification"] == "declared"
    assert created["credential"] is None
    listed = ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))
    assert listed["count"] == 1
    assert listed["data"][0]["scheme"] == "ISO 37120"


def test_a_credential_from_a_did_key_issuer_is_verified(
    client: TestClient, world: ReviewWorld
) -> None:
    created = add(client, world.nairobi, credential=issued_now(SigningKey.generate()))
    assert created["verification"] == "verified"
    assert created["credential_issuer"].startswith("did:key:z")
    assert created["credential_note"] is None


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-token", "malformed"),
        ("a.b.c", "malformed"),
    ],
)
def test_a_malformed_credential_is_refused(
    client: TestClient, world: ReviewWorld, token: str, reason: str
) -> None:
    response = client.post(
        f"{NAIROBI}/certifications", headers=world.nairobi.headers, json=body(credential=token)
    )
    assert response.status_code == 422, response.text
    assert f"refused ({reason})" in response.json()["detail"]
    assert ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["count"] == 0


def test_a_forged_credential_is_refused(client: TestClient, world: ReviewWorld) -> None:
    key, forger = SigningKey.generate(), SigningKey.generate()
    genuine = issued_now(key)
    forged = sign_external(
        credential(issuer="did:key:x"), forger, kid=None
    )  # a well-formed token by another key
    head, payload, _ = genuine.split(".")
    tampered = f"{head}.{payload}.{forged.split('.')[2]}"
    response = client.post(
        f"{NAIROBI}/certifications", headers=world.nairobi.headers, json=body(credential=tampered)
    )
    assert response.status_code == 422
    assert "bad_signature" in response.json()["detail"]


def test_a_credential_about_another_city_is_refused(client: TestClient, world: ReviewWorld) -> None:
    token = issued_now(SigningKey.generate(), subject="urn:sdgcities:city:KE-MBA")
    response = client.post(
        f"{NAIROBI}/certifications", headers=world.nairobi.headers, json=body(credential=token)
    )
    assert response.status_code == 422
    assert "not about this city" in response.json()["detail"]


def test_a_credential_over_64_kib_is_refused_by_the_schema(
    client: TestClient, world: ReviewWorld
) -> None:
    response = client.post(
        f"{NAIROBI}/certifications",
        headers=world.nairobi.headers,
        json=body(credential="a" * (64 * 1024 + 1)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][-1] == "credential"


def test_an_issuer_the_node_cannot_resolve_offline_is_kept_as_declared(
    client: TestClient, world: ReviewWorld, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = SigningKey.generate()
    did = "did:web:wccd.example.org"
    now = utcnow()
    token = sign_external(
        credential(
            issuer=did, valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=9)
        ),
        key,
        kid=f"{did}#key-1",
    )
    declared = add(client, world.nairobi, credential=token)
    assert declared["verification"] == "declared"
    assert "without the network" in declared["credential_note"]
    assert declared["credential"] == token

    # Once the operator pins the issuer's key, the same credential verifies.
    settings = backend.app.state.node.settings
    monkeypatch.setattr(
        settings, "certification_issuers", [{"did": did, "keys": [key.public_key.to_jwk()]}]
    )
    verified = add(client, world.nairobi, credential=token)
    assert verified["verification"] == "verified"
    assert verified["credential_issuer"] == did


def test_an_expired_credential_is_kept_as_declared_with_the_reason(
    client: TestClient, world: ReviewWorld
) -> None:
    now = utcnow()
    token = issued_now(
        SigningKey.generate(),
        valid_from=now - timedelta(days=400),
        valid_until=now - timedelta(days=2),
    )
    created = add(client, world.nairobi, credential=token)
    assert created["verification"] == "declared"
    assert "expired" in created["credential_note"]


def test_verified_only_while_the_credential_is_valid(
    client: TestClient, world: ReviewWorld
) -> None:
    now = utcnow()
    token = issued_now(SigningKey.generate(), valid_until=now + timedelta(days=2))
    created = add(client, world.nairobi, credential=token)
    row = OtherCertification(
        city_locode="KE-NBO",
        scheme="x",
        issuer="y",
        awarded_on=now.date(),
        created_by=1,
        credential_verified=True,
        credential_valid_until=now + timedelta(days=2) - timedelta(seconds=1),
    )
    assert created["verification"] == "verified"
    assert service.is_verified(row, now)
    assert not service.is_verified(row, now + timedelta(days=3))
    row.credential_verified = False
    assert not service.is_verified(row, now)


def test_changing_a_certification(client: TestClient, world: ReviewWorld) -> None:
    created = add(client, world.nairobi, credential=issued_now(SigningKey.generate()))
    path = f"{NAIROBI}/certifications/{created['id']}"
    changed = ok(client.patch(path, headers=world.nairobi.headers, json={"level": "Gold"}))
    assert changed["level"] == "Gold"
    assert changed["verification"] == "verified"
    removed = ok(client.patch(path, headers=world.nairobi.headers, json={"credential": None}))
    assert removed["verification"] == "declared"
    assert removed["credential"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scheme": None}, "scheme cannot be removed"),
        ({"valid_until": "2020-01-01"}, "before awarded_on"),
        ({"credential": "x.y.z"}, "refused"),
    ],
)
def test_a_change_that_breaks_a_rule_is_refused(
    client: TestClient, world: ReviewWorld, change: dict[str, object], message: str
) -> None:
    created = add(client, world.nairobi)
    path = f"{NAIROBI}/certifications/{created['id']}"
    response = client.patch(path, headers=world.nairobi.headers, json=change)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert (
        ok(client.get(f"{NAIROBI}/certifications", headers=world.nairobi.headers))["data"][0][
            "valid_until"
        ]
        == "2028-03-01"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"valid_until": "2024-01-01"},
        {"awarded_on": "1999-12-31"},
        {"scheme": ""},
        {"issuer": "x" * 201},
        {"verified": True},
    ],
)
def test_a_declaration_out_of_bounds_is_refused(
    client: TestClient, world: ReviewWorld, changes: dict[str, object]
) -> None:
    response = client.post(
        f"{NAIROBI}/certifications", headers=world.nairobi.headers, json=body(**changes)
    )
    assert response.status_code == 422, response.text


def test_a_city_records_at_most_the_cap(
    client: TestClient, world: ReviewWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_CERTIFICATIONS_PER_CITY", 1)
    add(client, world.nairobi)
    response = client.post(f"{NAIROBI}/certifications", headers=world.nairobi.headers, json=body())
    assert response.status_code == 409
    assert "at most 1" in response.json()["detail"]


# Who may --------------------------------------------------------------------------------------


def test_another_city_sees_nothing_and_changes_nothing(
    client: TestClient, world: ReviewWorld
) -> None:
    created = add(client, world.nairobi)
    path = f"{NAIROBI}/certifications/{created['id']}"
    mombasa = world.mombasa.headers
    assert client.get(f"{NAIROBI}/certifications", headers=mombasa).status_code == 404
    assert client.post(f"{NAIROBI}/certifications", headers=mombasa, json=body()).status_code == 404
    assert client.patch(path, headers=mombasa, json={"level": "x"}).status_code == 404
    assert client.delete(path, headers=mombasa).status_code == 404
    # Nor may Mombasa reach Nairobi's row through its own city's path.
    own = f"/cities/KE-MBA/certifications/{created['id']}"
    assert client.patch(own, headers=mombasa, json={"level": "x"}).status_code == 404


def test_staff_read_and_only_administrators_remove(client: TestClient, world: ReviewWorld) -> None:
    created = add(client, world.nairobi)
    path = f"{NAIROBI}/certifications/{created['id']}"
    for reader in (world.secretariat, world.admin):
        assert ok(client.get(f"{NAIROBI}/certifications", headers=reader.headers))["count"] == 1
    for other in (world.secretariat, world.admin, world.lead, world.committee):
        assert (
            client.post(f"{NAIROBI}/certifications", headers=other.headers, json=body())
        ).status_code == 403
        assert client.patch(path, headers=other.headers, json={"level": "x"}).status_code == 403
    for other in (world.lead, world.committee):
        assert client.get(f"{NAIROBI}/certifications", headers=other.headers).status_code == 403
    assert client.delete(path, headers=world.secretariat.headers).status_code == 403
    assert client.delete(path, headers=world.admin.headers).status_code == 204
    assert client.delete(path, headers=world.admin.headers).status_code == 404


@pytest.mark.usefixtures("world")
def test_anonymous_callers_are_refused(client: TestClient) -> None:
    assert client.get(f"{NAIROBI}/certifications").status_code == 401
    assert client.post(f"{NAIROBI}/certifications", json=body()).status_code == 401
    assert client.post(f"{NAIROBI}/esg-indicators", json=INDICATOR).status_code == 401


def test_an_unknown_city_or_certification_is_404(client: TestClient, world: ReviewWorld) -> None:
    admin = world.admin.headers
    assert client.get("/cities/KE-XXX/certifications", headers=admin).status_code == 404
    assert client.delete(f"{NAIROBI}/certifications/999", headers=admin).status_code == 404
    assert client.delete(f"{NAIROBI}/esg-indicators/999", headers=admin).status_code == 404


# Documents ------------------------------------------------------------------------------------


def upload(
    client: TestClient, world: ReviewWorld, certification_id: int, content: bytes, **headers: str
) -> object:
    return client.put(
        f"{NAIROBI}/certifications/{certification_id}/document",
        params={"filename": "ISO 37120 certificate.pdf"},
        headers={
            **world.nairobi.headers,
            "Content-Type": headers.pop("content_type", "application/octet-stream"),
            **headers,
        },
        content=content,
    )


def test_a_document_is_checked_as_evidence_is(client: TestClient, world: ReviewWorld) -> None:
    created = add(client, world.nairobi)
    attached = ok(upload(client, world, created["id"], PDF))  # type: ignore[arg-type]
    assert attached["document_media_type"] == "application/pdf"
    assert attached["document_filename"] == "ISO 37120 certificate.pdf"
    assert attached["document_size"] == len(PDF)
    assert attached["verification"] == "declared"


def test_document_refusals(
    client: TestClient, world: ReviewWorld, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    certification_id = add(client, world.nairobi)["id"]
    wrong_type = upload(client, world, certification_id, PDF, content_type="application/pdf")
    assert wrong_type.status_code == 415  # type: ignore[attr-defined]
    assert upload(client, world, certification_id, WINDOWS_EXE).status_code == 415  # type: ignore[attr-defined]
    assert upload(client, world, certification_id, b"").status_code == 422  # type: ignore[attr-defined]
    assert upload(client, world, 999, PDF).status_code == 404  # type: ignore[attr-defined]
    settings = backend.app.state.node.settings
    monkeypatch.setattr(settings, "evidence_max_bytes", 16)
    assert upload(client, world, certification_id, PDF).status_code == 413  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, "evidence_max_bytes", 25 * 1024 * 1024)
    monkeypatch.setattr(settings, "city_quota_bytes", 16)
    quota = upload(client, world, certification_id, PDF)
    assert quota.status_code == 409  # type: ignore[attr-defined]
    assert "quota" in quota.json()["detail"]  # type: ignore[attr-defined]
    as_mombasa = client.put(
        f"{NAIROBI}/certifications/{certification_id}/document",
        headers={**world.mombasa.headers, "Content-Type": "application/octet-stream"},
        content=PDF,
    )
    assert as_mombasa.status_code == 404
    as_secretariat = client.put(
        f"{NAIROBI}/certifications/{certification_id}/document",
        headers={**world.secretariat.headers, "Content-Type": "application/octet-stream"},
        content=PDF,
    )
    assert as_secretariat.status_code == 403


# ESG indicators -------------------------------------------------------------------------------


def test_a_city_declares_esg_indicators(client: TestClient, world: ReviewWorld) -> None:
    path = f"{NAIROBI}/esg-indicators"
    created = ok(client.post(path, headers=world.nairobi.headers, json=INDICATOR), 201)
    assert created["value"] == 2.4
    again = client.post(path, headers=world.nairobi.headers, json=INDICATOR)
    assert again.status_code == 409
    assert f"indicator {created['id']}" in again.json()["detail"]
    next_year = ok(
        client.post(path, headers=world.nairobi.headers, json={**INDICATOR, "year": 2025}), 201
    )
    changed = ok(
        client.patch(
            f"{path}/{next_year['id']}", headers=world.nairobi.headers, json={"value": 2.1}
        )
    )
    assert changed["value"] == 2.1
    listed = ok(client.get(path, headers=world.secretariat.headers))
    assert [(i["year"], i["value"]) for i in listed["data"]] == [(2025, 2.1), (2024, 2.4)]
    removing = client.patch(
        f"{path}/{created['id']}", headers=world.nairobi.headers, json={"unit": None}
    )
    assert removing.status_code == 422
    assert (
        client.delete(f"{path}/{created['id']}", headers=world.nairobi.headers).status_code == 204
    )
    assert client.post(path, headers=world.mombasa.headers, json=INDICATOR).status_code == 404
    assert client.post(path, headers=world.admin.headers, json=INDICATOR).status_code == 403


@pytest.mark.parametrize(
    "changes",
    [
        {"year": 1800},
        {"code": "has spaces"},
        {"code": "=cmd"},
        {"value": 1e16},
        {"unit": ""},
        {"source": "x" * 501},
        {"verified": True},
    ],
)
def test_an_indicator_out_of_bounds_is_refused(
    client: TestClient, world: ReviewWorld, changes: dict[str, object]
) -> None:
    response = client.post(
        f"{NAIROBI}/esg-indicators", headers=world.nairobi.headers, json={**INDICATOR, **changes}
    )
    assert response.status_code == 422


def test_a_city_records_at_most_the_indicator_cap(
    client: TestClient, world: ReviewWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_INDICATORS_PER_CITY", 1)
    path = f"{NAIROBI}/esg-indicators"
    ok(client.post(path, headers=world.nairobi.headers, json=INDICATOR), 201)
    response = client.post(path, headers=world.nairobi.headers, json={**INDICATOR, "year": 2020})
    assert response.status_code == 409
