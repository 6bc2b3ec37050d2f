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
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdgcities.credentials import SigningKey
from sdgcities.node.config import DEVELOPMENT_PASSPHRASE

from .harness import SDGCITIES, Node, endorsed_framework, federation, node_env, sign_certificate

pytestmark = pytest.mark.slow


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
        framework = endorsed_framework(http, global_node, ke)
        _next_second()
        before = sign_certificate(ke, key, framework, 1)
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
        after = sign_certificate(ke, key, framework, 2)

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
