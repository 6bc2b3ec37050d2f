"""`POST /verify` throughput against `GET /version`, a trivial endpoint of the same node.

    .venv/bin/python bench/verify_api.py [--clients 8] [--seconds 3] [--rounds 6]

Starts a real node the way an operator does (`sdgcities node init`, then `sdgcities node serve`:
uvicorn, one process, on a free loopback port, SQLite in a temporary data folder), with a root key
this script generates and pins through SDGCITIES_ROOT_KEYS. It then takes one certificate through
the node's own workflow over HTTP: the root key endorses the baseline framework; the node's
administrator registers a city and the people involved; the city applies; two reviewers assess
and the lead recommends; the committee meets, votes and awards. The root key signs a trust list
naming the node (its key, from `/.well-known/jwks.json`, and the endorsement), which the
administrator hands to the node (`PUT /admin/trust-list`). The certificate is fetched from the
public registry, and `POST /verify` must answer `valid` before anything is measured.

Then `--clients` threads, each with its own keep-alive `httpx.Client`, call one endpoint as fast
as they can for `--seconds`, alternating `POST /verify` and `GET /version` phases `--rounds`
times, so that machine noise falls on both alike. Every answer is checked (200, and `valid` for
the certificate). Printed per phase: requests/s and the server process's CPU time per request
(from /proc, when there is one); then the totals, each round's ratio, and, as the last line,
`verify-api/trivial ratio: X`, the median over the rounds of requests/s of `POST /verify` /
requests/s of `GET /version` in that round. The target is X >= 0.7. The server is stopped at
the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import free_port

from sdgcities.credentials import (
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    PublicKey,
    SigningKey,
    TrustedNode,
    TrustList,
)

ROOT_DID = "did:web:global.bench.example"
NODE_ID = "KE"
# The console script installed beside this interpreter (`pip install -e .`).
SDGCITIES = [str(Path(sys.executable).with_name("sdgcities"))]
MAX_REQUESTS_PER_CLIENT = 1_000_000  # a bound on each loop, far above what a phase reaches


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    base_url: str
    admin_token: str
    did: str


def start_node(data_dir: Path, root_key: SigningKey) -> Node:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SDGCITIES_ROOT_KEYS": json.dumps([root_key.public_key.to_jwk()]),
        "SDGCITIES_BASE_URL": base_url,
        "SDGCITIES_RATE_LIMIT_VERIFY_PER_MINUTE": "0",  # the benchmark is one client
    }
    env.pop("SDGCITIES_DATABASE_URL", None)  # SQLite in the data folder
    initialised = subprocess.run(
        [*SDGCITIES, "node", "init", "--data-dir", str(data_dir), "--node-id", NODE_ID, "--json"],
        env=env,
        capture_output=True,
        check=True,
        timeout=300,
    )
    created = json.loads(initialised.stdout)
    process = subprocess.Popen(
        [*SDGCITIES, "node", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    node = Node(process, base_url, created["admin_token"], created["did"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node exited with {process.returncode} while starting")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return node
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the node did not answer /healthz within two minutes")


def stop_node(node: Node) -> None:
    if node.process.poll() is None:
        node.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            node.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(timeout=20)


class Api:
    """The node's API as one caller sees it; every call must succeed."""

    def __init__(self, client: httpx.Client, token: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, expect: int = 200, **options: Any) -> Any:
        response = self.client.request(method, path, headers=self.headers, **options)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None


