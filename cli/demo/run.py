"""`sdgcities demo`: start the federation, walk through it, show what happened, wait, stop.

Whatever ends the demo (the walk-through with `--exit`, Ctrl-C, SIGTERM or SIGHUP, a failing
step, a node that dies) goes through one `finally`: every node's process group is stopped, then
the temporary folder is removed (a `--data-dir` is kept).
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.text import Text

from sdgcities.cli._program import path_hint, program
from sdgcities.cli.errors import CliError, ExitCode

from .federation import (
    LOOPBACK,
    Federation,
    FederationError,
    PortBusy,
    check_ports_free,
    plan,
)
from .mail_sink import mail_sink
from .samples import COUNTRIES
from .walkthrough import StepFailed, StepResult, Walkthrough

WATCH_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class DemoOptions:
    port_base: int
    exit_after: bool
    data_dir: Path | None


class ConsoleNarrator:
    """What happened, a step at a time, for people (and for the tests that read it)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def heading(self, text: str) -> None:
        self.console.print(Text(text, style="bold"))

    def step(self, result: StepResult) -> None:
        mark, style = ("-", "yellow") if result.skipped else ("✓", "green")
        line = Text(f"{mark} ", style=f"bold {style}")
        line.append(result.title, style="bold")
        line.append(f" ({result.seconds:.1f} s)", style="dim")
        self.console.print(line)
        for detail in result.lines:
            self.console.print(Text(f"    {detail}"))

    def failed(self, title: str, reason: str) -> None:
        line = Text("✗ ", style="bold red")
        line.append(title, style="bold")
        self.console.print(line)
        self.console.print(Text(f"    {reason}", style="red"))

    def lines(self, *texts: str, style: str = "") -> None:
        for text in texts:
            self.console.print(Text(text, style=style))


def run_demo(options: DemoOptions) -> ExitCode:
    started = time.monotonic()
    plans = plan(options.port_base, [(c.code, c.node_name) for c in COUNTRIES])
    # The demo's mail server listens on the port after the last node's.
    mail_port = plans[-1].port + 1
    try:
        check_ports_free([*(p.port for p in plans), mail_port])
    except PortBusy as exc:
        raise CliError(
            f"{exc}: the demo needs ports {plans[0].port} to {mail_port}; "
            "choose others with --port-base",
            ExitCode.USAGE,
        ) from exc
    narrator = ConsoleNarrator(Console(highlight=False, markup=False, soft_wrap=True))
    with _stopped_by_signals():
        root = _data_folder(options.data_dir)
        demo = _Demo(options, narrator, root, started)
        try:
            names = " and ".join(c.name for c in COUNTRIES)
            narrator.heading(
                f"SDG Cities demo: a global node and national nodes for {names}, "
                f"on 127.0.0.1 ports {plans[0].port} to {plans[-1].port}"
            )
            try:
                with (
                    mail_sink(root / "mail", mail_port, on_saved=demo.mail_saved) as sink,
                    Federation.running(root, plans, extra_env=sink.env) as federation,
                ):
                    narrator.lines(
                        f"Mail the nodes send (invitations, password resets) is saved under "
                        f"{sink.folder} (an SMTP server on {LOOPBACK}:{sink.port})"
                    )
                    demo.federation_started = True
                    return demo.walk_and_wait(federation, sink.folder)
            finally:
                if demo.federation_started:
                    narrator.lines("Stopped: every node process has ended.")
        except FederationError as exc:
            raise CliError(f"the federation did not start: {exc}", ExitCode.NOT_VALID) from exc
        except KeyboardInterrupt:
            if demo.waiting:  # the demo's normal end
                return ExitCode.OK
            raise CliError(
                "interrupted before the walk-through ended", ExitCode.NOT_VALID
            ) from None
        finally:
            if options.data_dir is None:
                shutil.rmtree(root, ignore_errors=True)


