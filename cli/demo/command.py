"""The `sdgcities demo` command: options and help only (the demo's modules load when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEMO_HELP = "\n\n".join(
    (
        "Start a local federation and walk it through a certification cycle.",
        "A global node and national nodes for Kenya and Ghana start on 127.0.0.1 (SQLite, local "
        "folders); the national frameworks are adapted and endorsed; cities apply, are reviewed "
        "and certified by their committees (silver, and gold for Nairobi); one certificate is "
        "suspended and one revoked; every certificate is then verified as 'sdgcities verify' "
        "does. The federation keeps running until Ctrl-C, unless --exit is given.",
        "Exit codes:\n"
        "  0  every step gave the expected result (and, without --exit, stopped by Ctrl-C)\n"
        "  1  a step failed (named on stderr), a node did not start or stopped on its own, or "
        "the demo was interrupted before the walk-through ended\n"
        "  2  usage error: a bad option, a port of --port-base N to N+3 already in use, or a "
        "--data-dir that is not an empty folder",
    )
)


def demo(
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            min=1024,
            max=65532,
            help="The global node listens on this port, the national nodes on the next two, "
            "the demo's mail server on the one after.",
        ),
    ] = 8700,
    exit_after: Annotated[
        bool,
        typer.Option(
            "--exit",
            help="Stop after the walk-through: exit 0 only if every step went as expected.",
        ),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Keep the nodes' data and logs in this (new or empty) folder; by default a "
            "temporary folder, removed when the demo stops.",
            show_default=False,
        ),
    ] = None,
) -> None:
    from .run import DemoOptions, run_demo

    code = run_demo(DemoOptions(port_base=port_base, exit_after=exit_after, data_dir=data_dir))
    raise typer.Exit(int(code))
