"""Fixtures for the CLI tests: the installed console script, a test federation, a local server.

Commands run through the real console script (`.venv/bin/sdgcities`) in a subprocess, with a
home, config and data folder of their own and no proxy or SDGCITIES_* variable from outside.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .federation import LIST_IDS, TestFederation
from .static_federation import StaticFederation

SDGCITIES = Path(sys.executable).parent / "sdgcities"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Cli:
    """Runs `sdgcities` in `cwd` with `env`; `pin` is set unless a test removes it."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60) -> Result:
        done = subprocess.run(
            [str(SDGCITIES), *args],
            cwd=self.cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def run_with_terminal(self, *args: str, timeout: float = 60) -> tuple[int, str, str]:
        """Run with stderr on a pseudo-terminal (where progress bars go): code, stdout, stderr."""
        leader, follower = pty.openpty()
        try:
            done = subprocess.run(
                [str(SDGCITIES), *args],
                cwd=self.cwd,
                env={**self.env, "TERM": "xterm"},
                stdout=subprocess.PIPE,
                stderr=follower,
                timeout=timeout,
                check=False,
            )
        finally:
            os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        return done.returncode, done.stdout.decode(), b"".join(chunks).decode(errors="replace")


def clean_environment(home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SDGCITIES_") and "proxy" not in name.lower()
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        COLUMNS="120",
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def fed() -> TestFederation:
    return TestFederation()


@pytest.fixture
def cli(tmp_path: Path, fed: TestFederation) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_environment(home)
    env["SDGCITIES_ROOT_THUMBPRINT"] = fed.pin
    return Cli(cwd=tmp_path, env=env)


@pytest.fixture
def static_federation() -> Iterator[StaticFederation]:
    server = StaticFederation().start()
    yield server
    server.stop()


@pytest.fixture
def online(static_federation: StaticFederation, cli: Cli) -> TestFederation:
    """A federation whose node KE is served at {server}/ke and whose registry is the server."""
    fed = TestFederation(base_url=f"{static_federation.url}/ke")
    cli.env["SDGCITIES_ROOT_THUMBPRINT"] = fed.pin
    cli.env["SDGCITIES_REGISTRY_URL"] = static_federation.url
    publish(static_federation, fed)
    return fed


def publish(
    server: StaticFederation,
    fed: TestFederation,
    *,
    sequence: int = 5,
    lists_signed_ago: timedelta = timedelta(hours=1),
) -> None:
    """Serve the trust list, KE's status-list index and both lists, as they are now."""
    server.serve(
        "/federation/trust-list",
        fed.trust_list(sequence=sequence),
        content_type="application/trust-list+jwt",
    )
    index = {
        "lists": [
            {"id": n, "purpose": "message", "url": fed.list_url(n), "validUntil": "later"}
            for n in LIST_IDS
        ]
    }
    server.serve("/ke/status", json.dumps(index))
    for list_id in LIST_IDS:
        server.serve(
            f"/ke/status/{list_id}",
            fed.status_list(list_id, signed_ago=lists_signed_ago),
            content_type="application/vc+jwt",
        )
