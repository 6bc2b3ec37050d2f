"""What the operator commands share: connection options, the API client, tables and `--json`.

Imported when `sdgcities --help` runs, so only Typer and the standard library load here; httpx
and rich load inside `connect` and `emit`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._config import NODE_URL_ENV, TOKEN_ENV
from .errors import CliError, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from ._api import NodeApi

NodeUrl = Annotated[
    str | None,
    typer.Option(
        "--node-url",
        envvar=NODE_URL_ENV,
        help="The node's base URL. Default: node_url in the config file.",
        show_default=False,
    ),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help=(
            f"A file holding the bearer token (mode 600). Default: ${TOKEN_ENV}, else token in "
            "the config file. Never pass the token itself on the command line."
        ),
        show_default=False,
    ),
]
Reason = Annotated[
    str, typer.Option("--reason", help="Why (kept in the record).", show_default=False)
]
Yes = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]

OPERATOR_EXIT_CODES = (
    "Exit codes: 0 done; 1 the node refused (its reason is printed: a 4xx answer, a bad token) "
    "or failed; 2 usage error (bad option, no node URL or token); 3 the node could not be "
    "reached (refused connection, timeout, or a 502/503/504 from a proxy): trying again may help."
)


def connect(*, node_url: str | None, token_file: Path | None, config: Path | None) -> NodeApi:
    from ._api import NodeApi
    from ._config import resolve_connection

    connection = resolve_connection(config=config, node_url=node_url, token_file=token_file)
    return NodeApi(connection.node_url, connection.token)


Row = Sequence[object]


def emit(
    document: Any,
    *,
    json_output: bool,
    render: Callable[[Console], None],
) -> None:
    """`document` as one JSON document on stdout with `--json`; else `render` it for people."""
    if json_output:
        from ._ui import write_json

        write_json(document)
        return
    from ._ui import stdout_console

    render(stdout_console())


def table(title: str | None, columns: Sequence[str], rows: Sequence[Row]) -> Any:
    """A rich table of plain text: what a server says is never read as markup."""
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell_text(cell)) for cell in row))
    return grid


def fields(title: str, pairs: Sequence[tuple[str, object]]) -> Any:
    """A two-column table: one record, field by field."""
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for name, value in pairs:
        grid.add_row(Text(name), Text(cell_text(value)))
    return grid


def cell_text(value: object) -> str:
    from ._ui import printable

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v) for v in value) or "—"
    text = str(value)
    # ISO timestamps from the API, shortened to the minute for reading.
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":
        text = text[:16].replace("T", " ")
    return printable(text, limit=200)


def say(message: str) -> None:
    """A line for people on stderr, so stdout carries only the answer."""
    typer.echo(message, err=True)


def confirm(question: str, *, yes: bool) -> None:
    """Ask before what cannot be undone; without a terminal, `--yes` is required."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"{question} Pass --yes to confirm.", ExitCode.USAGE)
    if not typer.confirm(question, default=False, err=True):
        raise typer.Abort


def every_page(api: NodeApi, path: str, *, limit: int = 500, **params: Any) -> dict[str, Any]:
    """A paged listing (`offset`/`limit`, `{data, count}`) read to its end."""
    data: list[Any] = []
    while True:
        page = api.get(path, offset=len(data), limit=limit, **params)
        data += page["data"]
        if not page["data"] or len(data) >= page["count"]:
            return {"data": data, "count": page["count"]}
