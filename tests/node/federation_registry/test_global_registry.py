"""The global registry (§30d, §34b): every certified city of the federation, as the nodes
reported their certificates, with the answers of a national node's registry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.credentials import SigningKey
from sdgcities.federation.event_data import read_data
from sdgcities.node.events.service import append_event
from sdgcities.node.federation_registry.models import FederationAnomaly, FederationCertificate
from sdgcities.node.timeutil import utcnow

from ..conftest import Backend
from ..ingest.conftest import Member
from .conftest import MakeLog
from .factories import MemberLog, relay_own_log


def cities(client: TestClient, **query: Any) -> list[tuple[str, str]]:
    response = client.get("/registry/cities", params=query)
    assert response.status_code == 200, response.text
    return [(city["locode"], city["level"]) for city in response.json()["data"]]


def anomalies(session: Session) -> list[tuple[str, str]]:
    return [(a.node_id, a.kind.value) for a in session.exec(select(FederationAnomaly)).all()]


def test_a_federation_city_is_listed_with_its_public_fields(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    credential = kenya.issue("KE-NBO", "Nairobi")
    kenya.send()

    listed = client.get("/registry/cities")
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "public, max-age=60"
    assert listed.json() == {
        "data": [
            {
                "locode": "KE-NBO",
                "name": "Nairobi",
                "country": "KE",
                "region": "Nairobi County",
                "population": 4_397_073,
                "priorities": ["Housing"],
                "level": "silver",
                "stage": "qualification",
            }
        ],
        "count": 1,
    }
    record = client.get("/registry/cities/ke-nbo").json()
    (certificate,) = record["certificates"]
    assert (certificate["id"], certificate["status"], certificate["current"]) == (
        credential,
        "active",
        True,
    )
    assert certificate["url"] == f"https://global.example.org/registry/credentials/{credential}"
    served = client.get(f"/registry/credentials/{credential}")
    assert served.status_code == 200
    assert served.json()["jwt"] == kenya.events[-1].data["jwt"]
    assert served.json()["credential"]["credentialSubject"]["city"]["name"] == "Nairobi"
    token = client.get(certificate["url"], headers={"Accept": "application/vc+jwt"})
    assert token.text == kenya.events[-1].data["jwt"]
    assert anomalies(session) == []


def test_search_by_country_level_stage_name_and_priority(
    client: TestClient, make_log: MakeLog
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    kenya.issue("KE-NBO", "Nairobi", city={"priorities": ["Housing"]})
    # The city's fields come from its latest certificate.
    nairobi = {"priorities": ["Housing", "Clean water"]}
    kenya.issue("KE-NBO", "Nairobi", stage="evidence-based-processes", city=nairobi)
    kenya.issue("KE-MBA", "Mombasa", city=None)
    ghana.issue("GH-ACC", "Accra", city={"region": "Greater Accra", "priorities": ["Transport"]})
    kenya.send()
    ghana.send()

    assert cities(client) == [("GH-ACC", "silver"), ("KE-MBA", "silver"), ("KE-NBO", "gold")]
    assert cities(client, country="gh") == [("GH-ACC", "silver")]
    assert cities(client, level="gold") == [("KE-NBO", "gold")]
    assert cities(client, stage="qualification") == [("GH-ACC", "silver"), ("KE-MBA", "silver")]
    assert cities(client, q="mom") == [("KE-MBA", "silver")]
    assert cities(client, priority="clean WATER") == [("KE-NBO", "gold")]
    assert cities(client, priority="transport", country="KE") == []
    # A certificate whose event carries no city facts: the token's name and country only.
    mombasa = client.get("/registry/cities/KE-MBA").json()
    assert (mombasa["name"], mombasa["region"], mombasa["population"]) == ("Mombasa", "", None)
    assert mombasa["priorities"] == []


def test_a_city_is_described_by_its_latest_issued_certificate(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    # Signing times after the key's validity began (its approval, to the second) and no later
    # than the receipt plus the leeway the projection allows (`SIGNING_TIME_LEEWAY`).
    start = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    latest = start + timedelta(minutes=4)

    def priorities() -> list[str]:
        return list(client.get("/registry/cities/KE-NBO").json()["priorities"])

    # In one report, the later issued wins even when it comes first in the log.
    kenya.issue(city={"priorities": ["Housing"]}, issued_at=start + timedelta(minutes=3))
    kenya.issue(city={"priorities": ["Water"]}, issued_at=start + timedelta(minutes=2))
    kenya.issue("KE-MBA", "Mombasa", city={"priorities": ["Ports"]}, issued_at=latest)
    kenya.send()
    assert priorities() == ["Housing"]
    # An older certificate reported later does not change what a newer one said.
    kenya.issue(city={"priorities": ["Transport"]}, issued_at=start + timedelta(minutes=1))
    kenya.send()
    assert priorities() == ["Housing"]
    # A newer one does, and of two issued in the same second the later in the log.
    kenya.issue(city={"priorities": ["Jobs"]}, issued_at=latest)
    kenya.issue(city={"priorities": ["Parks"]}, issued_at=latest)
    kenya.send()
    assert priorities() == ["Parks"]
    mombasa = client.get("/registry/cities/KE-MBA").json()
    assert (mombasa["name"], mombasa["priorities"]) == ("Mombasa", ["Ports"])
    assert len(session.exec(select(FederationCertificate)).all()) == 6
    assert anomalies(session) == []


def test_a_suspension_drops_the_city_and_a_revocation_is_final(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    credential = kenya.issue()
    kenya.send()
    assert cities(client) == [("KE-NBO", "silver")]

    kenya.change(credential, "suspension")
    kenya.send()
    assert cities(client) == []
    (shown,) = client.get("/registry/cities/KE-NBO").json()["certificates"]
    assert (shown["status"], shown["current"]) == ("suspended", False)

    kenya.change(credential, "reinstatement")
    kenya.send()
    assert cities(client) == [("KE-NBO", "silver")]

    kenya.change(credential, "revocation")
    kenya.send()
    assert cities(client) == []
    # A reinstatement after the revocation changes nothing, and is an anomaly.
    kenya.change(credential, "reinstatement")
    kenya.send()
    (shown,) = client.get("/registry/cities/KE-NBO").json()["certificates"]
    assert shown["status"] == "revoked"
    assert anomalies(session) == [("KE", "unknown_certificate")]


def test_a_node_changes_only_its_own_certificates(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    credential = kenya.issue()
    kenya.send()
    ghana.change(credential, "revocation", locode="KE-NBO")
    ghana.send()
    assert cities(client) == [("KE-NBO", "silver")]
    assert anomalies(session) == [("GH", "unknown_certificate")]


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        ({"key": SigningKey.generate()}, "not signed by a key of node KE"),
        # KE's real key, signing as GH (issuer and kid): refused on the kid's DID.
        ({"did": "did:web:gh.example.org"}, "kid names another DID than the key's node"),
    ],
)
def test_a_certificate_that_does_not_verify_is_not_listed(
    client: TestClient, make_log: MakeLog, session: Session, forge: dict[str, Any], reason: str
) -> None:
    kenya = make_log("KE")
    kenya.issue(**forge)
    kenya.send()
    assert cities(client) == []
    (anomaly,) = session.exec(select(FederationAnomaly)).all()
    assert anomaly.kind == "unverifiable_certificate"
    assert reason in anomaly.detail


def test_another_nodes_certificate_cannot_be_claimed(make_log: MakeLog, session: Session) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    kenya.issue()
    kenya.send()
    # Ghana reports Kenya's signed certificate as its own issue.
    issued = kenya.events[-1]
    ghana.decide("KE-NBO")
    ghana.append(issued.type, dict(issued.subject), dict(issued.data))
    ghana.send()
    (certificate,) = session.exec(select(FederationCertificate)).all()
    assert certificate.node_id == "KE"
    assert anomalies(session) == [("GH", "unverifiable_certificate")]


def test_the_global_nodes_own_certificates_arrive_through_its_local_ingest(
    client: TestClient, make_log: MakeLog, backend: Backend, session: Session
) -> None:
    make_log("KE")  # approving a member publishes the trust list, the global node on it
    state = backend.app.state.node
    own = MemberLog(Member("global", state.signing_key), client)
    own.issue("BO-LPB", "La Paz", city={"priorities": ["Water"]})
    # As the node's workflow appends them: in its own log, which its relay ingests locally.
    for event in own.events:
        body = event.body()
        append_event(
            session=session,
            node_id="global",
            type=event.type,
            subject=body["subject"],
            data=read_data(event),
            occurred_at=event.occurred_at,
        )
    session.commit()
    assert cities(client) == []
    relay_own_log(session=session, state=state)
    assert cities(client, priority="water") == [("BO-LPB", "silver")]
    assert anomalies(session) == []


def test_an_unknown_city_or_credential_is_404(client: TestClient) -> None:
    assert client.get("/registry/cities/KE-NBO").status_code == 404
    missing = client.get("/registry/credentials/urn:uuid:0")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no certificate urn:uuid:0"
