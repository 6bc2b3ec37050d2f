"""The global registry shows which certificate renews which (report §18, §42c; issue 16), as
a national registry does: the link comes in the `credential.issued` event and is checked on
ingest against what the same node reported for the same city."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.node.federation_registry.models import FederationAnomaly, FederationCertificate

from .conftest import MakeLog


def links(client: TestClient, locode: str) -> dict[str, tuple[Any, Any]]:
    response = client.get(f"/registry/cities/{locode}")
    assert response.status_code == 200, response.text
    return {c["id"]: (c["renews"], c["renewedBy"]) for c in response.json()["certificates"]}


def refused_links(session: Session) -> list[str]:
    return [
        anomaly.detail
        for anomaly in session.exec(
            select(FederationAnomaly).where(FederationAnomaly.kind == "invalid_renewal")
        ).all()
    ]


def test_the_global_registry_shows_the_chain(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    first = kenya.issue("KE-NBO", "Nairobi")
    kenya.send()
    second = kenya.issue("KE-NBO", "Nairobi", renews=first)
    third = kenya.issue("KE-NBO", "Nairobi", renews=second)  # in the same report as its renewed
    kenya.send()

    assert links(client, "KE-NBO") == {
        first: (None, second),
        second: (first, third),
        third: (second, None),
    }
    assert refused_links(session) == []
    page = client.get("/en/cities/KE-NBO")
    assert page.status_code == 200
    assert page.text.count("Renews the certificate of") == 2
    assert page.text.count("Renewed by the certificate of") == 2


def test_a_link_that_fails_a_check_is_dropped_and_the_certificate_still_listed(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    accra = ghana.issue("GH-ACC", "Accra")
    ghana.send()
    nairobi = kenya.issue("KE-NBO", "Nairobi")
    mombasa = kenya.issue("KE-MBA", "Mombasa")
    kenya.send()
    claims = {
        "unknown": kenya.issue("KE-NBO", "Nairobi", renews="urn:uuid:never-reported"),
        "another node's": kenya.issue("KE-NBO", "Nairobi", renews=accra),
        "another city's": kenya.issue("KE-NBO", "Nairobi", renews=mombasa),
        "not an id": kenya.issue("KE-NBO", "Nairobi", renews=["a", "list"]),
        "too long": kenya.issue("KE-NBO", "Nairobi", renews="x" * 65),
        "renewing": kenya.issue("KE-NBO", "Nairobi", renews=nairobi),
        "renewed twice": kenya.issue("KE-NBO", "Nairobi", renews=nairobi),
    }
    kenya.send()

    found = refused_links(session)
    assert len(found) == 6
    assert "no certificate urn:uuid:never-reported was reported" in found[0]
    assert f"{accra} is node GH's: a node renews its own certificates only" in found[1]
    assert f"{mombasa} certifies KE-MBA, not KE-NBO" in found[2]
    assert "not a certificate id" in found[3]
    assert "not a certificate id" in found[4]
    assert f"{nairobi} is renewed already, by {claims['renewing']}" in found[5]
    held = {row.id: row.renews for row in session.exec(select(FederationCertificate)).all()}
    assert {name: held[credential] for name, credential in claims.items()} == {
        "unknown": None,
        "another node's": None,
        "another city's": None,
        "not an id": None,
        "too long": None,
        "renewing": nairobi,
        "renewed twice": None,
    }
    assert links(client, "GH-ACC") == {accra: (None, None)}


def test_a_link_to_a_certificate_renewed_in_an_earlier_report_is_refused(
    make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    first = kenya.issue("KE-NBO", "Nairobi")
    kenya.issue("KE-NBO", "Nairobi", renews=first)
    kenya.send()
    kenya.issue("KE-NBO", "Nairobi", renews=first)
    kenya.send()
    (detail,) = refused_links(session)
    assert f"{first} is renewed already" in detail


def test_a_certificate_does_not_renew_itself(make_log: MakeLog, session: Session) -> None:
    kenya = make_log("KE")
    itself = "urn:uuid:0b5a3a4e-5f0e-4a51-9d8e-000000000001"
    kenya.issue("KE-NBO", "Nairobi", credential_id=itself, renews=itself)
    kenya.send()
    (detail,) = refused_links(session)
    assert "a certificate cannot renew itself" in detail
    assert session.get(FederationCertificate, itself) is not None