class _Demo:
    def __init__(
        self, options: DemoOptions, narrator: ConsoleNarrator, root: Path, started: float
    ) -> None:
        self.options = options
        self.narrator = narrator
        self.root = root
        self.started = started
        self.federation_started = False
        self.waiting = False  # the walk-through is done; Ctrl-C is how the demo ends

    def mail_saved(self, path: Path, subject: str) -> None:
        self.narrator.lines(f"  mail saved: {path} ({subject})", style="dim")

    def walk_and_wait(self, federation: Federation, mail_folder: Path) -> ExitCode:
        narrator, options = self.narrator, self.options
        ready = time.monotonic() - self.started
        narrator.step(
            StepResult(
                "Nodes initialised (SQLite, local folders) and serving",
                [f"{node.node_id:<6} {node.url}" for node in federation.nodes],
                ready,
            )
        )
        with httpx.Client(timeout=30.0, follow_redirects=False) as client:
            walkthrough = Walkthrough(
                federation,
                client,
                narrator,
                verifier_folder=self.root / "verifier-bundle",
                mail_folder=mail_folder,
            )
            try:
                walkthrough.run()
            except StepFailed as failure:
                narrator.failed(failure.title, failure.reason)
                if options.data_dir is None:
                    narrator.lines("(run with --data-dir DIR to keep the nodes' logs)")
                else:
                    narrator.lines(f"(the nodes' logs: {self.root}/<node>/serve.log)")
                raise CliError(
                    f"demo step '{failure.title}' failed: {failure.reason}", ExitCode.NOT_VALID
                ) from failure
        elapsed = time.monotonic() - self.started
        narrator.lines(
            "",
            f"Every step gave the expected result: nodes ready in {ready:.1f} s, "
            f"walk-through done {elapsed:.1f} s after the start.",
            style="bold green",
        )
        _show_where(narrator, federation, walkthrough, self.root, kept=options.data_dir is not None)
        if options.exit_after:
            narrator.lines("Stopping the federation (--exit).")
            return ExitCode.OK
        narrator.lines("", "Ready: the federation runs until Ctrl-C.", style="bold")
        self.waiting = True
        while True:
            time.sleep(WATCH_INTERVAL_SECONDS)
            stopped = federation.exited()
            if stopped is not None:
                self.waiting = False
                raise CliError(
                    f"node {stopped.node_id} stopped on its own: {stopped.last_log_line()}",
                    ExitCode.NOT_VALID,
                )


def _show_where(
    narrator: ConsoleNarrator,
    federation: Federation,
    walkthrough: Walkthrough,
    root: Path,
    *,
    kept: bool,
) -> None:
    global_node = federation.global_node
    narrator.lines("", "Open:", style="bold")
    narrator.lines(
        *[f"  web site      {node.url}/en/   ({node.node_id})" for node in federation.nodes],
        *[f"  web registry  {node.url}/en/registry" for node in federation.national],
    )
    narrator.lines(
        f"  registry      {global_node.url}/registry/cities   (the whole federation)",
        *[f"  registry      {node.url}/registry/cities" for node in federation.national],
        *[f"  API docs      {node.url}/docs   ({node.node_id})" for node in federation.nodes],
        f"  trust list    {global_node.url}/federation/trust-list",
    )
    if walkthrough.sign_ins:
        narrator.lines(
            f"Demo sign-ins (password: {walkthrough.sign_ins[0].password}):", style="bold"
        )
        for node in federation.nodes:
            on_node = [s for s in walkthrough.sign_ins if s.node_id == node.node_id]
            if on_node:
                narrator.lines(
                    f"  {node.node_id} node:",
                    *[f"    {s.role:<17} {s.email:<32} at {s.page}" for s in on_node],
                )
        narrator.lines(
            "  (development nodes ask no second factor; a production node has administrators, "
            "the secretariat and committee members enrol one at /en/account/second-factor)",
            style="dim",
        )
    narrator.lines("Administrator tokens (the API docs' Authorize button):", style="bold")
    narrator.lines(*[f"  {node.node_id:<6} {node.admin_token}" for node in federation.nodes])
    if walkthrough.verified:
        sample = walkthrough.verified[0]
        command = program()
        pinned = f"--registry-url {global_node.url} --root-thumbprint {global_node.root_thumbprint}"
        narrator.lines("Verify a certificate yourself, as an investor would:", style="bold")
        narrator.lines(
            f"  {command} verify {pinned} {sample.url}",
            "  or by city, through the global registry of the whole federation:",
            f"  {command} verify {pinned} {sample.expected.locode}",
            "  or download the certificate, sync the offline bundle, and verify offline:",
            f"  curl -sSf -H 'Accept: application/vc+jwt' -o certificate.jwt {sample.url}",
            f"  {command} trust sync {pinned}",
            f"  {command} verify --offline --root-thumbprint {global_node.root_thumbprint} "
            "certificate.jwt",
        )
        hint = path_hint()
        if hint is not None:
            narrator.lines(f"  ({hint})", style="dim")
    where = "kept" if kept else "removed when the demo stops"
    narrator.lines(f"Data and node logs: {root} ({where})", style="dim")


def _data_folder(data_dir: Path | None) -> Path:
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="sdgcities-demo-"))
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise CliError(
            f"--data-dir {data_dir} is not an empty folder: the demo starts new nodes",
            ExitCode.USAGE,
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir.resolve()


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT, even where a shell left it ignored), SIGTERM and SIGHUP end the demo
    through the same clean-up. Once one has arrived the others are ignored, so that a second
    Ctrl-C (or `make` passing the first one on) cannot cut the clean-up short."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        for signum in signals:
            signal.signal(signum, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
