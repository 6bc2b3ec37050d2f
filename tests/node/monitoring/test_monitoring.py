"""`/federation/monitoring`: each node's reporting, certificates and anomalies; a clean node has
none, and each anomaly the rules name is found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import SigningKey
from sdgcities.federation import EventType
from sdgcities.node.accounts.models import Role
from sdgcities.node.monitoring.service import list_standings
from sdgcities.node.timeutil import utcnow

from ...federation.factories import make_chain
from ..conftest import Account, Backend, MakeAccount, MakeCity
from ..federation_registry.conftest import MakeLog
from ..federation_registry.factories import GOOD_QUORUM
from ..ingest.conftest import post_report


def node(client: TestClient, who: Account, node_id: str) -> dict[str, Any]:
    response = client.get(f"/federation/monitoring/{node_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def kinds(body: dict[str, Any]) -> dict[str, int]:
    return {anomaly["kind"]: anomaly["count"] for anomaly in body["anomalies"]}


def test_a_clean_node_reports_its_certificates_and_no_anomaly(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    first = kenya.issue("KE-NBO")
    kenya.issue("KE-MBA", "Mombasa")
    kenya.issue("KE-KIS", "Kisumu", stage="evidence-based-processes")
    kenya.change(first, "suspension")
    kenya.send()

    listed = client.get("/federation/monitoring", headers=secretariat.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["silence_after_seconds"] == 3 * 300  # three relay heartbeats
    by_node = {entry["node_id"]: entry for entry in body["data"]}
    assert set(by_node) == {"KE", "global"}
    ke = by_node["KE"]
    assert (ke["name"], ke["status"], ke["head_sequence"]) == ("KE node", "active", 8)
    assert ke["healthy"] is True
    assert ke["anomalies"] == []
    assert ke["silent"] is False
    assert 0 <= ke["lag_seconds"] < 60
    assert ke["events_behind"] is None
    assert ke["certificates"] == [
        {"stage": "evidence-based-processes", "level": "gold", "count": 1},
        {"stage": "qualification", "level": "silver", "count": 1},
    ]
    assert by_node["global"]["healthy"] is True

    detail = node(client, secretariat, "KE")
    assert detail["recent_anomalies"] == []
    assert detail["recent_alarms"] == []


@pytest.mark.parametrize(
    ("act", "kind", "detail"),
    [
        (
            lambda log: log.issue(item=41),
            "certificate_without_decision",
            "no decision on agenda item 41 was reported before it",
        ),
        (
            lambda log: log.issue(
                item=log.decide(
                    "KE-NBO", outcome="rejected", votes={"yes": 0, "no": 3, "abstain": 0}
                )
            ),
            "certificate_without_decision",
            "agenda item 1 was rejected (award decision)",
        ),
        (
            lambda log: log.issue(item=log.decide("KE-MBA")),
            "certificate_without_decision",
            "was decided for KE-MBA",
        ),
        (
            lambda log: log.decide(
                "KE-NBO",
                quorum={**GOOD_QUORUM, "attending": 2},
                votes={"yes": 2, "no": 0, "abstain": 0},
            ),
            "decision_without_quorum",
            "2 of 5 sitting members attend and at least 3 are needed",
        ),
        (
            lambda log: log.decide("KE-NBO", quorum={**GOOD_QUORUM, "nonGovernmentAttending": 0}),
            "decision_without_quorum",
            "0 non-government members attend and at least 1 is needed",
        ),
        (
            lambda log: log.decide("KE-NBO", quorum={"met": True}),
            "decision_without_quorum",
            "the quorum counts are missing",
        ),
        (
            lambda log: log.append(
                EventType.DECISION_RECORDED,
                {"meeting": 1, "item": 2**40, "locode": "KE-NBO"},
                {"kind": "award", "outcome": "approved"},
            ),
            "decision_without_quorum",
            "the decision names no agenda item",
        ),
        (
            lambda log: log.decide("KE-NBO", votes={"yes": 1, "no": 2, "abstain": 0}),
            "decision_tally",
            "approved with 1 yes and 2 no",
        ),
        (
            lambda log: log.change(log.issue(), "revocation", decided=False),
            "status_without_decision",
            "no decision on agenda item 999",
        ),
        (
            lambda log: log.change("urn:uuid:nobody", "suspension"),
            "unknown_certificate",
            "which this node's log did not issue",
        ),
        (
            lambda log: log.issue(city=None, key=SigningKey.generate()),
            "unverifiable_certificate",
            "not signed by a key of node KE",
        ),
    ],
)
def test_each_anomaly_is_found(
    client: TestClient,
    make_log: MakeLog,
    secretariat: Account,
    act: Any,
    kind: str,
    detail: str,
) -> None:
    kenya = make_log("KE")
    act(kenya)
    kenya.send()
    body = node(client, secretariat, "KE")
    assert kinds(body) == {kind: 1}
    assert body["healthy"] is False
    (anomaly,) = body["recent_anomalies"]
    assert anomaly["kind"] == kind
    assert detail in anomaly["detail"]
    assert anomaly["sequence"] == len(kenya.events)


def test_a_fork_shows_as_an_anomaly(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    kenya.issue()
    kenya.send()
    forked = kenya.member.report(make_chain(2))
    assert post_report(client, forked).json()["code"] == "fork"
    body = node(client, secretariat, "KE")
    assert kinds(body) == {"fork": 1}
    (alarm,) = body["recent_alarms"]
    assert (alarm["kind"], alarm["sequence"]) == ("fork", 1)


def test_silence_past_the_reporting_interval(
    make_log: MakeLog, backend: Backend, session: Session
) -> None:
    kenya = make_log("KE")
    make_log("GH")  # approved, never reported
    kenya.issue()
    kenya.send()
    settings = backend.settings
    soon = {
        s.node_id: s.silent
        for s in list_standings(session=session, settings=settings, now=utcnow())
    }
    assert soon == {"GH": False, "KE": False, "global": False}
    later = list_standings(session=session, settings=settings, now=utcnow() + timedelta(hours=4))
    silent = {s.node_id: [a.kind for a in s.anomalies] for s in later}
    # The global node's own log is read in-process: it is never silent.
    assert silent == {"GH": ["silence"], "KE": ["silence"], "global": []}


def test_an_unknown_node_is_404(client: TestClient, secretariat: Account) -> None:
    response = client.get("/federation/monitoring/ZZ", headers=secretariat.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "no node ZZ in the federation"
    quality = client.get("/federation/monitoring/ZZ/quality", headers=secretariat.headers)
    assert quality.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/federation/monitoring", "/federation/monitoring/KE", "/federation/monitoring/KE/quality"],
)
def test_the_secretariat_administrators_and_global_committee_read_monitoring(
    client: TestClient,
    make_log: MakeLog,
    make_account: MakeAccount,
    make_city: MakeCity,
    path: str,
) -> None:
    make_log("KE")
    city = make_city("BO-LPB", "La Paz")
    assert client.get(path).status_code == 401
    for role in (Role.REVIEWER, Role.CITY_APPLICANT):
        account = make_account(role, city_locode=city if role is Role.CITY_APPLICANT else None)
        response = client.get(path, headers=account.headers)
        assert response.status_code == 403, role
    # Report §26a: national committees are "monitored by" the global committee.
    for role in (Role.SECRETARIAT, Role.ADMINISTRATOR, Role.COMMITTEE_MEMBER):
        assert client.get(path, headers=make_account(role).headers).status_code == 200, role


def test_only_the_secretariat_and_administrators_score_nodes_on_demand(
    client: TestClient, make_account: MakeAccount
) -> None:
    assert client.post("/federation/monitoring/quality").status_code == 401
    for role in (Role.REVIEWER, Role.COMMITTEE_MEMBER):
        answer = client.post("/federation/monitoring/quality", headers=make_account(role).headers)
        assert answer.status_code == 403, role
    secretariat = make_account(Role.SECRETARIAT)
    answer = client.post("/federation/monitoring/quality", headers=secretariat.headers)
    assert answer.status_code == 200
