"""A global node on PostgreSQL with ingest worker processes (`ingest_processes`): pushed reports
are verified and stored by the workers, with the same receipts, refusals and alarms as in the
server's own process, while reports of several members arrive at once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sdgcities.credentials import SigningKey
from sdgcities.federation import REPORT_MEDIA_TYPE, Event, EventType, sign_report
from sdgcities.federation.onboarding import JoinRequest

from ..conftest import TemporaryDatabases
from .harness import make_node

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MEMBERS = ("GH", "KE", "NG", "SN")


class Member:
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.key = SigningKey.generate()
        self.base_url = f"https://{node_id.lower()}.example.org"
        self.did = f"did:web:{node_id.lower()}.example.org"
        self.events: list[Event] = []

    def next_events(self, count: int) -> list[Event]:
        fresh = []
        for _ in range(count):
            previous = self.events[-1] if self.events else None
            number = len(self.events) + 1
            self.events.append(
                Event.create(
                    previous,
                    node_id=self.node_id,
                    type=EventType.APPLICATION_SUBMITTED,
                    occurred_at=datetime.now(UTC),
                    subject={"application": number, "locode": f"{self.node_id}-ACC"},
                    data={"stage": "silver", "language": "en"},
                )
            )
            fresh.append(self.events[-1])
        return fresh

    def report(self, events: list[Event], *, key: SigningKey | None = None) -> str:
        return sign_report(
            events,
            key=key or self.key,
            node_id=self.node_id,
            issuer_did=self.did,
            issued_at=datetime.now(UTC) + timedelta(seconds=1),
        )


def post(http: httpx.Client, url: str, token: str) -> httpx.Response:
    return http.post(
        f"{url}/federation/reports", content=token, headers={"Content-Type": REPORT_MEDIA_TYPE}
    )


def ingest_workers(pid: int) -> list[int]:
    """The spawned worker processes of `pid` (not multiprocessing's resource tracker)."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"spawn_main" in command:
            workers.append(int(stat.parent.name))
    return workers


def test_worker_processes_ingest_pushed_reports(
    processes: list[subprocess.Popen[bytes]], tmp_path: Path, databases: TemporaryDatabases
) -> None:
    database_url = databases.create("postgresql")
    node = make_node(tmp_path, "global", processes, database_url=database_url)
    node.add_env(ingest_processes=2)
    node.start()
    assert node.process is not None
    members = [Member(code) for code in MEMBERS]

    with httpx.Client(timeout=60, follow_redirects=False) as http:
        for member in members:
            token = JoinRequest.sign(
                node_id=member.node_id,
                base_url=member.base_url,
                name=f"{member.node_id} node",
                key=member.key,
            )
            joined = http.post(f"{node.url}/federation/join", json={"token": token})
            assert joined.is_success, joined.text
            approved = http.post(
                f"{node.url}/federation/join-requests/{joined.json()['id']}/approve",
                headers=node.admin,
            )
            assert approved.status_code == 200, approved.text
        reports = {m.node_id: [m.report(m.next_events(20)) for _ in range(3)] for m in members}

        def send_all(node_id: str) -> list[httpx.Response]:
            return [post(http, node.url, token) for token in reports[node_id]]

        with ThreadPoolExecutor(len(members)) as pool:
            answers = dict(zip(MEMBERS, pool.map(send_all, MEMBERS), strict=True))

        for member in members:
            sent = answers[member.node_id]
            assert [a.status_code for a in sent] == [200, 200, 200], sent[-1].text
            assert [a.json()["added"] for a in sent] == [20, 20, 20]
            assert sent[-1].json()["head"]["hash"] == member.events[-1].hash
        workers = ingest_workers(node.process.pid)
        assert len(workers) == 2, workers

        ke = members[1]
        replayed = post(http, node.url, reports["KE"][0])
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["added"] == 0
        assert replayed.json()["receipt"] == answers["KE"][0].json()["receipt"]

        skipped = ke.next_events(10)
        ahead = post(http, node.url, ke.report(ke.next_events(5)))
        assert ahead.status_code == 409, ahead.text
        assert ahead.json()["code"] == "gap"
        assert ahead.json()["missing"] == {"first": 61, "last": 70}
        assert post(http, node.url, ke.report(skipped)).json()["added"] == 10

        forged = post(http, node.url, ke.report(ke.next_events(1), key=members[0].key))
        assert forged.status_code == 422, forged.text
        # GH's key under KE's DID: refused on the kid, and an impersonation alarm for GH.
        assert "the kid names another DID than the key's node" in forged.json()["detail"]
        alarms = http.get(
            f"{node.url}/federation/alarms", params={"node_id": "GH"}, headers=node.admin
        )
        assert [a["kind"] for a in alarms.json()["data"]] == ["impersonation"]

        # A worker killed: the report in its way is answered 503 (nothing stored), the workers
        # are started again, and the same report sent again is stored once.
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        gh = members[0]
        report = gh.report(gh.next_events(5))
        deadline = time.monotonic() + 60
        answer = post(http, node.url, report)
        assert answer.status_code == 503, answer.text
        assert "send the report again" in answer.json()["detail"]
        while answer.status_code == 503 and time.monotonic() < deadline:
            answer = post(http, node.url, report)
        assert answer.status_code == 200, answer.text
        assert answer.json()["added"] == 5
        assert sorted(ingest_workers(node.process.pid)) != sorted(workers)

        logs = http.get(f"{node.url}/federation/logs", headers=node.admin).json()["data"]
        heads = {log["node_id"]: log["head_sequence"] for log in logs}
        assert {code: heads[code] for code in MEMBERS} == {"GH": 65, "KE": 70, "NG": 60, "SN": 60}
