"""A real two-node federation: a global node and a national node, each its own uvicorn process.

The national node joins with proof of possession, the global secretariat approves, the national
node syncs the signed trust list, and its `/verify` then knows the national key. The test acts
as both operators (it reads the national key from its data folder, as the operator could).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sdgcities.credentials import (
    CertificateIssue,
    Decision,
    FrameworkRef,
    PublicKey,
    SigningKey,
    StatusEntry,
)
from sdgcities.node.config import DEVELOPMENT_PASSPHRASE

from .harness import free_port, global_committee_decides, init_node, serve

pytestmark = pytest.mark.slow

FRAMEWORK = FrameworkRef("sdgcities-ke", "1", "sha256:" + "0" * 64)


def _certificate(*, key: SigningKey, did: str, base_url: str, signed_at: datetime) -> str:
    now = signed_at
    issue = CertificateIssue(
        credential_id="urn:uuid:00000000-0000-4000-8000-0000000000aa",
        issuer_did=did,
        issuer_name="Kenya",
        locode="KE-NBO",
        city_name="Nairobi",
        country="KE",
        stage="qualification",
        framework=FRAMEWORK,
        decision=Decision("KE national committee", "2026-1", now),
        criteria=("A.a", "A.b", "A.c"),
        valid_from=now,
        valid_until=now + timedelta(days=365),
        status=StatusEntry(f"{base_url}/status/1", 5),
    )
    return issue.sign(key, issued_at=now)


def test_national_node_joins_and_its_verify_knows_the_issuer(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_port, national_port = free_port(), free_port()
    global_dir, national_dir = tmp_path / "global", tmp_path / "ke"
    global_init = init_node(global_dir, "global", global_port)
    national_init = init_node(national_dir, "KE", national_port)
    root_jwk = json.loads((global_dir / "root-key.json").read_text())
    assert global_init["root_thumbprint"] == PublicKey.from_jwk(root_jwk).kid
    # The national operator pins the root thumbprint it was given and names the global node.
    with (national_dir / "node.env").open("a", encoding="utf-8") as env:
        env.write(f"SDGCITIES_ROOT_KEYS={json.dumps([root_jwk])}\n")
        env.write(f"SDGCITIES_GLOBAL_URL=http://127.0.0.1:{global_port}\n")
        env.write("SDGCITIES_TRUST_SYNC_SECONDS=3600\n")

    global_url, _ = serve(global_dir, global_port, processes)
    national_url, _ = serve(national_dir, national_port, processes)
    global_admin = {"Authorization": f"Bearer {global_init['admin_token']}"}
    national_admin = {"Authorization": f"Bearer {national_init['admin_token']}"}

    national_key = SigningKey.load(
        national_dir / "keys" / f"{national_init['kid']}.pem", DEVELOPMENT_PASSPHRASE
    )
    # Signed well before the join is approved (times have whole seconds): the key's validity
    # starts at the approval, so this signature must not count.
    certificate = _certificate(
        key=national_key,
        did=national_init["did"],
        base_url=national_url,
        signed_at=datetime.now(UTC) - timedelta(seconds=10),
    )

    with httpx.Client(timeout=30, follow_redirects=False) as http:
        # The global node publishes its list from the start, with only itself on it.
        first = http.get(f"{global_url}/federation/trust-list")
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("application/trust-list+jwt")

        sent = http.post(f"{national_url}/admin/federation/join", json={}, headers=national_admin)
        assert sent.status_code == 202, sent.text
        request_id = sent.json()["request_id"]
        pending = http.get(f"{global_url}/federation/join-requests", headers=global_admin).json()
        assert [r["node_id"] for r in pending["data"]] == ["KE"]

        synced = http.post(f"{national_url}/admin/federation/sync", headers=national_admin)
        assert synced.status_code == 200, synced.text
        before = http.post(f"{national_url}/verify", json={"jwt": certificate}).json()
        assert before["reason"] == "unknown_issuer"

        approved = http.post(
            f"{global_url}/federation/join-requests/{request_id}/approve", headers=global_admin
        )
        assert approved.status_code == 200, approved.text

        synced = http.post(f"{national_url}/admin/federation/sync", headers=national_admin)
        assert synced.status_code == 200, synced.text
        assert synced.json()["stored"] is True
        after = http.post(f"{national_url}/verify", json={"jwt": certificate}).json()
        # Known now, but the member key is valid from approval: earlier signatures do not count.
        assert after["reason"] == "key_retired", after
        assert after["message"] == "signed before the key's validity began"
        # A certificate signed now, with the key the trust list vouches for since approval:
        # the issuer and its key are known; what it lacks is an endorsed framework.
        fresh = _certificate(
            key=national_key,
            did=national_init["did"],
            base_url=national_url,
            signed_at=datetime.now(UTC),
        )
        answer = http.post(f"{national_url}/verify", json={"jwt": fresh}).json()
        assert answer["reason"] == "framework_not_endorsed", answer

        # Framework endorsement: derive and publish a national version, ask, endorse, sync.
        versions = http.get(f"{national_url}/frameworks", headers=national_admin).json()
        baseline = next(v for v in versions["data"] if v["status"] == "published")
        derived = http.post(
            f"{national_url}/frameworks/{baseline['id']}/derive",
            json={"framework_id": "sdgcities-ke", "version": "1", "title": "SDG Cities: Kenya"},
            headers=national_admin,
        )
        assert derived.status_code == 201, derived.text
        version_id = derived.json()["id"]
        published = http.post(
            f"{national_url}/frameworks/{version_id}/publish", headers=national_admin
        )
        assert published.status_code == 200, published.text
        asked = http.post(
            f"{national_url}/admin/frameworks/{version_id}/request-endorsement",
            headers=national_admin,
        )
        assert asked.status_code == 202, asked.text
        # Nobody endorses alone: the global committee votes on it as an agenda item.
        request_url = f"{global_url}/federation/endorsements/{asked.json()['request_id']}"
        alone = http.post(f"{request_url}/endorse", headers=global_admin)
        assert alone.status_code in (404, 405), alone.text
        [item] = global_committee_decides(http, global_url, global_admin, "Kenya's framework")
        assert (item["kind"], item["outcome"]) == ("endorsement", "approved")
        endorsed = http.get(request_url)
        assert endorsed.json()["state"] == "endorsed"
        assert f"agenda item {item['id']}" in endorsed.json()["decided_by"]
        synced = http.post(f"{national_url}/admin/federation/sync", headers=national_admin)
        assert synced.status_code == 200, synced.text
        version = http.get(f"{national_url}/frameworks/{version_id}", headers=national_admin)
        assert version.json()["endorsement_jws"] == endorsed.json()["endorsement_jws"]

        copy = http.get(f"{national_url}/federation/trust-list")
        assert copy.status_code == 200
        assert copy.text == http.get(f"{global_url}/federation/trust-list").text
