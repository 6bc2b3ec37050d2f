"""`sdgcities spot-checks ...`: draw and read the global node's spot-check rounds."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ._ops import OPERATOR_EXIT_CODES, Target, fields, moment, operator_command, table
from ._options import ConfigFile, JsonOutput, RegistryUrl, RootThumbprints, Timeout

spot_checks_app = typer.Typer(
    help=f"Spot-check rounds on the global node (the secretariat).\n\n{OPERATOR_EXIT_CODES}",
    no_args_is_help=True,
)

ROUND_COLUMNS = ("id", "rate", "window from", "window until", "candidates", "drawn")


def _round_row(spot_round: dict[str, Any]) -> list[object]:
    return [
        spot_round["id"],
        spot_round["rate"],
        spot_round["window_from"],
        spot_round["window_until"],
        spot_round["candidates"],
        spot_round["drawn_at"],
    ]


@operator_command(spot_checks_app, "round")
def draw_round(
    target: Target,
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
) -> None:
    """Draw a round among the awards reported to the global node, and publish it."""
    body: dict[str, Any] = {
        "rate": rate,
        "window_from": moment(window_from, "--from"),
        "window_until": moment(window_until, "--until"),
    }
    answer = target.call(
        "POST", "/federation/spot-checks/rounds", {k: v for k, v in body.items() if v is not None}
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

    target.answer(answer, render)


@operator_command(spot_checks_app, "rounds")
def list_rounds(target: Target) -> None:
    """The rounds drawn so far (public: anyone can recompute a selection)."""
    target.listing(
        "/federation/spot-checks/rounds",
        noun="round(s)",
        columns=ROUND_COLUMNS,
        row=_round_row,
        paged=True,
    )


VERIFY_HELP = "\n\n".join(
    (
        "Check a published spot-check round: anyone can, with no account.",
        "ROUND is the round's URL (GET /federation/spot-checks/rounds/N on the global node) or a "
        "file holding it ('-' for standard input). The selection is recomputed from the round's "
        "inputs (every candidate's score, the candidates' digest, who is selected), then the "
        "global node's signed event log, checked against the trust list signed by the pinned "
        "root key, must record this very document right after the log head it was drawn at.",
        "Exit codes:\n"
        "  0  the round matches\n"
        "  1  it does not (the first disagreement is printed)\n"
        "  2  usage error (no pinned root key, no registry URL for a file, unreadable file)\n"
        "  3  cannot decide (the round, the log or the trust list unreachable or stale)",
    )
)


@spot_checks_app.command("verify", help=VERIFY_HELP)
def verify_round(
    round_source: Annotated[
        str,
        typer.Argument(
            metavar="ROUND", help="The round's URL, or a file holding it ('-' for stdin)."
        ),
    ],
    json_output: JsonOutput = False,
    root_thumbprint: RootThumbprints = None,
    registry_url: RegistryUrl = None,
    config: ConfigFile = None,
    timeout: Timeout = 10.0,
) -> None:
    """Recompute a published round's selection and check the global node committed to it."""
    from ._round_check import RoundCheckRequest, run_round_check

    code = run_round_check(
        RoundCheckRequest(
            round=round_source,
            json_output=json_output,
            config=config,
            root_thumbprints=root_thumbprint,
            registry_url=registry_url,
            timeout=timeout,
        )
    )
    raise typer.Exit(int(code))
