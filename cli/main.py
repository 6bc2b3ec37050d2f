"""`sdgcities`: the console script's entry point and its one error boundary.

The commands are the Typer app of `_app.py`. An offline batch (`verify --batch FILE --offline`)
whose arguments `_batch_args` reads as Typer would is run without it: Typer 0.29 imports pydantic
and builds a converter per option, a fixed cost of about a quarter of a second before the first
certificate, and a batch is what a script runs again and again.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .errors import CliError, ExitCode, one_line

# The top-level modules that `pip install 'sdgcities[node]'` adds to the base install (the
# verifier and the investor commands). A command that needs one of them on a base install says
# which extra to install instead of showing an import error.
NODE_EXTRA_MODULES = frozenset(
    {
        "aiosmtpd",
        "alembic",
        "argon2",
        "babel",
        "email_validator",
        "fastapi",
        "fastapi_offline",
        "fpdf",
        "httptools",
        "icalendar",
        "jinja2",
        "multipart",
        "psycopg",
        "pydantic",
        "pydantic_settings",
        "pyotp",
        "python_multipart",
        "segno",
        "sqlalchemy",
        "sqlmodel",
        "starlette",
        "uharfbuzz",
        "uvicorn",
        "uvloop",
    }
)
NODE_EXTRA_HINT = (
    "this command runs or manages a node: install it with pip install 'sdgcities[node]'"
)


def main() -> None:
    """Console-script entry point: the one error boundary, a one-line reason and an exit code."""
    try:
        code = _run(sys.argv[1:])
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in NODE_EXTRA_MODULES:
            raise
        _echo_error(f"error: {NODE_EXTRA_HINT} (missing module {error.name})")
        sys.exit(ExitCode.USAGE)
    except CliError as error:
        _echo_error(f"error: {one_line(error)}")
        sys.exit(error.exit_code)
    except KeyboardInterrupt:  # raised outside Click's own handling
        _echo_error("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as error:  # the boundary: a reason, never a traceback
        # Click's exceptions (Typer vendors Click from 0.26 on, so match by shape, not class):
        # a usage error has exit_code 2, any other one 1.
        if callable(getattr(error, "format_message", None)):
            usage = getattr(error, "exit_code", 1) == ExitCode.USAGE
            where = _command_path(error)
            hint = f" (see '{where} --help')" if usage and where else ""
            message = one_line(error.format_message())  # type: ignore[attr-defined]
            if message:  # empty after a help page shown for a command given no arguments
                _echo_error(f"error: {message}{hint}")
            sys.exit(ExitCode.USAGE if usage else ExitCode.NOT_VALID)
        _echo_error(f"error: {type(error).__name__}: {one_line(error)}")
        sys.exit(ExitCode.NOT_VALID)
    if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into a silent 130: say why
        _echo_error("interrupted")
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


def _run(args: list[str]) -> Any:
    """The command's exit code: an offline batch run directly when `_batch_args` reads its
    arguments, anything else through the Typer app."""
    from ._batch_args import batch_request

    request = batch_request(args, os.environ)
    if request is not None:
        from ._verify import run_verify

        return int(run_verify(request))
    import typer

    from ._app import app

    try:
        # Outside standalone mode Typer returns what `typer.Exit` carried (0 after --help).
        return app(standalone_mode=False)
    except typer.Abort:
        _echo_error("aborted")
        sys.exit(ExitCode.NOT_VALID)
    except typer.Exit as done:
        sys.exit(done.exit_code)


def _echo_error(message: str) -> None:
    # Typer's echo (Click's: styles stripped where stderr is not a terminal), imported only
    # when there is something to say, so that an offline batch never imports Typer.
    from typer import echo

    echo(message, err=True)


def __getattr__(name: str) -> Any:
    # `app` is imported on first use (tests and `typer` tooling read `sdgcities.cli.main.app`).
    if name == "app":
        from ._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command_path(error: Exception) -> str | None:
    context = getattr(error, "ctx", None)
    path = getattr(context, "command_path", None)
    return path if isinstance(path, str) else None
