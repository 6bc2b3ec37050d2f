"""The root Typer app: one sub-app per area; heavy imports stay inside commands.

`sdgcities --help` must stay fast (DESIGN target 0.5 s): the modules imported here pull in Typer
and the standard library only; httpx, rich and the credentials library load inside commands.
"""

from __future__ import annotations

import typer

from ._ops import operator_command
from .demo import DEMO_HELP, demo
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
