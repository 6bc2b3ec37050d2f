"""`sdgcities`: one root Typer app, one sub-app per area; heavy imports stay inside commands.

`sdgcities --help` must stay fast (DESIGN target 0.5 s): the modules imported here pull in Typer
and the standard library only; httpx, rich and the credentials library load inside commands.
"""

from __future__ import annotations

import sys

import typer

from ._ops import operator_command
from .demo import DEMO_HELP, demo
from .errors import CliError, ExitCode, one_line
from .federation import federation_app
from .frameworks import frameworks_app
from .meetings import meetings_app
from .node import node_app
from .spot_checks import spot_checks_app
from .trust import trust_app
from .users import tokens_app, users_app, who_am_i
from .verify import VERIFY_HELP, verify

app = typer.Typer(
    name="sdgcities",
    help=(
        "SDG Cities certification federation: run a node, administer it, verify certificates.\n\n"
        "Exit codes: 0 success (or a valid certificate); 1 failure (or not valid); "
        "2 usage error; 3 cannot decide (trust data or status list unreachable or stale); "
        "130 interrupted (Ctrl-C)."
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(node_app, name="node")
app.command("verify", help=VERIFY_HELP)(verify)
app.add_typer(trust_app, name="trust")
app.command("demo", help=DEMO_HELP)(demo)
# The operator commands: they talk to a node's API with a bearer token.
operator_command(app, "me")(who_am_i)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(frameworks_app, name="frameworks")
app.add_typer(meetings_app, name="meetings")
app.add_typer(federation_app, name="federation")
app.add_typer(spot_checks_app, name="spot-checks")


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
        # Outside standalone mode Typer returns what `typer.Exit` carried (0 after --help).
        code = app(standalone_mode=False)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in NODE_EXTRA_MODULES:
            raise
        typer.echo(f"error: {NODE_EXTRA_HINT} (missing module {error.name})", err=True)
        sys.exit(ExitCode.USAGE)
    except CliError as error:
        typer.echo(f"error: {one_line(error)}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:  # raised outside Click's own handling
        typer.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(ExitCode.NOT_VALID)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:  # the boundary: a reason, never a traceback
        # Click's exceptions (Typer vendors Click from 0.26 on, so match by shape, not class):
        # a usage error has exit_code 2, any other one 1.
        if callable(getattr(error, "format_message", None)):
            usage = getattr(error, "exit_code", 1) == ExitCode.USAGE
            where = _command_path(error)
            hint = f" (see '{where} --help')" if usage and where else ""
            message = one_line(error.format_message())  # type: ignore[attr-defined]
            if message:  # empty after a help page shown for a command given no arguments
                typer.echo(f"error: {message}{hint}", err=True)
            sys.exit(ExitCode.USAGE if usage else ExitCode.NOT_VALID)
        typer.echo(f"error: {type(error).__name__}: {one_line(error)}", err=True)
        sys.exit(ExitCode.NOT_VALID)
    if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into a silent 130: say why
        typer.echo("interrupted", err=True)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


def _command_path(error: Exception) -> str | None:
    context = getattr(error, "ctx", None)
    path = getattr(context, "command_path", None)
    return path if isinstance(path, str) else None
