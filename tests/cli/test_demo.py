"""`sdgcities demo` through the installed console script: the walk-through, its exit codes, and
that nothing is left running or on disk however it ends (--exit, Ctrl-C, SIGTERM, SIGKILL).

Every run gets its own TMPDIR, so its node processes are the ones whose command line names that
folder, and its temporary data folder must be gone from it afterwards.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sdgcities.cli.demo.federation import (
    LOOPBACK,
    Federation,
    PortBusy,
    check_ports_free,
    plan,
)
from sdgcities.cli.demo.samples import COUNTRIES
from sdgcities.cli.demo.walkthrough import StepFailed, StepResult, Walkthrough

from .conftest import SDGCITIES, clean_environment

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 240.0
EXPECTED_VERIFICATIONS = (
    ("KE-NBO", "silver", "valid"),
    ("KE-MBA", "silver", "suspended"),
    ("KE-KIS", "silver", "valid"),
    ("KE-NBO", "gold", "valid"),
    ("GH-ACC", "silver", "valid"),
    ("GH-KMS", "silver", "revoked"),
)
READY = "Ready: the federation runs until Ctrl-C."


def _port_base() -> int:
    """Four consecutive free loopback ports (three nodes and the mail server; another test
    worker may be choosing too), below Linux's ephemeral range (32768-60999), where every
    outgoing connection takes a port."""
    for _ in range(200):
        base = random.randrange(20_000, 32_000)
        try:
            check_ports_free([base, base + 1, base + 2, base + 3])
        except (OSError, PortBusy):
            continue
        return base
    raise AssertionError("no four consecutive free ports")


@dataclass
class Demo:
    """One `sdgcities demo` process and what it printed."""

    tmp: Path
    port_base: int
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def ports(self) -> list[int]:
        return [self.port_base, self.port_base + 1, self.port_base + 2, self.port_base + 3]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SDGCITIES), "demo", "--port-base", str(self.port_base), *args],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def start(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(SDGCITIES), "demo", "--port-base", str(self.port_base), *args],
            env=self.env,
            cwd=self.tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = RUN_TIMEOUT) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None and not self._reading():
                pytest.fail(f"the demo ended before printing {text!r}: {self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} within {timeout} s: {self.output()}")
            time.sleep(0.1)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """The exit code and stderr, once the process has ended."""
        assert self.process is not None
        assert self.process.stderr is not None
        code = self.process.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=10)
        return code, self.process.stderr.read()

    def _reading(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def node_processes(self) -> list[int]:
        """Processes whose command line names this run's temporary folder: its nodes."""
        marker = str(self.tmp / "tmp").encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # ended meanwhile, or not ours to read
                continue
        return found

    def assert_nothing_left(self) -> None:
        deadline = time.monotonic() + 20
        while self.node_processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert self.node_processes() == []
        check_ports_free(self.ports)
        assert list((self.tmp / "tmp").iterdir()) == [], "the temporary data folder is left"

    def kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=30)
            if self._reader is not None:
                self._reader.join(timeout=10)
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()
        for pid in self.node_processes():  # only this run's nodes (see node_processes)
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "tmp").mkdir()
    env = clean_environment(home)
    env["TMPDIR"] = str(tmp_path / "tmp")
    # As on a fresh clone: the console script is in .venv/bin, which is not on the PATH.
    env["PATH"] = os.pathsep.join(
        part
        for part in env.get("PATH", "").split(os.pathsep)
        if not (Path(part) / "sdgcities").exists()
    )
    started = Demo(tmp_path, _port_base(), env)
    try:
        yield started
    finally:
        started.kill()


