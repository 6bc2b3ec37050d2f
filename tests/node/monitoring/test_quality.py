"""The data-quality report per node: named checks over what arrived since the last report,
scored, stored append-only, listed latest first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.node.monitoring.quality import CHECKS, record_due_reports
from sdgcities.node.timeutil import utcnow

from ..conftest import Account, Backend
from ..federation_registry.conftest import MakeLog
from ..federation_registry.factories import GOOD_QUORUM


def record(client: TestClient, who: Account) -> dict[str, dict[str, Any]]:
    response = client.post("/federation/monitoring/quality", headers=who.headers)
    assert response.status_code == 200, response.text
    return {report["node_id"]: report for report in response.json()["data"]}


def checks(report: dict[str, Any]) -> dict[str, tuple[bool, float]]:
    return {check["name"]: (check["passed"], check["score"]) for check in report["checks"]}


def test_a_clean_node_scores_100(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    kenya.change(kenya.issue(), "suspension")
    kenya.send()
    reports = record(client, secretariat)
    assert set(reports) == {"KE", "global"}
    ke = reports["KE"]
    assert ke["score"] == 100
    assert ke["period_from"] is None
    assert [check["name"] for check in ke["checks"]] == list(CHECKS)
    assert all(passed for passed, _score in checks(ke).values())
    assert "1 of" not in str(ke["checks"])


def test_anomalies_lower_the_score_of_their_check_and_the_next_period_starts_clean(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    kenya.issue()
    kenya.issue("KE-MBA", "Mombasa", item=77)  # no decision
    kenya.decide("KE-KIS", quorum={**GOOD_QUORUM, "nonGovernmentAttending": 0})
    kenya.send()
    first = record(client, secretariat)["KE"]
    assert checks(first) == {
        "timeliness": (True, 1.0),
        "continuity": (True, 1.0),
        "chain_integrity": (True, 1.0),
        "certificates_decided": (False, 0.5),
        "certificates_verifiable": (True, 1.0),
        "decisions_valid": (False, 0.5),
        "status_changes_decided": (True, 1.0),
        "renewals_linked": (True, 1.0),
        "assistance_valid": (True, 1.0),
    }
    assert first["score"] == round(100 * 8 / 9, 1)
    decided = next(c for c in first["checks"] if c["name"] == "certificates_decided")
    assert decided["detail"] == "1 of 2 credential.issued events fail"

    kenya.issue("KE-NKU", "Nakuru")
    kenya.send()
    second = record(client, secretariat)["KE"]
    assert second["period_from"] == first["period_until"]
    assert second["score"] == 100

    listed = client.get("/federation/monitoring/KE/quality", headers=secretariat.headers)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["data"]] == [second["id"], first["id"]]
    assert listed.json()["count"] == 2
    summary = client.get("/federation/monitoring/KE", headers=secretariat.headers).json()
    assert (summary["quality_score"], summary["quality_at"]) == (100, second["period_until"])


def test_a_report_is_due_after_the_interval(
    make_log: MakeLog, session: Session, backend: Backend
) -> None:
    make_log("KE")
    now = utcnow()
    settings = backend.settings
    assert len(record_due_reports(session=session, settings=settings, now=now, every=60)) == 2
    assert record_due_reports(session=session, settings=settings, now=now, every=60) == []
    later = now + timedelta(seconds=61)
    assert len(record_due_reports(session=session, settings=settings, now=later, every=60)) == 2


def test_a_refused_renewal_link_or_assistance_event_fails_its_check(
    client: TestClient, make_log: MakeLog, secretariat: Account
) -> None:
    kenya = make_log("KE")
    kenya.issue("KE-NBO", "Nairobi", renews="urn:uuid:never-reported")
    kenya.ask(1, "KE-NBO")
    kenya.ask(2, "GH-ACC")  # not Kenya's city
    kenya.send()
    ke = checks(record(client, secretariat)["KE"])
    assert (ke["renewals_linked"], ke["assistance_valid"]) == ((False, 0.0), (False, 0.5))