def certify(node: Node, root_key: SigningKey) -> str:
    """One certificate, through the whole workflow over HTTP; its id."""
    with httpx.Client(base_url=node.base_url, timeout=60) as client:
        admin = Api(client, node.admin_token)

        # The root key endorses the baseline for this node.
        baseline = admin.call("GET", "/frameworks", params={"limit": 1})["data"][0]
        endorsement = Endorsement.sign(
            framework=FrameworkRef(
                baseline["framework_id"], baseline["version"], baseline["digest"]
            ),
            node_id=NODE_ID,
            root_key=root_key,
            issuer_did=ROOT_DID,
            endorsed_at=datetime.now(UTC) - timedelta(minutes=5),
        )
        admin.call(
            "PUT", f"/frameworks/{baseline['id']}/endorsement", json={"jws": endorsement.token}
        )
        detail = admin.call("GET", f"/frameworks/{baseline['id']}")
        stage = next(s for s in detail["document"]["stages"] if s["key"] == "qualification")
        codes = [criterion["code"] for criterion in stage["criteria"]]

        admin.call("POST", "/cities", 201, json={"locode": "KE-NBO", "name": "Nairobi"})
        today = date.today()

        def person(name: str, role: str, **fields: Any) -> tuple[int, Api]:
            email = f"{name.lower().replace(' ', '.')}@bench.example.org"
            user = admin.call(
                "POST",
                "/admin/users",
                201,
                json={"name": name, "email": email, "role": role, **fields},
            )
            token = admin.call("POST", f"/admin/users/{user['id']}/tokens", 201, json={})["token"]
            return user["id"], Api(client, token)

        _, city = person("Nairobi applicant", "city_applicant", city_locode="KE-NBO")
        lead_id, lead = person("Lead reviewer", "reviewer", languages=["en"])
        second_id, second = person("Second reviewer", "reviewer", languages=["en"])
        _, secretariat = person("Committee secretary", "secretariat")
        term = {
            "term_start": str(today - timedelta(days=365)),
            "term_end": str(today + timedelta(days=365)),
        }
        members = [
            person(f"Member {category}", "committee_member", stakeholder_category=category, **term)
            for category in ("government", "civil_society", "academia")
        ]

        application = city.call(
            "POST",
            "/applications",
            201,
            json={"stage": "qualification", "framework_version_id": baseline["id"]},
        )["id"]
        for code in codes:
            city.call(
                "PUT",
                f"/applications/{application}/criteria/{code}",
                json={"narrative": f"How Nairobi meets {code}."},
            )
        city.call("POST", f"/applications/{application}/submit")
        admin.call(
            "POST",
            f"/applications/{application}/reviewers",
            201,
            json={"reviewer_ids": [lead_id, second_id], "lead_id": lead_id},
        )
        for reviewer in (lead, second):
            for code in codes:
                reviewer.call(
                    "PUT",
                    f"/applications/{application}/review/assessments/{code}",
                    json={"verdict": "met", "reasons": f"{code} is met.", "evidence_ids": []},
                )
            reviewer.call("POST", f"/applications/{application}/review/submit")
        lead.call(
            "POST",
            f"/applications/{application}/review/consolidate",
            json={"recommendation": "recommended", "summary": "Every criterion is met."},
        )

        meeting = secretariat.call(
            "POST",
            "/committee/meetings",
            201,
            json={
                "title": "Bench awards",
                "scheduled_for": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
        )["id"]
        for member_id, _ in members:
            secretariat.call(
                "POST",
                f"/committee/meetings/{meeting}/attendance",
                201,
                json={"member_id": member_id},
            )
        secretariat.call("POST", f"/committee/meetings/{meeting}/open")
        agenda = secretariat.call("POST", f"/committee/meetings/{meeting}/agenda/generate")
        item = next(i for i in agenda["agenda"] if i["application_id"] == application)["id"]
        for _, member in members:
            member.call("POST", f"/committee/items/{item}/votes", 201, json={"choice": "yes"})
        certificate_id: str = secretariat.call("POST", f"/committee/items/{item}/decide")[
            "certificate_id"
        ]
        return certificate_id


def trust_list(node: Node, root_key: SigningKey) -> str:
    """The root key's trust list naming this node, its key and its endorsed framework."""
    with httpx.Client(base_url=node.base_url, timeout=30) as client:
        # The JWKS names each key by its DID URL; `from_jwk` takes a kid only as the thumbprint.
        keys = [
            PublicKey.from_jwk({name: value for name, value in jwk.items() if name != "kid"})
            for jwk in client.get("/.well-known/jwks.json").json()["keys"]
        ]
        framework = Api(client, node.admin_token).call("GET", "/frameworks", params={"limit": 1})
    baseline = framework["data"][0]
    now = datetime.now(UTC)
    endorsement = Endorsement.sign(
        framework=FrameworkRef(baseline["framework_id"], baseline["version"], baseline["digest"]),
        node_id=NODE_ID,
        root_key=root_key,
        issuer_did=ROOT_DID,
        endorsed_at=now - timedelta(minutes=5),
    )
    trusted = TrustedNode(
        id=NODE_ID,
        did=node.did,
        name="Kenya national node",
        base_url=node.base_url,
        status=NodeStatus.ACTIVE,
        status_since=now - timedelta(days=1),
        keys=tuple(KeyPeriod(key, KeyStatus.ACTIVE, now - timedelta(days=1)) for key in keys),
        frameworks=(endorsement,),
    )
    return TrustList(
        issuer=ROOT_DID,
        sequence=1,
        issued_at=now,
        next_update=now + timedelta(days=1),
        nodes=(trusted,),
    ).sign(root_key)


@dataclass
class Phase:
    label: str
    requests: int
    seconds: float
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run_phase(node: Node, label: str, *, clients: int, seconds: float, jwt: str) -> Phase:
    """`clients` threads calling one endpoint until the deadline; every answer checked."""
    counts = [0] * clients
    failures: list[str] = []
    start = threading.Barrier(clients + 1)
    body = json.dumps({"jwt": jwt}).encode()

    def client_loop(slot: int) -> None:
        with httpx.Client(base_url=node.base_url, timeout=30) as client:
            client.get("/version")  # connect before the clock starts
            start.wait()
            deadline = time.perf_counter() + seconds
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.perf_counter() >= deadline:
                    break
                if label == "verify":
                    response = client.post(
                        "/verify", content=body, headers={"Content-Type": "application/json"}
                    )
                    ok = response.status_code == 200 and b'"valid":true' in response.content
                else:
                    response = client.get("/version")
                    ok = response.status_code == 200
                if not ok:
                    failures.append(f"{label}: {response.status_code} {response.text[:200]}")
                    return
                counts[slot] += 1

    threads = [threading.Thread(target=client_loop, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    cpu_before, began = cpu_seconds(node.process.pid), time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed, cpu_after = time.perf_counter() - began, cpu_seconds(node.process.pid)
    if failures:
        raise RuntimeError(failures[0])
    server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Phase(label, sum(counts), elapsed, server_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    root_key = SigningKey.generate()
    with tempfile.TemporaryDirectory() as scratch:
        node = start_node(Path(scratch) / "node", root_key)
        try:
            certificate_id = certify(node, root_key)
            with httpx.Client(base_url=node.base_url, timeout=30) as client:
                Api(client, node.admin_token).call(
                    "PUT", "/admin/trust-list", json={"token": trust_list(node, root_key)}
                )
                jwt = client.get(
                    f"/registry/credentials/{certificate_id}",
                    headers={"Accept": "application/vc+jwt"},
                ).text
                verdict = client.post("/verify", json={"jwt": jwt}).json()
            if not verdict["valid"]:
                raise RuntimeError(f"the node's own certificate does not verify: {verdict}")
            print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            print(
                f"node {node.base_url} (uvicorn, 1 process, SQLite); certificate {certificate_id}, "
                f"{len(jwt)} bytes, verifies; {args.clients} clients, {args.seconds:g} s phases"
            )
            phases = []
            for _ in range(args.rounds):
                for label in ("verify", "version"):
                    phase = run_phase(
                        node, label, clients=args.clients, seconds=args.seconds, jwt=jwt
                    )
                    phases.append(phase)
                    cpu = (
                        f"{phase.server_cpu / phase.requests * 1000:.2f} ms server CPU/request"
                        if phase.server_cpu is not None and phase.requests
                        else "server CPU unknown"
                    )
                    path = "POST /verify" if label == "verify" else "GET /version"
                    print(f"  {path:<13} {phase.rate:8.1f} requests/s   {cpu}")
        finally:
            stop_node(node)
    totals = {}
    for label in ("verify", "version"):
        mine = [p for p in phases if p.label == label]
        totals[label] = sum(p.requests for p in mine) / sum(p.seconds for p in mine)
    verify, version = totals["verify"], totals["version"]
    # Each round's two phases ran back to back; the median of the rounds' ratios keeps a burst of
    # load on the shared machine from deciding the figure.
    ratios = [a.rate / b.rate for a, b in zip(phases[::2], phases[1::2], strict=True)]
    print(f"POST /verify: {verify:.1f} requests/s; GET /version: {version:.1f} requests/s")
    print(f"ratio per round: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"verify-api/trivial ratio: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
