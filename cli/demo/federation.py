"""A local federation for the demo and the tests: a global node and national nodes on loopback.

Each node is initialised in this process (`node_init.initialise_node`, what `sdgcities node init`
runs: doing it here saves a Python start-up per node) and then served by its own
`sdgcities node serve` process. Those processes start in a new session, so each is the leader of
its own process group: Ctrl-C in the terminal reaches only the demo, which then stops every group
itself (SIGTERM, then SIGKILL after a grace period). On Linux each node also asks the kernel for
a SIGTERM if the demo dies without stopping it (`PR_SET_PDEATHSIG`), so nothing outlives it.

The nodes see no `SDGCITIES_*` variable of the caller's and run in their own folders (no stray
`.env`): the demo always uses the embedded defaults, SQLite and local folders.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
GLOBAL = "global"
STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0
# Every demo node's settings beyond `node init`'s. The renewal window opens longer before a
# certificate's end than the 180 days a ministry keeps (the stages certify for three years), so
# that the walk-through can renew a certificate issued minutes earlier.
DEMO_NODE_SETTINGS = {"SDGCITIES_RENEWAL_WINDOW_DAYS": "1200"}


class FederationError(Exception):
    """The federation could not be started (a node exited, or did not answer in time)."""


class PortBusy(FederationError):
    def __init__(self, port: int) -> None:
        super().__init__(f"port {port} on {LOOPBACK} is already in use")
        self.port = port


@dataclass(frozen=True, slots=True)
class NodePlan:
    node_id: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


@dataclass
class Node:
    """An initialised node: where it lives, its first administrator's token, its process."""

    plan: NodePlan
    data_dir: Path
    did: str
    admin_token: str
    root_thumbprint: str | None = None  # the global node's root key, what verifiers pin
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def node_id(self) -> str:
        return self.plan.node_id

    @property
    def url(self) -> str:
        return self.plan.url

    @property
    def log_path(self) -> Path:
        return self.data_dir / "serve.log"

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "no log"
        meaningful = [line.strip() for line in lines if line.strip()]
        return meaningful[-1] if meaningful else "no log"


def plan(port_base: int, national: Sequence[tuple[str, str]]) -> list[NodePlan]:
    """The global node on `port_base`, the national nodes `(id, name)` on the ports after it."""
    nodes = [NodePlan(GLOBAL, "SDG Cities global node", port_base)]
    nodes += [
        NodePlan(node_id, name, port_base + n) for n, (node_id, name) in enumerate(national, 1)
    ]
    return nodes


def check_ports_free(ports: Sequence[int]) -> None:
    """`PortBusy` for the first port a server could not listen on (as uvicorn binds: with
    SO_REUSEADDR, so a port in TIME_WAIT counts as free)."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((LOOPBACK, port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise PortBusy(port) from exc
                raise


class Federation:
    """The nodes of one demo run; `stop()` (or leaving `running(...)`) ends every process."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = list(nodes)

    @property
    def global_node(self) -> Node:
        return self.nodes[0]

    @property
    def national(self) -> list[Node]:
        return self.nodes[1:]

    def node(self, node_id: str) -> Node:
        return next(node for node in self.nodes if node.node_id == node_id)

    @classmethod
    def initialise(
        cls, root: Path, plans: Sequence[NodePlan], *, extra_env: Mapping[str, str] | None = None
    ) -> Federation:
        """Initialise every node in `root/<node id>`; national nodes pin the global root key and
        know the global node's URL (in their `node.env`, so the folders can be served again).
        `extra_env`: more settings for every node (the demo's mail server)."""
        from sdgcities.cli.node_init import initialise_node

        nodes = []
        with _isolated(root):
            for node_plan in plans:
                data_dir = root / node_plan.node_id.lower()
                result = initialise_node(
                    data_dir=data_dir,
                    node_id=node_plan.node_id,
                    name=node_plan.name,
                    base_url=node_plan.url,
                    database_url=None,
                    admin_email="admin@example.org",
                    admin_name=f"{node_plan.node_id} administrator",
                )
                nodes.append(
                    Node(
                        plan=node_plan,
                        data_dir=data_dir,
                        did=result["did"],
                        admin_token=result["admin_token"],
                        root_thumbprint=result.get("root_thumbprint"),
                    )
                )
        federation = cls(nodes)
        root_jwk = json.loads((federation.global_node.data_dir / "root-key.json").read_text())
        for node in federation.nodes:
            with (node.data_dir / "node.env").open("a", encoding="utf-8") as node_env:
                node_env.writelines(
                    f"{name}={value}\n"
                    for name, value in {**DEMO_NODE_SETTINGS, **(extra_env or {})}.items()
                )
        for node in federation.national:
            with (node.data_dir / "node.env").open("a", encoding="utf-8") as env:
                env.write(f"SDGCITIES_ROOT_KEYS={json.dumps([root_jwk])}\n")
                env.write(f"SDGCITIES_GLOBAL_URL={federation.global_node.url}\n")
        return federation

    def start(self) -> None:
        """Start every node's server, then wait until each answers `/healthz`."""
        for node in self.nodes:
            node.process = _serve(node)
        self.wait_ready()

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        waiting = list(self.nodes)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while waiting:
                for node in list(waiting):
                    if not node.running():
                        raise FederationError(
                            f"node {node.node_id} exited on start: {node.last_log_line()}"
                        )
                    with suppress(httpx.HTTPError):
                        if client.get(f"{node.url}/healthz").status_code == 200:
                            waiting.remove(node)
                if not waiting:
                    return
                if time.monotonic() > deadline:
                    names = ", ".join(node.node_id for node in waiting)
                    raise FederationError(f"node(s) {names} did not answer within {timeout:.0f} s")
                time.sleep(0.1)

    def exited(self) -> Node | None:
        """A node whose process has ended, if any."""
        return next((node for node in self.nodes if node.process and not node.running()), None)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM to every node's process group, SIGKILL to those still there after `grace`."""
        started = [node.process for node in self.nodes if node.process is not None]
        for process in started:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        try:
            for process in started:
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()
        except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
            for process in started:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            raise

    @classmethod
    @contextmanager
    def running(
        cls, root: Path, plans: Sequence[NodePlan], *, extra_env: Mapping[str, str] | None = None
    ) -> Iterator[Federation]:
        """Initialised and started; stopped on leaving, whatever happened (Ctrl-C included)."""
        federation = cls.initialise(root, plans, extra_env=extra_env)
        try:
            federation.start()
            yield federation
        finally:
            federation.stop()


def _serve(node: Node) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
    command = [
        *_sdgcities_command(),
        "node",
        "serve",
        "--data-dir",
        str(node.data_dir),
        "--host",
        LOOPBACK,
        "--port",
        str(node.plan.port),
    ]
    with node.log_path.open("ab") as log:
        # The command is this installation's own console script with arguments we built.
        return subprocess.Popen(  # noqa: S603
            command,
            cwd=node.data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def _sdgcities_command() -> list[str]:
    """The installed console script beside this Python, else this Python running the CLI."""
    script = Path(sys.executable).with_name("sdgcities")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from sdgcities.cli.main import main; main()"]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the demo's process ends, however it ends."""
    import ctypes

    pr_set_pdeathsig = 1
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    # The node leads its own group (start_new_session), so its pid is the group id.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


@contextmanager
def _isolated(folder: Path) -> Iterator[None]:
    """Node settings read only what the demo gives: no `SDGCITIES_*` variable of the caller's,
    and no `.env` file from the current folder."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SDGCITIES_")}
    cwd = Path.cwd()
    for name in saved:
        del os.environ[name]
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.update(saved)
