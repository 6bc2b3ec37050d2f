"""Jurisdiction across real processes (issue 12): a global node, KE and GH (uvicorn, SQLite each).

KE's real key file signs a certificate for Accra (GH-ACC), as an attacker holding it would:
`sdgcities verify` exits 1 with `outside_jurisdiction`, `POST /verify` on every node answers the
same, and the global registry, fed KE's signed report carrying it (KE's own relay pushes it),
does not list it, keeps Accra's record and raises an alarm with the report as evidence. A
far-future `iat` is refused the same way. A certificate the global node issued for a country
before that country's node joined stays valid after the join.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdgcities.credentials import (
    CertificateIssue,
    Decision,
    Endorsement,
    FrameworkRef,
    SigningKey,
    StatusEntry,
)
from sdgcities.federation.event_data import CityFacts
from sdgcities.node.config import DEVELOPMENT_PASSPHRASE, get_settings
from sdgcities.node.db import make_engine, transaction

from .harness import (
    SDGCITIES,
    Node,
    allocate_status_entries,
    append_award,
    federation,
    national_node,
    node_env,
)
from .test_global_registry import WITHIN_SECONDS, issue

pytestmark = pytest.mark.slow

# A framework no one endorsed: the checks under test come before the framework's.
UNENDORSED = FrameworkRef("sdgcities-baseline", "1.0.0", "sha256:" + "0" * 64)


def node_key(node: Node) -> SigningKey:
    return SigningKey.load(
        node.data_dir / "keys" / f"{node.init['kid']}.pem", DEVELOPMENT_PASSPHRASE
    )


def certificate(
    node: Node,
    locode: str,
    name: str,
    *,
    framework: FrameworkRef = UNENDORSED,
    issued_at: datetime | None = None,
    status: StatusEntry | None = None,
) -> tuple[str, str]:
    """`node`'s key file signs a certificate for `locode`: (credential id, token)."""
    now = datetime.now(UTC).replace(microsecond=0)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    base = node.url
    token = CertificateIssue(
        credential_id=credential_id,
        issuer_did=node.init["did"],
        issuer_name=node.node_id,
        locode=locode,
        city_name=name,
        country=locode[:2],
        stage="qualification",
        framework=framework,
        decision=Decision("committee", "meeting 1: Q1", now),
        criteria=("A.a", "A.b", "A.c"),
        valid_from=now,
        valid_until=now + timedelta(days=365),
        status=status or StatusEntry(f"{base}/status/1", 1),
    ).sign(node_key(node), issued_at=issued_at or now)
    return credential_id, token


def report_in_log(node: Node, locode: str, credential_id: str, token: str, item: int) -> None:
    """Append an award decision and `token`'s `credential.issued` to `node`'s own log: its relay
    signs them into a report and pushes it to the global node."""
    settings = get_settings(data_dir=node.data_dir)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(engine) as session:
            append_award(
                session,
                node_id=node.node_id,
                item=item,
                locode=locode,
                credential_id=credential_id,
                token=token,
                city=CityFacts(region="Forged", population=1, priorities=("Forged",)),
            )
    finally:
        engine.dispose()


def cli_verify(global_node: Node, token_file: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [
            str(SDGCITIES),
            "verify",
            "--registry-url",
            global_node.url,
            "--root-thumbprint",
            global_node.init["root_thumbprint"],
            "--json",
            str(token_file),
        ],
        env=node_env(token_file.parent),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WITHIN_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"not within {WITHIN_SECONDS} s: {what}")


