"""`sdgcities spot-checks ...`: draw and read the global node's spot-check rounds."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ._ops import OPERATOR_EXIT_CODES, Target, fields, moment, operator_command, table

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
