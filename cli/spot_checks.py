"""`sdgcities spot-checks ...`: draw and read the global node's spot-check rounds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from ._ops import OPERATOR_EXIT_CODES, NodeUrl, TokenFile, connect, emit, fields, table
from ._options import ConfigFile, JsonOutput
from .errors import CliError, ExitCode

spot_checks_app = typer.Typer(
    help=f"Spot-check rounds on the global node (the secretariat).\n\n{OPERATOR_EXIT_CODES}",
    no_args_is_help=True,
)

ROUND_COLUMNS = ("id", "rate", "window from", "window until", "candidates", "drawn")


def _moment(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(
            f"{option} {value!r} is not an ISO 8601 date and time", ExitCode.USAGE
        ) from exc
    if moment.tzinfo is None:
        raise CliError(f"{option} needs a time zone (Z or +03:00)", ExitCode.USAGE)
    return moment.isoformat()


@spot_checks_app.command("round")
def draw_round(
    rate: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share of awards to check. Default: the node's."),
    ] = None,
    window_from: Annotated[
        str | None,
        typer.Option("--from", help="Awards decided from then (ISO 8601, with a time zone)."),
    ] = None,
    window_until: Annotated[
        str | None, typer.Option("--until", help="...until then. Default: now.")
    ] = None,
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """Draw a round among the awards reported to the global node, and publish it."""
    body: dict[str, Any] = {
        "rate": rate,
        "window_from": _moment(window_from, "--from"),
        "window_until": _moment(window_until, "--until"),
    }
    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = api.post(
            "/federation/spot-checks/rounds", {k: v for k, v in body.items() if v is not None}
        )
    selected = answer.get("document", {}).get("selected", [])

    def render(out: Any) -> None:
        out.print(
            fields(
                f"Spot-check round {answer['id']} drawn",
                [
                    ("rate", answer["rate"]),
                    ("window", f"{answer['window_from']} to {answer['window_until']}"),
                    ("candidates", answer["candidates"]),
                    ("selected", len(selected)),
                    ("digest", answer["digest"]),
                ],
            )
        )
        rows = [[s.get("nodeId"), s.get("application")] for s in selected]
        out.print(table("Selected", ("node", "application"), rows))

    emit(answer, json_output=json_output, render=render)


@spot_checks_app.command("rounds")
def list_rounds(
    node_url: NodeUrl = None,
    token_file: TokenFile = None,
    config: ConfigFile = None,
    json_output: JsonOutput = False,
) -> None:
    """The rounds drawn so far (public: anyone can recompute a selection)."""
    from ._ops import every_page

    with connect(node_url=node_url, token_file=token_file, config=config) as api:
        answer = every_page(api, "/federation/spot-checks/rounds")
    emit(
        answer,
        json_output=json_output,
        render=lambda out: out.print(
            table(
                f"{answer['count']} round(s)",
                ROUND_COLUMNS,
                [
                    [
                        r["id"],
                        r["rate"],
                        r["window_from"],
                        r["window_until"],
                        r["candidates"],
                        r["drawn_at"],
                    ]
                    for r in answer["data"]
                ],
            )
        ),
    )
