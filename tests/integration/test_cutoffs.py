"""Cut-offs across real processes (DESIGN §3): a global node and KE (uvicorn, SQLite each).

Once KE is suspended, or its key marked compromised, a certificate signed with KE's real key
file and dated (`iat`) before that moment is not valid (`not_received_before_cutoff`): the global
node never received it in a report before the cut-off. A certificate KE issued and reported
before then stays valid. Both answers come the same from the global node's `POST /verify`, KE's,
`sdgcities verify` online, and `sdgcities verify --offline` with a bundle from `trust sync`.

The certificates are signed in this process with KE's key file, as an attacker holding it would,
with status entries KE allocates in its own database (so its status lists exist and KE serves
them). The one reported is appended to KE's log with its award decision, as KE's committee
does, and reaches the global node through KE's relay.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdgcities.credentials import FrameworkRef, SigningKey, StatusEntry
from sdgcities.federation import EventType
from sdgcities.federation.event_data import (
    CredentialIssued,
    DecisionRecorded,
    DecisionRef,
    QuorumCounts,
    Votes,
)
from sdgcities.node.config import DEVELOPMENT_PASSPHRASE, get_settings
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.events.service import append_event

from .harness import (
    SDGCITIES,
    Node,
    allocate_status_entries,
    certificate_id,
    endorsed_framework,
    federation,
    node_env,
    sign_certificate,
)

pytestmark = pytest.mark.slow

NOT_RECEIVED = "not_received_before_cutoff"


def _report(http: httpx.Client, global_node: Node, ke: Node, token: str, n: int) -> None:
    """Append the award decision and the certificate to KE's log; wait for the global node."""
    engine = make_engine(get_settings(data_dir=ke.data_dir).sqlalchemy_url)
    try:
        with transaction(engine) as session:
            append_event(
                session=session,
                node_id="KE",
                type=EventType.DECISION_RECORDED,
                subject={"meeting": 1, "item": n, "locode": "KE-NBO", "application": n},
                data=DecisionRecorded(
                    kind="award",
                    outcome="approved",
                    quorum=QuorumCounts(
                        sitting=3,
                        attending=3,
                        required=2,
                        non_government_attending=2,
                        required_non_government=1,
                        met=True,
                    ),
                    votes=Votes(yes=3, no=0, abstain=0),
                ),
            )
            append_event(
                session=session,
                node_id="KE",
                type=EventType.CREDENTIAL_ISSUED,
                subject={"locode": "KE-NBO", "credential": certificate_id(n)},
                data=CredentialIssued(
                    id=certificate_id(n),
                    decision=DecisionRef(meeting="meeting 1: Q1", item=n),
                    jwt=token,
                ),
            )
    finally:
        engine.dispose()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held = http.get(f"{global_node.url}/registry/credentials/{certificate_id(n)}")
        if held.status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"the global node did not receive {certificate_id(n)} within 30 s")


