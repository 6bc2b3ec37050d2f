"""What the operator commands share: connection options, the API client, tables and `--json`.

Every operator command is registered with `operator_command`, which gives it the four options
that say which node to ask, as whom, and how to answer (`--node-url`, `--token-file`, `--config`,
`--json`), and hands the command one `Target` built from them.

Imported when `sdgcities --help` runs, so only Typer and the standard library load here; httpx
and rich load inside `Target.connect` and `Target.answer`.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._config import NODE_URL_ENV, TOKEN_ENV
from ._options import ConfigFile, JsonOutput
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

Row = Sequence[object]


@dataclass(frozen=True, slots=True)
class Target:
    """The node a command asks, as whom, and whether it answers in JSON (the four options).

    Nothing is resolved until the first request, so a command checks its own arguments first.
    """

    node_url: str | None
    token_file: Path | None
    config: Path | None
    json_output: bool

    def connect(self) -> NodeApi:
        """A client for several requests on one connection (use it in a `with`)."""
        from ._api import NodeApi
        from ._config import resolve_connection

        connection = resolve_connection(
            config=self.config, node_url=self.node_url, token_file=self.token_file
        )
        return NodeApi(connection.node_url, connection.token)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request on its own connection: the node's answer."""
        with self.connect() as api:
            return api.request(method, path, body=body)

    def answer(self, document: Any, render: Callable[[Console], None]) -> None:
        """`document` as one JSON document on stdout with `--json`; else `render` it for people."""
        if self.json_output:
            from ._ui import write_json

            write_json(document)
            return
        from ._ui import stdout_console

        render(stdout_console())

    def rows(self, document: Any, title: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        """`document`, shown to people as one table."""
        self.answer(document, lambda out: out.print(table(title, columns, rows)))

    def record(self, document: Any, title: str, pairs: Sequence[tuple[str, object]]) -> None:
        """`document`, shown to people as one record, field by field."""
        self.answer(document, lambda out: out.print(fields(title, pairs)))

    def listing(
        self,
        path: str,
        *,
        noun: str,
        columns: Sequence[str],
        row: Callable[[dict[str, Any]], Row],
        paged: bool,
        **params: Any,
    ) -> None:
        """A list command's body: GET `path` (every page when `paged`) and show `{data, count}`."""
        with self.connect() as api:
            answer = every_page(api, path, **params) if paged else api.get(path, **params)
        self.rows(answer, f"{answer['count']} {noun}", columns, [row(r) for r in answer["data"]])

    def hint(self, message: str) -> None:
        """The next step, for people only: a script reading `--json` gets none."""
        if not self.json_output:
            say(message)


_CONNECTION_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=option)
    for name, option, default in (
        ("node_url", NodeUrl, None),
        ("token_file", TokenFile, None),
        ("config", ConfigFile, None),
        ("json_output", JsonOutput, False),
    )
]


def operator_command(
    app: typer.Typer, name: str
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a command taking `target: Target` as `app`'s command `name`.

    Typer sees the command's own parameters followed by the connection options in place of
    `target`, so each command's `--help` lists --node-url, --token-file, --config and --json.
    """

    def register(command: Callable[..., None]) -> Callable[..., None]:
        parameters = inspect.signature(command, eval_str=True).parameters
        if "target" not in parameters:
            raise TypeError(f"{command.__name__} must take `target: Target`")
        own = [parameter for parameter in parameters.values() if parameter.name != "target"]

        @functools.wraps(command)
        def with_target(
            *,
            node_url: str | None,
            token_file: Path | None,
            config: Path | None,
            json_output: bool,
            **arguments: Any,
        ) -> None:
            command(target=Target(node_url, token_file, config, json_output), **arguments)

        signature = inspect.Signature([*own, *_CONNECTION_OPTIONS])
        with_target.__signature__ = signature  # type: ignore[attr-defined]
        with_target.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        app.command(name)(with_target)
        return command

    return register


def table(title: str | None, columns: Sequence[str], rows: Sequence[Row]) -> Any:
    """A rich table of plain text: what a server says is never read as markup."""
    from rich.table import Table
    from rich.text import Text

    from ._ui import fit_columns

    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell_text(cell)) for cell in row))
    return fit_columns(grid)


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


def one_of(value: str | None, allowed: Sequence[str], option: str) -> str | None:
    """`value` if it is one of `allowed` (or not given); else a usage error naming `option`."""
    if value is not None and value not in allowed:
        raise CliError(f"{option} must be one of {', '.join(allowed)}", ExitCode.USAGE)
    return value


def moment(value: str | None, option: str) -> str | None:
    """An ISO 8601 date and time with a time zone, as the API takes it (or None if not given)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(
            f"{option} {value!r} is not an ISO 8601 date and time", ExitCode.USAGE
        ) from exc
    if parsed.tzinfo is None:
        raise CliError(f"{option} needs a time zone (Z or +03:00)", ExitCode.USAGE)
    return parsed.isoformat()


def every_page(api: NodeApi, path: str, *, limit: int = 500, **params: Any) -> dict[str, Any]:
    """A paged listing (`offset`/`limit`, `{data, count}`) read to its end."""
    data: list[Any] = []
    while True:
        page = api.get(path, offset=len(data), limit=limit, **params)
        data += page["data"]
        if not page["data"] or len(data) >= page["count"]:
            return {"data": data, "count": page["count"]}