def test_demo_exit_walks_through_every_step_and_leaves_nothing(demo: Demo) -> None:
    done = demo.run("--exit")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert "Every step gave the expected result" in out
    for locode, level, status in EXPECTED_VERIFICATIONS:
        assert re.search(rf"{locode} \S+ +{level} +{status} +\(as expected\)", out), locode
    assert "KE-MBA: silver certificate suspended" in out
    assert "GH-KMS: silver certificate revoked" in out
    assert "GH-KMS: USD 1,500.00 silver fee (lower-middle income) waived" in out
    assert "KE-NBO: USD 1,500.00 silver fee invoiced and paid" in out
    assert re.search(
        r"GH fee report, lower-middle income: 2 applications, .* USD 1,500.00 waived", out
    )
    assert re.search(r"registry: urn:uuid:\S+ renews urn:uuid:\S+, valid from \d{4}-", out)
    assert f"trust list    http://{LOOPBACK}:{demo.port_base}/federation/trust-list" in out
    assert (
        f"http://{LOOPBACK}:{demo.port_base + 1}/registry/cities: Kisumu silver, Nairobi gold"
        in out
    )
    assert f"API docs      http://{LOOPBACK}:{demo.port_base + 2}/docs" in out
    assert f"(an SMTP server on {LOOPBACK}:{demo.port_base + 3})" in out
    # The root thumbprint the global node printed is the one the verification pinned.
    thumbprint = re.search(r"root key thumbprint ([A-Za-z0-9_-]{43})", out)
    assert thumbprint is not None
    assert f"--root-thumbprint {thumbprint.group(1)} " in out
    ready = re.search(r"nodes ready in ([0-9.]+) s", out)
    assert ready is not None
    print(f"demo: nodes ready in {ready.group(1)} s")  # the start-up figure, with pytest -s
    assert "Stopped: every node process has ended." in out
    assert READY not in out
    demo.assert_nothing_left()


def test_a_busy_port_is_a_one_line_usage_error(demo: Demo) -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, demo.port_base + 1))
        taken.listen()
        done = demo.run("--exit")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: port {demo.port_base + 1} on {LOOPBACK} is already in use: the demo needs "
        f"ports {demo.port_base} to {demo.port_base + 3}; choose others with --port-base\n"
    )
    demo.assert_nothing_left()


def test_a_data_dir_that_is_not_empty_is_refused(demo: Demo) -> None:
    data = demo.tmp / "data"
    data.mkdir()
    (data / "node.db").write_text("someone's data")

    done = demo.run("--exit", "--data-dir", str(data))

    assert done.returncode == 2
    assert done.stderr.startswith(f"error: --data-dir {data} is not an empty folder")
    assert [p.name for p in data.iterdir()] == ["node.db"]


def _printed_web_addresses(lines: list[str]) -> list[str]:
    return [
        found.group(1)
        for line in lines
        if (found := re.match(r"  web (?:site|registry) +(http://\S+)", line))
    ]


