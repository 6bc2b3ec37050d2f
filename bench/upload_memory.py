"""The memory a running node needs to receive a 25 MiB evidence upload.

Starts a real node (`sdgcities node init`, then `sdgcities node serve` on a free loopback port,
in a temporary data folder, pinning a throwaway global root key), prepares through its API a city,
a national framework endorsed with that root key, a city applicant and a draft application, then
streams a 25 MiB file to it from a generator with httpx.

The figure is the server process's peak resident memory during the upload (VmHWM) above its
resident memory when idle just before (VmRSS). The kernel's peak is reset first (`clear_refs`
5) where it allows that, so start-up peaks do not count; where it does not, the figure can only
be higher than the truth. The last line is `upload peak extra MiB: X` (target: X <= 64).

    .venv/bin/python bench/upload_memory.py [--mib 25]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _common import free_port

from sdgcities.credentials import Endorsement, FrameworkRef, SigningKey

MIB = 1024 * 1024
CHUNK = 64 * 1024
CLI = Path(sys.executable).parent / "sdgcities"


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def pdf_body(size: int) -> Iterator[bytes]:
    """`size` bytes of a file judged a PDF by its first bytes, made as they are sent."""
    header = b"%PDF-1.7\n% generated for the upload benchmark\n"
    yield header
    sent = len(header)
    filler = b"0123456789abcdef" * (CHUNK // 16)
    while sent < size:
        part = filler[: min(CHUNK, size - sent)]
        sent += len(part)
        yield part


def wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the node did not come up:\n{log.read_text()}")


def check(response: httpx.Response, status: int) -> dict:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    body: dict = response.json()
    return body


def prepare(base_url: str, admin_token: str, root_key: SigningKey) -> tuple[str, str]:
    """A draft application of a city, and that city's applicant token."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=base_url, headers=admin, timeout=30) as api:
        check(api.post("/cities", json={"locode": "KE-NBO", "name": "Nairobi"}), 201)
        baseline = check(api.get("/frameworks", params={"framework_id": "sdgcities-baseline"}), 200)
        derived = check(
            api.post(
                f"/frameworks/{baseline['data'][0]['id']}/derive",
                json={"framework_id": "sdgcities-ke", "version": "1", "title": "Kenya"},
            ),
            201,
        )
        published = check(api.post(f"/frameworks/{derived['id']}/publish"), 200)
        endorsement = Endorsement.sign(
            framework=FrameworkRef(
                id=published["framework_id"],
                version=published["version"],
                digest=published["digest"],
            ),
            node_id="KE",
            root_key=root_key,
            issuer_did="did:web:global.example.org",
            endorsed_at=datetime.now(UTC),
        )
        check(
            api.put(f"/frameworks/{derived['id']}/endorsement", json={"jws": endorsement.token}),
            200,
        )
        user = check(
            api.post(
                "/admin/users",
                json={
                    "name": "Nairobi applicant",
                    "email": "applicant@nairobi.example.org",
                    "role": "city_applicant",
                    "city_locode": "KE-NBO",
                },
            ),
            201,
        )
        applicant_token = check(api.post(f"/admin/users/{user['id']}/tokens", json={}), 201)[
            "token"
        ]
        application = check(
            api.post(
                "/applications",
                headers={"Authorization": f"Bearer {applicant_token}"},
                json={"stage": "qualification", "framework_version_id": derived["id"]},
            ),
            201,
        )
    return f"/applications/{application['id']}/criteria/A.a/evidence", applicant_token


def upload(base_url: str, path: str, token: str, size: int, name: str) -> dict:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/octet-stream",
        "Content-Length": str(size),
    }
    response = httpx.post(
        f"{base_url}{path}",
        params={"filename": name},
        content=pdf_body(size),
        headers=headers,
        timeout=300,
    )
    return check(response, 201)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=25, help="size of the upload (default 25)")
    size = parser.parse_args().mib * MIB

    root_key = SigningKey.generate()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "node"
        env = {key: value for key, value in os.environ.items() if not key.startswith("SDGCITIES_")}
        env["SDGCITIES_ROOT_KEYS"] = json.dumps([root_key.public_key.to_jwk()])
        env["SDGCITIES_EVIDENCE_MAX_BYTES"] = str(max(size, 25 * MIB))
        initialised = subprocess.run(
            [
                str(CLI),
                "node",
                "init",
                "--data-dir",
                str(data_dir),
                "--node-id",
                "KE",
                "--base-url",
                base_url,
                "--json",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        admin_token = json.loads(initialised.stdout)["admin_token"]
        log = Path(scratch) / "node.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [str(CLI), "node", "serve", "--data-dir", str(data_dir), "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_up(base_url, server, log)
                path, applicant_token = prepare(base_url, admin_token, root_key)
                # A small upload first, so that code loaded on first use is not counted.
                upload(base_url, path, applicant_token, 64 * 1024, "warm-up.pdf")
                time.sleep(0.5)
                idle_kib = memory_kib(server.pid, "VmRSS")
                reset = reset_peak(server.pid)
                started = time.perf_counter()
                stored = upload(base_url, path, applicant_token, size, "large.pdf")
                elapsed = time.perf_counter() - started
                peak_kib = memory_kib(server.pid, "VmHWM")
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()

    assert stored["size"] == size, stored
    extra_mib = max(peak_kib - idle_kib, 0) / 1024
    print(f"node: pid {server.pid}, SQLite, evidence in a temporary folder")
    print(f"uploaded {size / MIB:.0f} MiB in {elapsed:.2f} s as {stored['media_type']}")
    print(f"idle RSS {idle_kib / 1024:.1f} MiB; peak RSS during upload {peak_kib / 1024:.1f} MiB")
    print("peak reset before the upload" if reset else "peak not resettable: includes start-up")
    print(f"upload peak extra MiB: {extra_mib:.1f}")


if __name__ == "__main__":
    main()
