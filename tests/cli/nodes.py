"""Real node processes for the operator command tests: `node init`, then `node serve` on a free
loopback port, stopped with SIGTERM at the end (as tests/integration/test_onboarding.py).

Both commands run forked from a process that has imported the node (tests/served.py): these
tests are about the operator commands, which run from the console script; test_node_setup.py
runs `node init` and `node serve` themselves that way."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from .. import served
from ..integration.harness import stop_process, wait_healthy
from ..served import ServedProcess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_environment(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SDGCITIES_") and "proxy" not in k.lower()
    }
    env["SDGCITIES_DATA_DIR"] = str(data_dir)
    return env


@dataclass
class Node:
    """A node's data folder and, once served, its process and URL."""

    data_dir: Path
    port: int
    init: dict[str, str]
    process: ServedProcess | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_token(self) -> str:
        return self.init["admin_token"]

    def add_env(self, **values: str) -> None:
        with (self.data_dir / "node.env").open("a", encoding="utf-8") as env:
            for name, value in values.items():
                env.write(f"SDGCITIES_{name}={value}\n")

    def serve(self) -> Node:
        log = self.data_dir / "serve.log"
        self.process = served.start(
            ["node", "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=node_environment(self.data_dir),
            log=log,
        )
        wait_healthy(self.url, self.process, log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def init_node(data_dir: Path, node_id: str, *extra: str) -> Node:
    port = free_port()
    done = served.run(
        [
            *("node", "init", "--data-dir", str(data_dir), "--node-id", node_id),
            *("--base-url", f"http://127.0.0.1:{port}", "--json", *extra),
        ],
        env=node_environment(data_dir),
        folder=data_dir.parent / f"{data_dir.name}-init",
    )
    assert done.returncode == 0, done.stderr
    return Node(data_dir, port, json.loads(done.stdout))