def _printed_sign_ins(lines: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """The demo password and each printed (email, sign-in page)."""
    header = next(line for line in lines if line.startswith("Demo sign-ins (password: "))
    password = header.removeprefix("Demo sign-ins (password: ").removesuffix("):")
    sign_ins = [
        (found.group(1), found.group(2))
        for line in lines
        if (found := re.match(r"  [a-z ]+? +(\S+@\S+) +at (http://\S+/sign-in)$", line))
    ]
    return password, sign_ins


def _sign_in(page: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        form = browser.get(page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        return browser.post(
            page, data={"csrf_token": token.group(1), "email": email, "password": password}
        )


def test_ctrl_c_after_ready_stops_every_node(demo: Demo) -> None:
    demo.start()
    demo.wait_for(READY)
    assert demo.node_processes(), "the nodes should be running while the demo waits"

    _the_printed_commands_work(demo)
    # While it waits, the printed web addresses answer and the printed sign-ins work.
    addresses = _printed_web_addresses(demo.lines)
    assert f"http://{LOOPBACK}:{demo.port_base}/en/" in addresses
    assert f"http://{LOOPBACK}:{demo.port_base + 1}/en/registry" in addresses
    for address in addresses:
        assert httpx.get(address, timeout=30).status_code == 200, address
    password, sign_ins = _printed_sign_ins(demo.lines)
    # Every kind of person of the cycle, on the node they work on.
    kenya, global_node = (f"http://{LOOPBACK}:{demo.port_base + n}/en/sign-in" for n in (1, 0))
    assert sorted(sign_ins) == sorted(
        [
            *[
                (f"{who}@ke.example.org", kenya)
                for who in (
                    "secretariat",
                    "admin",
                    "reviewer1",
                    "reviewer2",
                    "civil_society",
                    "ke-nbo",
                )
            ],
            ("secretariat@global.example.org", global_node),
            ("chair@global.example.org", global_node),
        ]
    )
    for email, page in sign_ins:
        signed_in = _sign_in(page, email, password)
        assert signed_in.status_code == 303, (email, signed_in.text[-2000:])
        assert "/sign-in" not in signed_in.headers["location"]
    refused = _sign_in(sign_ins[0][1], sign_ins[0][0], password + " wrong")
    assert refused.status_code == 400

    assert demo.process is not None
    demo.process.send_signal(signal.SIGINT)
    code, stderr = demo.finish()

    assert code == 0, stderr
    assert demo.lines[-1] == "Stopped: every node process has ended."
    demo.assert_nothing_left()


def _the_printed_commands_work(demo: Demo) -> None:
    """Each command under "Verify a certificate yourself" runs as printed, in a shell whose PATH
    lacks the console script, and answers "valid"."""
    start = next(i for i, line in enumerate(demo.lines) if line.startswith("Verify a certificate"))
    commands = [
        line.strip()
        for line in demo.lines[start + 1 :]
        if line.startswith("  ") and not line.startswith(("  or ", "  ("))
    ]
    commands = commands[: next(i for i, c in enumerate(commands) if "--offline" in c) + 1]
    assert len(commands) == 5, commands
    assert commands[0].startswith(str(SDGCITIES)), "not on the PATH: the full path is printed"
    hint = next(line for line in demo.lines[start:] if line.startswith("  ("))
    assert f"`. {SDGCITIES.parent / 'activate'}` puts it there" in hint
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command],
            env=demo.env,
            cwd=demo.tmp,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr}"
    assert (demo.tmp / "certificate.jwt").read_text().startswith("ey")


def test_sigterm_during_the_walk_through_stops_every_node_and_fails(demo: Demo) -> None:
    demo.start("--exit")
    demo.wait_for("Nodes initialised")

    assert demo.process is not None
    demo.process.send_signal(signal.SIGTERM)
    code, stderr = demo.finish()

    assert code == 1
    assert stderr == "error: interrupted before the walk-through ended\n"
    demo.assert_nothing_left()


def test_nodes_end_with_the_demo_even_when_it_is_killed(demo: Demo) -> None:
    # Killed during the walk-through: the nodes are the same processes as after it, and the
    # walk-through's half a minute on a loaded machine tells nothing more here.
    demo.start()
    demo.wait_for("Nodes initialised")

    assert demo.process is not None
    demo.process.kill()  # no clean-up in the demo: the kernel tells the nodes (PDEATHSIG)
    demo.process.wait(timeout=30)

    deadline = time.monotonic() + 30
    while demo.node_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert demo.node_processes() == []
    check_ports_free(demo.ports)


def test_a_node_that_dies_while_the_demo_runs_ends_it_with_an_error(demo: Demo) -> None:
    demo.start()
    demo.wait_for(READY)
    (ke,) = [pid for pid in demo.node_processes() if b"/ke\x00" in _cmdline(pid)]

    os.kill(ke, signal.SIGKILL)
    code, stderr = demo.finish()

    assert code == 1
    assert stderr.startswith("error: node KE stopped on its own: ")
    assert stderr.count("\n") == 1
    demo.assert_nothing_left()


def test_a_failing_step_is_named(tmp_path: Path) -> None:
    """The walk-through as a library: a national node gone before it joins fails the join step."""
    plans = plan(_port_base(), [(c.code, c.node_name) for c in COUNTRIES])
    shown: list[StepResult] = []

    class Collect:
        def step(self, result: StepResult) -> None:
            shown.append(result)

    with Federation.running(tmp_path, plans) as federation, httpx.Client(timeout=30) as client:
        ghana = federation.node("GH")
        assert ghana.process is not None
        ghana.process.terminate()
        ghana.process.wait(timeout=30)
        walkthrough = Walkthrough(
            federation, client, Collect(), verifier_folder=tmp_path / "bundle"
        )
        with pytest.raises(StepFailed) as failed:
            walkthrough.run()

    assert (
        failed.value.title == "National nodes join the federation; the global secretariat approves"
    )
    assert "ConnectError" in failed.value.reason or "refused" in failed.value.reason
    assert [result.title for result in shown] == [
        "Global node: the secretariat and a committee member"
    ]
    assert all(not node.running() for node in federation.nodes)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes() + b"\x00"
    except OSError:
        return b""