def _cli(*args: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [str(SDGCITIES), *args],
        env=node_env(cwd),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


class Investor:
    """`sdgcities verify`, online against the global node and offline from a synced bundle."""

    def __init__(self, global_node: Node, folder: Path) -> None:
        folder.mkdir()
        self.folder = folder
        self.pin = ("--root-thumbprint", global_node.init["root_thumbprint"])
        self.registry = ("--registry-url", global_node.url)
        self.bundle = ("--bundle", str(folder / "bundle"))

    def sync(self) -> None:
        code, answer = _cli(
            "trust", "sync", *self.registry, *self.pin, *self.bundle, "--json", cwd=self.folder
        )
        assert code == 0, answer

    def verify(self, token: str, *, offline: bool) -> tuple[int, str | None]:
        token_file = self.folder / "certificate.jwt"
        token_file.write_text(token)
        where = ("--offline", *self.bundle) if offline else (*self.registry, *self.bundle)
        code, answer = _cli("verify", *where, *self.pin, "--json", str(token_file), cwd=self.folder)
        return code, answer["reason"]


def _verify(http: httpx.Client, node: Node, token: str) -> tuple[bool, str | None]:
    answer = http.post(f"{node.url}/verify", json={"jwt": token}).json()
    return answer["valid"], answer["reason"]


def _next_second() -> None:
    """Signing times are whole seconds: make "before" and "after" differ."""
    time.sleep(1.1)


def _assert_everywhere(
    http: httpx.Client,
    nodes: tuple[Node, ...],
    investor: Investor,
    token: str,
    reason: str | None,
) -> None:
    """`token` is valid (reason None) or not valid for `reason`, on every path."""
    for node in nodes:
        assert _verify(http, node, token) == (reason is None, reason), node.node_id
    for offline in (False, True):
        assert investor.verify(token, offline=offline) == (
            0 if reason is None else 1,
            reason,
        ), f"offline={offline}"


def _one_reported(
    http: httpx.Client, global_node: Node, ke: Node, key: SigningKey
) -> tuple[FrameworkRef, list[StatusEntry], str, datetime]:
    """KE's endorsed framework, three status entries, certificate 1 signed and received by the
    global node, and the moment just after (what a back-dated certificate will claim)."""
    framework = endorsed_framework(http, global_node, ke)
    entries = allocate_status_entries(ke, key, 3)
    _next_second()
    reported = sign_certificate(ke, key, framework, 1, status=entries[0])
    _report(http, global_node, ke, reported, 1)
    return framework, entries, reported, datetime.now(UTC)


def test_a_suspended_nodes_back_dated_certificate_is_not_valid_its_reported_one_is(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke,) = federation(tmp_path, processes, ("KE",))
    key = SigningKey.load(ke.data_dir / "keys" / f"{ke.init['kid']}.pem", DEVELOPMENT_PASSPHRASE)
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        framework, entries, reported, back_then = _one_reported(http, global_node, ke, key)
        assert _verify(http, global_node, reported) == (True, None)

        _next_second()
        suspended = http.post(
            f"{global_node.url}/federation/members/KE/suspend",
            json={"reason": "spot-check findings"},
            headers=global_node.admin,
        )
        assert suspended.status_code == 200, suspended.text
        synced = http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin)
        assert synced.status_code == 200, synced.text
        _next_second()
        # KE's real key, after the suspension: one dated honestly, one back-dated.
        after = sign_certificate(ke, key, framework, 2, status=entries[1])
        back_dated = sign_certificate(ke, key, framework, 3, status=entries[2], issued_at=back_then)

        investor = Investor(global_node, tmp_path / "investor")
        investor.sync()
        both = (global_node, ke)
        _assert_everywhere(http, both, investor, reported, None)
        _assert_everywhere(http, both, investor, back_dated, NOT_RECEIVED)
        _assert_everywhere(http, both, investor, after, "issuer_suspended")
        # The global node's signed word, one certificate at a time.
        held = http.get(f"{global_node.url}/federation/received/{certificate_id(1)}")
        assert held.status_code == 200, held.text
        assert held.json()["node_id"] == "KE"
        never = http.get(f"{global_node.url}/federation/received/{certificate_id(3)}")
        assert never.status_code == 404, never.text


def test_a_compromised_keys_back_dated_certificate_is_not_valid_its_reported_one_is(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke,) = federation(tmp_path, processes, ("KE",))
    old_kid = ke.init["kid"]
    key = SigningKey.load(ke.data_dir / "keys" / f"{old_kid}.pem", DEVELOPMENT_PASSPHRASE)
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        framework, entries, reported, back_then = _one_reported(http, global_node, ke, key)

        # KE moves to a new key, then the secretariat learns the old one was stolen.
        rotated = http.post(f"{ke.url}/admin/federation/keys/rotate", headers=ke.admin)
        assert rotated.status_code == 201, rotated.text
        _next_second()
        compromised = http.post(
            f"{global_node.url}/federation/members/KE/keys/{old_kid}/compromise",
            json={"reason": "the key file was stolen"},
            headers=global_node.admin,
        )
        assert compromised.status_code == 200, compromised.text
        # The sync re-signs, with KE's new key, the status lists the old key signed.
        synced = http.post(f"{ke.url}/admin/federation/sync", headers=ke.admin)
        assert synced.status_code == 200, synced.text
        _next_second()
        after = sign_certificate(ke, key, framework, 2, status=entries[1])
        back_dated = sign_certificate(ke, key, framework, 3, status=entries[2], issued_at=back_then)

        investor = Investor(global_node, tmp_path / "investor")
        investor.sync()
        both = (global_node, ke)
        _assert_everywhere(http, both, investor, reported, None)
        _assert_everywhere(http, both, investor, back_dated, NOT_RECEIVED)
        _assert_everywhere(http, both, investor, after, "key_compromised")
