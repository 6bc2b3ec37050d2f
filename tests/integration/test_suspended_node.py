"""A suspended national node, across real processes (a global node and KE, uvicorn, SQLite each):
what KE signs after its suspension fails verification (`issuer_suspended`), through the global
node's `POST /verify` and through `sdgcities verify`; what it signed before stays valid (the
trust list's rule: the issuer's status at signing time).

The certificates are signed with KE's key file, as in test_onboarding.py, with status entries
KE allocates in its own database (so its status lists exist and are served by KE): the verifier
cares only about the signature, the trust list and the status lists.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from sdgcities.credentials import CertificateIssue, Decision, FrameworkRef, SigningKey
from sdgcities.node.config import DEVELOPMENT_PASSPHRASE, get_settings
from sdgcities.node.db import make_engine
from sdgcities.node.state import NodeState
from sdgcities.node.status.service import allocate_status_entry
from sdgcities.node.verification.service import VerifierCache

from .harness import SDGCITIES, Node, federation, node_env

pytestmark = pytest.mark.slow


def _endorsed_framework(http: httpx.Client, global_node: Node, ke: Node) -> FrameworkRef:
    """KE derives and publishes its framework, the global committee endorses it, KE syncs."""
    versions = http.get(f"{ke.url}/frameworks", headers=ke.admin).json()
    baseline = next(v for v in versions["data"] if v["status"] == "published")
    derived = http.post(
        f"{ke.url}/frameworks/{baseline['id']}/derive",
        json={"framework_id": "sdgcities-ke", "version": "1", "title": "SDG Cities: Kenya"},
        headers=ke.admin,
    )
    assert derived.status_code == 201, derived.text
    version_id = derived.json()["id"]
    published = http.post(f"{ke.url}/frameworks/{version_id}/publish", headers=ke.admin)
    assert published.status_code == 200, published.text
    asked = http.post(
        f"{ke.url}/admin/frameworks/{version_id}/request-endorsement", headers=ke.admin
    )
    assert asked.status_code == 202, asked.text
    endorsed = http.post(
        f"{global_node.url}/federation/endorsements/{asked.json()['request_id']}/endorse",
        headers=global_node.admin,
    )
    assert endorsed.status_code == 200, endorsed.text
    assert http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin).status_code == 200
    version = published.json()
    return FrameworkRef(version["framework_id"], version["version"], version["digest"])


def _certificate(ke: Node, key: SigningKey, framework: FrameworkRef, n: int) -> str:
    """A certificate signed now by KE's key, with a status index KE allocates (and serves)."""
    settings = get_settings(data_dir=ke.data_dir)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with httpx.Client() as client, Session(engine) as session:
            state = NodeState(
                settings=settings,
                engine=engine,
                signing_key=key,
                http=client,
                verifiers=VerifierCache(settings=settings, engine=engine, client=client),
            )
            _, status = allocate_status_entry(session=session, state=state)
            session.commit()
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    return CertificateIssue(
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        issuer_did=ke.init["did"],
        issuer_name="Kenya",
        locode="KE-NBO",
        city_name="Nairobi",
        country="KE",
        stage="qualification",
        framework=framework,
        decision=Decision("KE national committee", f"2026-{n}", now),
        criteria=("A.a", "A.b", "A.c"),
        valid_from=now,
        valid_until=now + timedelta(days=365),
        status=status,
    ).sign(key, issued_at=now)


def _cli_verify(global_node: Node, token_file: Path) -> tuple[int, dict[str, Any]]:
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


def _next_second() -> None:
    """Signing times are whole seconds: make "before" and "after" differ."""
    time.sleep(1.1)


def test_a_suspended_node_signs_nothing_valid_but_its_earlier_certificates_stay_valid(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke,) = federation(tmp_path, processes, ("KE",))
    key = SigningKey.load(ke.data_dir / "keys" / f"{ke.init['kid']}.pem", DEVELOPMENT_PASSPHRASE)
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        framework = _endorsed_framework(http, global_node, ke)
        _next_second()
        before = _certificate(ke, key, framework, 1)
        valid = http.post(f"{global_node.url}/verify", json={"jwt": before}).json()
        assert valid["valid"] is True, valid

        _next_second()
        suspended = http.post(
            f"{global_node.url}/federation/members/KE/suspend",
            json={"reason": "spot-check findings"},
            headers=global_node.admin,
        )
        assert suspended.status_code == 200, suspended.text
        synced = http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin)
        assert synced.status_code == 200, synced.text
        assert synced.json()["stored"] is True
        _next_second()
        after = _certificate(ke, key, framework, 2)

        answer = http.post(f"{ke.url}/verify", json={"jwt": after}).json()
        assert (answer["valid"], answer["reason"]) == (False, "issuer_suspended"), answer
        kept = http.post(f"{ke.url}/verify", json={"jwt": before}).json()
        assert kept["valid"] is True, kept

        # An investor's own verifier, trusting the global node's published list.
        (tmp_path / "cli").mkdir()
        before_file, after_file = tmp_path / "cli" / "before.jwt", tmp_path / "cli" / "after.jwt"
        before_file.write_text(before)
        after_file.write_text(after)
        code, answer = _cli_verify(global_node, after_file)
        assert code == 1, answer
        assert "issuer_suspended" in json.dumps(answer)
        code, answer = _cli_verify(global_node, before_file)
        assert code == 0, answer

        kept = http.post(f"{global_node.url}/verify", json={"jwt": before}).json()
        assert kept["valid"] is True, kept
        # The global node verifies with the list it has just published.
        answer = http.post(f"{global_node.url}/verify", json={"jwt": after}).json()
        assert (answer["valid"], answer["reason"]) == (False, "issuer_suspended"), answer