def refused_alarms(http: httpx.Client, global_node: Node, node_id: str) -> list[dict[str, Any]]:
    answer = http.get(
        f"{global_node.url}/federation/alarms",
        params={"node_id": node_id, "kind": "refused_certificate"},
        headers=global_node.admin,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def test_a_kenyan_key_cannot_certify_accra_anywhere(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke, gh) = federation(tmp_path, processes, ("KE", "GH"))
    issue(gh, "GH-ACC", "Accra", 1, ["Sanitation"])
    with httpx.Client(timeout=30) as http:

        def accra() -> dict[str, Any] | None:
            answer = http.get(f"{global_node.url}/registry/cities/GH-ACC")
            return dict(answer.json()) if answer.status_code == 200 else None

        before = wait_for(accra, "Accra listed on the global registry")

        forged_id, forged = certificate(ke, "GH-ACC", "Accra (forged)")
        for node in (global_node, ke, gh):
            answer = http.post(f"{node.url}/verify", json={"jwt": forged}).json()
            assert (answer["valid"], answer["reason"]) == (False, "outside_jurisdiction"), (
                node.node_id,
                answer,
            )
        (tmp_path / "cli").mkdir()
        token_file = tmp_path / "cli" / "forged.jwt"
        token_file.write_text(forged)
        code, answer = cli_verify(global_node, token_file)
        assert code == 1, answer
        assert answer["reason"] == "outside_jurisdiction", answer

        # KE's relay reports it in a report KE signs; the registry keeps Accra as Ghana said.
        report_in_log(ke, "GH-ACC", forged_id, forged, 1)
        (alarm,) = wait_for(
            lambda: refused_alarms(http, global_node, "KE"), "the refused certificate's alarm"
        )
        assert "outside_jurisdiction" in alarm["detail"]
        assert forged_id in alarm["detail"]
        (report,) = alarm["evidence"]
        assert forged in json.dumps(_payload(report))
        assert accra() == before
        assert http.get(f"{global_node.url}/registry/credentials/{forged_id}").status_code == 404

        # A far-future iat: refused by every verifier and by the registry.
        future_id, future = certificate(
            ke, "KE-NBO", "Nairobi", issued_at=datetime.now(UTC) + timedelta(days=3650)
        )
        answer = http.post(f"{ke.url}/verify", json={"jwt": future}).json()
        assert (answer["valid"], answer["reason"]) == (False, "not_yet_valid"), answer
        report_in_log(ke, "KE-NBO", future_id, future, 2)
        wait_for(
            lambda: len(refused_alarms(http, global_node, "KE")) == 2,
            "the far-future certificate's alarm",
        )
        assert "not_yet_valid" in refused_alarms(http, global_node, "KE")[0]["detail"]
        assert http.get(f"{global_node.url}/registry/cities/KE-NBO").status_code == 404
        assert accra() == before


def _payload(compact: str) -> Any:
    segment = compact.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _endorse_global_baseline(http: httpx.Client, global_node: Node) -> FrameworkRef:
    """The root key in the global node's folder endorses its baseline for the global node."""
    versions = http.get(f"{global_node.url}/frameworks", headers=global_node.admin).json()
    baseline = next(v for v in versions["data"] if v["status"] == "published")
    framework = FrameworkRef(baseline["framework_id"], baseline["version"], baseline["digest"])
    root_kid = global_node.init["root_thumbprint"]
    root = SigningKey.load(
        global_node.data_dir / "keys" / f"root-{root_kid}.pem", DEVELOPMENT_PASSPHRASE
    )
    token = Endorsement.sign(
        framework=framework,
        node_id="global",
        root_key=root,
        issuer_did=global_node.init["did"],
        endorsed_at=datetime.now(UTC),
    ).token
    endorsed = http.put(
        f"{global_node.url}/frameworks/{baseline['id']}/endorsement",
        json={"jws": token},
        headers=global_node.admin,
    )
    assert endorsed.status_code == 200, endorsed.text
    return framework


def test_the_global_nodes_certificate_from_before_a_join_stays_valid(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke,) = federation(tmp_path, processes, ("KE",))
    with httpx.Client(timeout=30) as http:
        framework = _endorse_global_baseline(http, global_node)
        _, before = certificate(
            global_node,
            "GH-ACC",
            "Accra",
            framework=framework,
            status=allocate_status_entries(global_node, node_key(global_node))[0],
        )
        answer = http.post(f"{global_node.url}/verify", json={"jwt": before}).json()
        assert answer["valid"] is True, answer

        time.sleep(1.1)  # signing times are whole seconds: Ghana joins after this one
        gh = national_node(tmp_path, processes, global_node, "GH")
        assert http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin).status_code == 200
        time.sleep(1.1)
        _, after = certificate(
            global_node,
            "GH-KMS",
            "Kumasi",
            framework=framework,
            status=allocate_status_entries(global_node, node_key(global_node))[0],
        )
        for node in (global_node, ke, gh):
            kept = http.post(f"{node.url}/verify", json={"jwt": before}).json()
            assert kept["valid"] is True, (node.node_id, kept)
            refused = http.post(f"{node.url}/verify", json={"jwt": after}).json()
            assert (refused["valid"], refused["reason"]) == (False, "outside_jurisdiction"), (
                node.node_id,
                refused,
            )
        (tmp_path / "cli").mkdir()
        before_file, after_file = tmp_path / "cli" / "before.jwt", tmp_path / "cli" / "after.jwt"
        before_file.write_text(before)
        after_file.write_text(after)
        code, answer = cli_verify(global_node, before_file)
        assert code == 0, answer
        code, answer = cli_verify(global_node, after_file)
        assert (code, answer["reason"]) == (1, "outside_jurisdiction"), answer
