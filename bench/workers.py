"""`POST /verify` and registry reads with 1 and with 2 worker processes on one PostgreSQL database.

    .venv/bin/python bench/workers.py [--clients 16] [--load-processes 2] [--seconds 4] [--rounds 5]

Starts a real node the way an operator does (`sdgcities node init` on a new PostgreSQL database,
then `sdgcities node serve --workers N` on a fixed loopback port), with a root key this script
generates and pins through SDGCITIES_ROOT_KEYS. One certificate is taken through the node's own
workflow over HTTP and a trust list naming the node is handed to it, exactly as in
bench/verify_api.py (whose helpers this reuses); `POST /verify` must answer `valid` first.

Then, `--rounds` times, the node is served with 1 worker and then with 2 (stopped and started
again on the same database and port in between), and each time two phases run: `POST /verify` of
the certificate, and `GET /registry/cities` (the public registry's listing). The load comes from
`--load-processes` processes (so that the load generator is not one GIL-bound process), with
`--clients` keep-alive connections between them (a minimal raw-socket client, `RawHttp`), all
starting at one moment and stopping `--seconds` later; every answer is checked (200,
and `valid` for the certificate). Connections are opened anew every `RECONNECT_EVERY` requests,
as many investors would, so the workers share the connections whichever accepted them first.

Printed: the machine (CPU model, cores, load average), each phase's requests/s and CPU time per
request of the server (every worker) and of the load generator, each round's
ratios, the same-run 1-worker baseline; as the last line `workers 2/1 ratio: X`, the geometric
mean of the median (over the rounds) 2-worker/1-worker ratio of `POST /verify` and that of the
registry reads. The aim is X >= 1.5 on a 2-core machine, where the load generator shares the cores
with the workers. The node is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import free_port, postgres_reachable, temporary_database
from verify_api import SDGCITIES, Api, Node, certify, trust_list

from sdgcities.credentials import SigningKey

NODE_ID = "KE"
RECONNECT_EVERY = 100
MAX_REQUESTS_PER_CLIENT = 10_000_000  # a bound on each loop, far above what a phase reaches
PATHS = {"verify": "POST /verify", "registry": "GET /registry/cities"}


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def node_env(data_dir: Path, root_key: SigningKey) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    env["SDGCITIES_DATA_DIR"] = str(data_dir)
    env["SDGCITIES_ROOT_KEYS"] = json.dumps([root_key.public_key.to_jwk()])
    env["SDGCITIES_RATE_LIMIT_VERIFY_PER_MINUTE"] = "0"  # the benchmark is a few clients
    return env


def init_node(data_dir: Path, root_key: SigningKey, database_url: str, port: int) -> dict[str, str]:
    done = subprocess.run(
        [
            *SDGCITIES,
            *("node", "init", "--data-dir", str(data_dir), "--node-id", NODE_ID),
            *("--base-url", f"http://127.0.0.1:{port}", "--database-url", database_url, "--json"),
        ],
        env=node_env(data_dir, root_key),
        capture_output=True,
        check=True,
        timeout=300,
    )
    created: dict[str, str] = json.loads(done.stdout)
    return created


def serve(data_dir: Path, root_key: SigningKey, port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            *SDGCITIES,
            *("node", "serve", "--data-dir", str(data_dir)),
            *("--port", str(port), "--workers", str(workers)),
        ],
        env=node_env(data_dir, root_key),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node exited with {process.returncode} while starting")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    stop(process)
    raise RuntimeError("the node did not answer /healthz within two minutes")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, of every worker
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


class RawHttp:
    """A keep-alive HTTP/1.1 connection that sends prepared bytes and reads one answer by its
    Content-Length: a tenth of `http.client`'s work per request (no header objects), so that the
    load generator takes less of the cores the workers share with it."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._socket: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket, self._buffer = None, b""

    def call(self, request: bytes) -> tuple[int, bytes]:
        if self._socket is None:
            self._socket = socket.create_connection(("127.0.0.1", self._port), timeout=60)
        self._socket.sendall(request)
        while b"\r\n\r\n" not in self._buffer:
            self._receive()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = CONTENT_LENGTH.search(head)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        size = int(length.group(1))
        self._buffer = rest
        while len(self._buffer) < size:
            self._receive()
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        return int(head[9:12]), body

    def _receive(self) -> None:
        assert self._socket is not None
        chunk = self._socket.recv(65536)
        if not chunk:
            raise RuntimeError("the node closed the connection")
        self._buffer += chunk


CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


