"""`sdgcities`: one root Typer app, one sub-app per area; heavy imports stay inside commands."""

from __future__ import annotations

import sys

import typer

from .errors import CliError, ExitCode
from .node import node_app

app = typer.Typer(
    name="sdgcities",
    help=(
        "SDG Cities certification federation: run a node, administer it, verify certificates.\n\n"
        "Exit codes: 0 success (or a valid certificate); 1 failure (or not valid); "
        "2 usage error; 3 cannot decide (trust data or status list unreachable or stale)."
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(node_app, name="node")


def main() -> None:
    """Console-script entry point: the one error boundary, a one-line reason and an exit code."""
    try:
        app(standalone_mode=False)
    except CliError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(ExitCode.NOT_VALID)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:  # the boundary: a reason, never a traceback
        import click

        if isinstance(error, click.exceptions.UsageError):
            error.show()
            sys.exit(ExitCode.USAGE)
        if isinstance(error, click.exceptions.ClickException):
            error.show()
            sys.exit(ExitCode.NOT_VALID)
        typer.echo(f"error: {type(error).__name__}: {error}", err=True)
        sys.exit(ExitCode.NOT_VALID)
