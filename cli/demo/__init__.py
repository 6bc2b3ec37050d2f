"""`sdgcities demo`: a local federation walked through a certification cycle.

`federation` starts and stops the nodes, `walkthrough` takes the steps through their HTTP API
(both usable from tests), `run` is the command's body. Importing this package loads Typer only,
so that `sdgcities --help` stays fast.
"""

from .command import DEMO_HELP, demo

__all__ = ["DEMO_HELP", "demo"]
