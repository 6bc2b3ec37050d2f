"""The global registry applies the verifier's rules to every reported certificate (issue 12):
a node certifies only its own country's cities, cannot change another node's city, and cannot
put a certificate on top with a far-future `iat`."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.federation import EventType, ReportBatch
from sdgcities.federation.event_data import read_data
from sdgcities.node.events.service import append_event
from sdgcities.node.federation_registry.models import FederationCertificate
from sdgcities.node.federation_registry.projection import SIGNING_TIME_LEEWAY
from sdgcities.node.ingest.models import IngestAlarm
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from ..conftest import Account, Backend
from ..ingest.conftest import Member
from .conftest import MakeLog
from .factories import MemberLog, relay_own_log
from .test_global_registry import anomalies, cities

ACCRA = {"region": "Greater Accra", "population": 2_605_000, "priorities": ["Sanitation"]}
FORGED = {"region": "Forged", "population": 1, "priorities": ["Forged"]}


def city(client: TestClient, locode: str) -> dict[str, Any]:
    response = client.get(f"/registry/cities/{locode}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def facts(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[name] for name in ("name", "region", "population", "priorities"))


def listed(session: Session) -> set[tuple[str, str]]:
    rows = session.exec(select(FederationCertificate)).all()
    return {(row.node_id, row.city_locode) for row in rows}


def refused_alarm(session: Session, backend: Backend, node_id: str) -> tuple[IngestAlarm, Any]:
    """The node's one refused_certificate alarm, and the report its evidence holds, verified."""
    (alarm,) = session.exec(
        select(IngestAlarm).where(IngestAlarm.kind == "refused_certificate")
    ).all()
    assert alarm.node_id == node_id
    (evidence,) = alarm.evidence
    trust_list = load_current(session=session, settings=backend.settings)
    return alarm, ReportBatch.verify(evidence, trust_list=trust_list)


def own_log(client: TestClient, backend: Backend) -> MemberLog:
    return MemberLog(Member("global", backend.app.state.node.signing_key), client)


def relay(own: MemberLog, *, session: Session, backend: Backend) -> None:
    """The global node's own new events, into its log and through its local ingest."""
    for event in own.events[own.sent :]:
        body = event.body()
        append_event(
            session=session,
            node_id="global",
            type=event.type,
            subject=body["subject"],
            data=read_data(event),
            occurred_at=event.occurred_at,
        )
    own.sent = len(own.events)
    session.commit()
    relay_own_log(session=session, state=backend.app.state.node)


