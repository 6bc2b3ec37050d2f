"""A real node verifying a certificate whose status list lives on a peer that answers one byte
every half second: the node gives up at its overall deadline and answers "cannot decide"."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from ..cli.federation import TestFederation
from ..slow_peer import slow_peer
from .harness import make_node

pytestmark = pytest.mark.slow  # node processes

DEADLINE_SECONDS = 2.0


def test_a_slow_status_list_peer_costs_at_most_the_deadline(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    with slow_peer(interval=0.5) as (port, accepted):
        peer = TestFederation(base_url=f"http://127.0.0.1:{port}", node_id="UG")
        node = make_node(tmp_path, "KE", processes)
        node.add_env(
            root_keys=json.dumps([peer.root.public_key.to_jwk()]),
            outbound_deadline_seconds=DEADLINE_SECONDS,
        )
        node.start()
        with httpx.Client(timeout=30) as http:
            uploaded = http.put(
                f"{node.url}/admin/trust-list",
                headers=node.admin,
                json={"token": peer.trust_list()},
            )
            assert uploaded.status_code == 200, uploaded.text
            certificate, _index = peer.certificate(locode="UG-KLA", city="Kampala")

            started = time.monotonic()
            answer = http.post(f"{node.url}/verify", json={"jwt": certificate})
            elapsed = time.monotonic() - started

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "indeterminate", answer.json()
    # Whichever fires first, the read's timeout or the overall deadline, the node says so.
    assert re.search(r"timed out|overall deadline passed", answer.json()["message"]), answer.json()
    assert accepted  # the node did ask the slow peer
    # Without the deadline, reading the list would take 100,000 bytes x 0.5 s.
    assert elapsed < DEADLINE_SECONDS + 1.5, elapsed
