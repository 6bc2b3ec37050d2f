"""`sdgcities node serve` processes for the multi-process tests, forked from one process per
test worker that has already imported the node.

A `node serve` started from the console script spends about 2.4 s of CPU importing the node
before it serves a request (measured on the two-core machine, 2026-12-07), and the suite starts
well over a hundred of them: on two cores that was minutes of the whole run. Here a
`multiprocessing` fork server imports the node once per test worker; each node is a fork of it
that runs the very command, `sdgcities node serve ARGS`, through the console script's entry
point, with the environment and log file the test gives: a real uvicorn process of its own on
its loopback port, started, signalled and killed like any other. Only the import is shared.

tests/cli/ runs the console script itself (it is what those tests are about), and so does
`sdgcities demo` for its nodes.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TypeAlias

# What every node process imports before it serves; a module missing here is imported in each
# node instead, as before (the fork server ignores a preload that fails).
PRELOADED = ("sdgcities.cli.main", "sdgcities.cli._app", "sdgcities.node.app", "uvicorn")

_forkserver = multiprocessing.get_context("forkserver")
_forkserver.set_forkserver_preload(list(PRELOADED))
_running: set[ServedProcess] = set()


class ServedProcess:
    """A forked `sdgcities ...` process, with the part of `subprocess.Popen`'s interface the
    tests use (`pid`, `poll`, `wait`, `send_signal`, `kill`)."""

    def __init__(self, process: BaseProcess) -> None:
        self._process = process
        self.args = process.name

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def poll(self) -> int | None:
        code = self._process.exitcode
        if code is not None:
            _running.discard(self)
        return code

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self.poll()
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# What the tests start and stop: a forked node, or a command run from the console script.
Process: TypeAlias = "subprocess.Popen[bytes] | ServedProcess"


def start(
    arguments: Sequence[str], *, env: Mapping[str, str], log: Path, errors: Path | None = None
) -> ServedProcess:
    """Run `sdgcities ARGUMENTS` in a fork of the fork server, with exactly `env` as its
    environment, its output appended to `log` and its errors too (or to `errors`)."""
    process = _forkserver.Process(
        target=_run_command,
        args=(list(arguments), dict(env), str(log), str(errors or log)),
        name=f"sdgcities {' '.join(arguments)}",
    )
    process.start()
    served = ServedProcess(process)
    _running.add(served)
    return served


def run(
    arguments: Sequence[str], *, env: Mapping[str, str], folder: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`sdgcities ARGUMENTS` to its end, as `subprocess.run(..., capture_output=True,
    text=True)` answers it; its output and errors are kept in files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    output, errors = folder / f"{uuid.uuid4().hex}.out", folder / f"{uuid.uuid4().hex}.err"
    process = start(arguments, env=env, log=output, errors=errors)
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        raise
    return subprocess.CompletedProcess(
        [process.args],
        code,
        output.read_text(encoding="utf-8", errors="replace"),
        errors.read_text(encoding="utf-8", errors="replace"),
    )


def _run_command(arguments: list[str], env: dict[str, str], log: str, errors: str) -> None:
    os.environ.clear()
    os.environ.update(env)
    # The standard streams on descriptors 0, 1 and 2, as a process of its own has them: uvicorn's
    # worker processes (`--workers N`) inherit standard input by its descriptor number.
    empty = os.open(os.devnull, os.O_RDONLY)
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    error_output = os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for source, target in ((empty, 0), (output, 1), (error_output, 2)):
        os.dup2(source, target)
    for descriptor in (empty, output, error_output):
        os.close(descriptor)
    sys.stdin = open(0, closefd=False)  # the process's standard input for its lifetime
    sys.argv = ["sdgcities", *arguments]
    from sdgcities.cli.main import main

    try:
        main()
    finally:
        # The process ends with os._exit (multiprocessing's), which flushes nothing.
        sys.stdout.flush()
        sys.stderr.flush()


@atexit.register
def _kill_forgotten() -> None:
    """A node a failed test left running must not hold the worker's exit: multiprocessing
    joins every child it started when the worker ends (this runs before that)."""
    for served in list(_running):
        served.kill()
        served.wait(timeout=30)