def test_a_node_key_signing_another_countrys_city_is_refused_with_an_alarm(
    client: TestClient, make_log: MakeLog, session: Session, backend: Backend
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    ghana.issue("GH-ACC", "Accra", city=ACCRA)
    ghana.send()
    before = city(client, "GH-ACC")

    # KE's real key signs a certificate for Accra, as an attacker holding it would, with a
    # signing time a minute later than Ghana's (the newest certificate used to win).
    forged = kenya.issue(
        "GH-ACC", "Accra (forged)", city=FORGED, issued_at=utcnow() + timedelta(minutes=1)
    )
    kenya.send()

    assert facts(city(client, "GH-ACC")) == facts(before)
    assert [c["id"] for c in city(client, "GH-ACC")["certificates"]] == [
        c["id"] for c in before["certificates"]
    ]
    assert listed(session) == {("GH", "GH-ACC")}
    assert anomalies(session) == [("KE", "unverifiable_certificate")]
    alarm, report = refused_alarm(session, backend, "KE")
    assert "outside_jurisdiction" in alarm.detail
    assert forged in alarm.detail
    # The evidence is KE's own signed report, carrying the certificate KE's key signed.
    (event,) = [e for e in report.events if e.type is EventType.CREDENTIAL_ISSUED]
    assert report.node_id == "KE"
    assert event.subject["credential"] == forged
    assert event.sequence == alarm.sequence


def test_a_far_future_iat_is_refused_and_cannot_stay_on_top(
    client: TestClient, make_log: MakeLog, session: Session, backend: Backend
) -> None:
    kenya = make_log("KE")
    kenya.issue(city={"priorities": ["Housing"]})
    kenya.send()

    kenya.issue(city={"priorities": ["Forever"]}, issued_at=utcnow() + timedelta(days=3650))
    kenya.send()
    assert city(client, "KE-NBO")["priorities"] == ["Housing"]
    alarm, _ = refused_alarm(session, backend, "KE")
    assert "not_yet_valid" in alarm.detail

    # A certificate issued now is newer than every one listed, and describes the city.
    kenya.issue(city={"priorities": ["Water"]})
    kenya.send()
    assert city(client, "KE-NBO")["priorities"] == ["Water"]
    assert len(listed(session)) == 1
    assert len(session.exec(select(FederationCertificate)).all()) == 2


def test_an_iat_within_the_leeway_past_the_receipt_is_taken(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya = make_log("KE")
    ahead = SIGNING_TIME_LEEWAY - timedelta(minutes=1)
    kenya.issue(city={"priorities": ["Clock skew"]}, issued_at=utcnow() + ahead)
    kenya.send()
    assert city(client, "KE-NBO")["priorities"] == ["Clock skew"]
    assert anomalies(session) == []


def test_a_certificate_received_after_its_node_was_suspended_is_refused(
    client: TestClient, make_log: MakeLog, session: Session, backend: Backend, secretariat: Account
) -> None:
    kenya = make_log("KE")
    signed = utcnow().replace(microsecond=0)
    kenya.issue(issued_at=signed)
    time.sleep(1.1)  # the suspension a whole second after the signing time the token states
    suspended = client.post(
        "/federation/members/KE/suspend", json={"reason": "audit"}, headers=secretariat.headers
    )
    assert suspended.status_code == 200, suspended.text
    # A suspended node still reports; what it reports now has no proof it existed before.
    kenya.send()
    assert cities(client) == []
    alarm, _ = refused_alarm(session, backend, "KE")
    # Signed before the suspension but received after: the cut-off's proof of receipt lacks it.
    assert "not_received_before_cutoff" in alarm.detail


def test_the_global_nodes_certificate_from_before_a_country_joined_stays_listed(
    client: TestClient, make_log: MakeLog, session: Session, backend: Backend
) -> None:
    make_log("KE")  # approving a member publishes the trust list, the global node on it
    own = own_log(client, backend)
    before_join = own.issue("GH-ACC", "Accra", city={"priorities": ["Before"]})
    relay(own, session=session, backend=backend)
    assert city(client, "GH-ACC")["priorities"] == ["Before"]

    time.sleep(1.1)  # Ghana joins a whole second after the global node's signing time
    ghana = make_log("GH")
    trust_list = load_current(session=session, settings=backend.settings)
    global_node = trust_list.node("global")
    assert global_node is not None
    now = utcnow()
    assert not global_node.certifies("GH", at=now)
    assert global_node.certifies("GH", at=now - timedelta(seconds=1.1))

    # Ghana now holds Accra: its certificate describes the city, whatever the dates.
    ghana.issue("GH-ACC", "Accra", city=ACCRA)
    ghana.send()
    assert facts(city(client, "GH-ACC")) == (
        "Accra",
        "Greater Accra",
        2_605_000,
        ["Sanitation"],
    )
    # The global node may no longer certify a Ghanaian city.
    own.issue("GH-KMS", "Kumasi")
    relay(own, session=session, backend=backend)
    assert listed(session) == {("global", "GH-ACC"), ("GH", "GH-ACC")}
    assert before_join in {c["id"] for c in city(client, "GH-ACC")["certificates"]}
    alarm, _ = refused_alarm(session, backend, "global")
    assert "outside_jurisdiction" in alarm.detail
    assert client.get("/registry/cities/GH-KMS").status_code == 404


def test_a_late_report_of_a_valid_certificate_does_not_change_another_nodes_city(
    client: TestClient, make_log: MakeLog, session: Session, backend: Backend
) -> None:
    make_log("KE")
    own = own_log(client, backend)
    # Signed before Ghana joined, but reported only after Ghana described the city.
    late = own.issue("GH-ACC", "Accra (old name)", city={"priorities": ["Old"]})
    time.sleep(1.1)
    ghana = make_log("GH")
    ghana.issue("GH-ACC", "Accra", city=ACCRA)
    ghana.send()
    relay(own, session=session, backend=backend)

    assert facts(city(client, "GH-ACC")) == ("Accra", "Greater Accra", 2_605_000, ["Sanitation"])
    assert late in {c["id"] for c in city(client, "GH-ACC")["certificates"]}
    assert anomalies(session) == []


def test_a_node_does_not_answer_for_another_nodes_refused_token_it_passes_on(
    client: TestClient, make_log: MakeLog, session: Session
) -> None:
    kenya, ghana = make_log("KE"), make_log("GH")
    # Ghana's key signs a Kenyan city; Kenya's log carries that token as its own issue.
    kenya.issue("KE-NBO", "Nairobi", key=ghana.member.key, did=ghana.member.did)
    kenya.send()
    assert cities(client) == []
    assert anomalies(session) == [("KE", "unverifiable_certificate")]
    assert session.exec(select(IngestAlarm)).all() == []