def request_bytes(label: str, jwt: str) -> bytes:
    if label == "verify":
        body = json.dumps({"jwt": jwt}).encode()
        return (
            b"POST /verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return b"GET /registry/cities HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def load(
    port: int, label: str, jwt: str, clients: int, start_at: float, seconds: float
) -> tuple[int, float]:
    """One load process: `clients` threads calling one endpoint from `start_at` for `seconds`;
    the count of (checked) answers, and this process's CPU seconds meanwhile."""
    counts = [0] * clients
    failures: list[str] = []
    request = request_bytes(label, jwt)

    def client_loop(slot: int) -> None:
        connection = RawHttp(port)
        time.sleep(max(0.0, start_at - time.time()))
        deadline = start_at + seconds
        try:
            for n in range(MAX_REQUESTS_PER_CLIENT):
                if time.time() >= deadline:
                    return
                if n and n % RECONNECT_EVERY == 0:
                    connection.close()
                status, answer = connection.call(request)
                ok = status == 200 and (label != "verify" or b'"valid":true' in answer)
                if not ok:
                    failures.append(f"{label}: {status} {answer[:200]!r}")
                    return
                counts[slot] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client_loop, args=(slot,)) for slot in range(clients)]
    cpu_before = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[0])
    return sum(counts), time.process_time() - cpu_before


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU seconds of `pid` and of each of its children (the workers), from /proc."""
    seconds = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            ticks = int(fields[11]) + int(fields[12])
            seconds[int(stat.parent.name)] = ticks / os.sysconf("SC_CLK_TCK")
    return seconds


@dataclass
class Phase:
    workers: int
    label: str
    requests: int
    seconds: float
    server_cpu_by_process: list[float]
    load_cpu: float

    @property
    def server_cpu(self) -> float:
        return sum(self.server_cpu_by_process)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run_phase(
    pool: ProcessPoolExecutor,
    server: subprocess.Popen[bytes],
    port: int,
    workers: int,
    label: str,
    jwt: str,
    args: argparse.Namespace,
) -> Phase:
    shares = [
        args.clients // args.load_processes + (1 if i < args.clients % args.load_processes else 0)
        for i in range(args.load_processes)
    ]
    start_at = time.time() + 1.0  # every load process starts together, connections made
    server_before = tree_cpu_seconds(server.pid)
    answers = pool.map(
        load,
        [port] * len(shares),
        [label] * len(shares),
        [jwt] * len(shares),
        shares,
        [start_at] * len(shares),
        [args.seconds] * len(shares),
    )
    counts, load_cpu = zip(*answers, strict=True)
    server_after = tree_cpu_seconds(server.pid)
    by_process = sorted(
        (round(after - server_before.get(pid, 0.0), 2) for pid, after in server_after.items()),
        reverse=True,
    )
    return Phase(workers, label, sum(counts), args.seconds, by_process, sum(load_cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not postgres_reachable():
        raise SystemExit("PostgreSQL is not reachable: workers above 1 need it")
    root_key = SigningKey.generate()
    port = free_port()
    phases: list[Phase] = []
    print(f"machine: {machine()}; load average at start: {load_average()}")
    with (
        tempfile.TemporaryDirectory() as scratch,
        temporary_database("postgresql", Path(scratch)) as database_url,
        ProcessPoolExecutor(args.load_processes) as pool,
    ):
        data_dir = Path(scratch) / "node"
        created = init_node(data_dir, root_key, database_url, port)
        process = serve(data_dir, root_key, port, 1)
        try:
            node = Node(process, f"http://127.0.0.1:{port}", created["admin_token"], created["did"])
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
        finally:
            stop(process)
        print(
            f"node KE on PostgreSQL, port {port}; certificate {certificate_id} verifies; "
            f"{args.clients} clients in {args.load_processes} load processes, "
            f"{args.seconds:g} s phases"
        )
        for round_number in range(1, args.rounds + 1):
            for workers in (1, 2):
                process = serve(data_dir, root_key, port, workers)
                try:
                    for label in PATHS:
                        # Warms every worker (its verifier, its registry snapshot) first.
                        run_phase(pool, process, port, workers, label, jwt, args)
                        phase = run_phase(pool, process, port, workers, label, jwt, args)
                        phases.append(phase)
                        per_request = 1000 / phase.requests if phase.requests else 0.0
                        print(
                            f"  round {round_number}, {workers} worker(s): "
                            f"{PATHS[label]:<21} {phase.rate:8.1f} requests/s"
                            f"   CPU ms/request: server {phase.server_cpu * per_request:.2f},"
                            f" load generator {phase.load_cpu * per_request:.2f};"
                            f" server CPU s by process {phase.server_cpu_by_process}"
                        )
                finally:
                    stop(process)
    medians = {}
    for label in PATHS:
        one = [p.rate for p in phases if p.label == label and p.workers == 1]
        two = [p.rate for p in phases if p.label == label and p.workers == 2]
        ratios = [b / a for a, b in zip(one, two, strict=True)]
        medians[label] = statistics.median(ratios)
        print(
            f"{PATHS[label]}: 1 worker (same-run baseline) {statistics.median(one):.1f} requests/s,"
            f" 2 workers {statistics.median(two):.1f} requests/s;"
            f" ratio per round {' '.join(f'{r:.2f}' for r in ratios)},"
            f" median {medians[label]:.2f}"
        )
    print(f"machine: {machine()}; load average at end: {load_average()}")
    print(f"workers 2/1 ratio: {math.sqrt(medians['verify'] * medians['registry']):.2f}")


if __name__ == "__main__":
    main()
