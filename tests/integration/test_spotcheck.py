"""A spot-check across real processes: a global node and Kenya's national node (uvicorn, SQLite).

Kenya certifies Kisumu through its API (framework endorsed by the global node, review, stage
report, committee); its relay reports the award to the global node. The global secretariat
draws a round at rate 1.0, a global reviewer fetches the dossier and an evidence file with
signed requests, and records a negative outcome; Kenya receives it signed, and its committee's
next agenda carries a suspension proposal for the certificate.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from sdgcities.federation.spotcheck import recompute
from sdgcities.node.accounts.models import Role
from sdgcities.node.db import make_engine
from sdgcities.node.ingest.models import IngestedEvent

from ..node.conftest import Account
from ..node.test_end_to_end import (
    LOCODE,
    apply_for_stage,
    committee_decides,
    enrol,
    ok,
    register_city,
    review_and_recommend,
    staff_the_node,
)
from .harness import Node, federation, global_committee_decides

pytestmark = pytest.mark.slow

FAST_RELAY = {"relay_interval_seconds": 0.2, "relay_backoff_base_seconds": 0.2}


def _endorsed_framework(http: httpx.Client, national: Node, global_node: Node) -> int:
    """Kenya's framework, derived from the baseline, published, endorsed by the global node."""
    baselines = ok(http.get(f"{national.url}/frameworks", headers=national.admin))
    baseline = next(v for v in baselines["data"] if v["status"] == "published")
    derived = ok(
        http.post(
            f"{national.url}/frameworks/{baseline['id']}/derive",
            json={"framework_id": "sdgcities-ke", "version": "1", "title": "SDG Cities: Kenya"},
            headers=national.admin,
        ),
        201,
    )
    ok(http.post(f"{national.url}/frameworks/{derived['id']}/publish", headers=national.admin))
    asked = ok(
        http.post(
            f"{national.url}/admin/frameworks/{derived['id']}/request-endorsement",
            headers=national.admin,
        ),
        202,
    )
    [item] = global_committee_decides(http, global_node.url, global_node.admin, "Kenya's framework")
    assert item["endorsement_request_id"] == asked["request_id"]
    ok(http.post(f"{national.url}/admin/federation/sync", headers=national.admin))
    version = ok(http.get(f"{national.url}/frameworks/{derived['id']}", headers=national.admin))
    assert version["usable_for_certification"] is True, version
    framework_id: int = derived["id"]
    return framework_id


def _awards_held(global_node: Node) -> int:
    engine = make_engine(f"sqlite:///{global_node.database}")
    try:
        with Session(engine) as session:
            return len(
                session.exec(
                    select(IngestedEvent.sequence).where(
                        IngestedEvent.node_id == "KE",
                        IngestedEvent.type == "credential.issued",
                    )
                ).all()
            )
    finally:
        engine.dispose()


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def test_a_spot_check_from_selection_to_a_suspension_proposal(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (kenya,) = federation(tmp_path, processes, ("KE",), **FAST_RELAY)
    with httpx.Client(base_url=kenya.url, timeout=30, follow_redirects=False) as national:
        admin = enrol_admin(kenya)
        register_city(national, admin)  # type: ignore[arg-type]
        people = staff_the_node(national, admin)  # type: ignore[arg-type]
        framework_id = _endorsed_framework(national, kenya, global_node)
        application_id, evidence = apply_for_stage(
            national,  # type: ignore[arg-type]
            people.city,
            framework_id,
            "qualification",
        )
        review_and_recommend(national, people, application_id, evidence)  # type: ignore[arg-type]
        decided = committee_decides(
            national,  # type: ignore[arg-type]
            people,
            "Award of qualification to Kisumu",
            application_id=application_id,
        )
        certificate_id = decided["certificate_id"]

    _wait_for(lambda: _awards_held(global_node) >= 1, "the global node to hold the award")
    # A round's window ends at the whole second it is drawn in, excluding that second: an award
    # decided in the same second belongs to the next round.
    time.sleep(1.1)

    with httpx.Client(base_url=global_node.url, timeout=30, follow_redirects=False) as world:
        secretariat = enrol(world, enrol_admin(global_node), "secretariat", email="s@un.org")  # type: ignore[arg-type]
        reviewer = enrol(world, enrol_admin(global_node), "reviewer", email="r@un.org")  # type: ignore[arg-type]
        drawn = ok(
            world.post(
                "/federation/spot-checks/rounds", json={"rate": 1.0}, headers=secretariat.headers
            ),
            201,
        )
        published = ok(world.get(f"/federation/spot-checks/rounds/{drawn['id']}"))
        result = recompute(published["document"])
        assert result.selected == (("KE", application_id),)

        (check,) = ok(
            world.get(
                f"/federation/spot-checks/rounds/{drawn['id']}/checks", headers=reviewer.headers
            )
        )["data"]
        assert check["credential_id"] == certificate_id
        path = f"/federation/spot-checks/checks/{check['id']}"
        fetched = ok(world.post(f"{path}/dossier", headers=reviewer.headers))
        dossier = fetched["dossier"]
        assert dossier["application"]["id"] == application_id
        assert dossier["report"]["document"]["city"]["locode"] == LOCODE
        assert {r["reviewer"] for r in dossier["reviews"]} == {"lead reviewer", "reviewer 1"}
        assert "@example.org" not in str(dossier)
        (entry,) = dossier["evidence"]
        file = world.get(f"{path}/evidence/{entry['digest']}", headers=reviewer.headers)
        assert file.status_code == 200, file.text
        assert "sha256:" + hashlib.sha256(file.content).hexdigest() == entry["digest"]

        criterion = dossier["report"]["document"]["criteria"][0]["code"]
        recorded = ok(
            world.post(
                f"{path}/outcome",
                json={
                    "outcome": "not_confirmed",
                    "summary": "The evidence does not show the plan in force.",
                    "reasons": [{"criterion": criterion, "text": "No adopted plan on file."}],
                },
                headers=reviewer.headers,
            )
        )
        assert recorded["state"] == "not_confirmed"
        assert recorded["delivery_error"] is None
        assert recorded["delivered_at"] is not None

    with httpx.Client(base_url=kenya.url, timeout=30, follow_redirects=False) as national:
        proposals = ok(
            national.get(
                "/certificates/proposals",
                params={"certificate_id": certificate_id},
                headers=people.secretariat.headers,
            )
        )
        (proposal,) = proposals["data"]
        assert proposal["kind"] == "suspension"
        assert proposal["state"] == "open"
        assert proposal["reason"].startswith(
            f"Spot-check round {drawn['id']} by the global node: not confirmed."
        )
        meeting = ok(
            national.post(
                "/committee/meetings",
                json={"title": "After the spot-check", "scheduled_for": _in_an_hour()},
                headers=people.secretariat.headers,
            ),
            201,
        )
        agenda = ok(
            national.post(
                f"/committee/meetings/{meeting['id']}/agenda/generate",
                headers=people.secretariat.headers,
            )
        )["agenda"]
        assert [(i["kind"], i["proposal_id"]) for i in agenda] == [("suspension", proposal["id"])]
        events = ok(national.get("/federation/events", params={"after": 0}))["events"]
        result_event = next(e for e in events if e["type"] == "spotcheck.result")
        assert result_event["data"]["outcome"] == "not_confirmed"


def enrol_admin(node: Node) -> Account:
    """The node's first administrator (from `node init`), as the helpers' `Account`."""
    return Account(0, Role.ADMINISTRATOR, node.init["admin_token"])


def _in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()
