"""How `verify` shows its answers: JSON for scripts, rich panels and tables for people.

Every answer is first put in its JSON form (`answer`), which is what scripts read and what the
panels and tables are drawn from, so both always say the same thing.

The exit code of several answers (a city's certificates, a batch) is the worst of them, read as
"are they all valid?" in three-valued logic: one certificate not valid makes the answer "no" (1)
whatever else is undecided; otherwise one undecided makes it "cannot decide" (3); else 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sdgcities.credentials import Outcome, VerificationResult

from ._ui import fit_columns, printable
from .errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

Answer = dict[str, Any]

STATUS_WORDS = {
    Outcome.VALID.value: ("VALID", "green"),
    Outcome.INVALID.value: ("NOT VALID", "red"),
    Outcome.INDETERMINATE.value: ("CANNOT DECIDE", "yellow"),
}
MAX_PROBLEM_ROWS = 20


def answer(result: VerificationResult) -> Answer:
    """One answer. `certificate` and `issuer` are set only when the signature checked out."""
    credential, issuer = result.credential, result.issuer
    return {
        "valid": result.valid,
        "status": result.outcome.value,
        "reason": result.reason.value if result.reason else None,
        "message": result.message,
        "certificate": certificate_summary(credential) if credential is not None else None,
        "issuer": (
            {"id": issuer.id, "name": issuer.name, "did": issuer.did}
            if issuer is not None and credential is not None
            else None
        ),
    }


def certificate_summary(credential: dict[str, Any]) -> dict[str, Any]:
    subject = _member(credential, "credentialSubject")
    city = _member(subject, "city")
    return {
        "id": credential.get("id"),
        "city": {
            "locode": city.get("locode"),
            "name": city.get("name"),
            "country": city.get("country"),
        },
        "stage": subject.get("stage"),
        "level": subject.get("level"),
        "framework": subject.get("framework"),
        "decision": subject.get("decision"),
        "validFrom": credential.get("validFrom"),
        "validUntil": credential.get("validUntil"),
    }


def exit_code(answers: Iterable[Answer]) -> ExitCode:
    statuses = {a["status"] for a in answers}
    if Outcome.INVALID.value in statuses:
        return ExitCode.NOT_VALID
    if Outcome.INDETERMINATE.value in statuses:
        return ExitCode.CANNOT_DECIDE
    return ExitCode.OK


def summary_json(answers: Sequence[Answer]) -> dict[str, Any]:
    statuses = Counter(a["status"] for a in answers)
    reasons = Counter(a["reason"] for a in answers if a["reason"] is not None)
    return {
        "total": len(answers),
        **{outcome.value: statuses.get(outcome.value, 0) for outcome in Outcome},
        "by_reason": dict(sorted(reasons.items())),
        "exit_code": int(exit_code(answers)),
    }


def panel(shown: Answer, *, title: str | None = None) -> RenderableType:
    """One certificate for people: city, level, stage, issuer, validity, status, reason."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from sdgcities.credentials.vc import STAGE_NAMES

    word, colour = STATUS_WORDS[shown["status"]]
    rows = Table.grid(padding=(0, 2))
    rows.add_column(style="bold")
    rows.add_column()
    certificate, issuer = shown["certificate"], shown["issuer"]
    if certificate is not None:
        city = certificate["city"]
        stage = certificate["stage"]
        stage_name = STAGE_NAMES.get(stage, "") if isinstance(stage, str) else ""
        rows.add_row("City", _text(f"{city['name']} ({city['locode']}), {city['country']}"))
        rows.add_row("Level", _text(certificate["level"]))
        rows.add_row("Stage", _text(f"{stage_name} ({stage})" if stage_name else stage))
    if issuer is not None:
        rows.add_row("Issuer node", _text(f"{issuer['id']}: {issuer['name']}"))
    if certificate is not None:
        rows.add_row("Valid from", _text(certificate["validFrom"]))
        rows.add_row("Valid until", _text(certificate["validUntil"]))
        rows.add_row("Certificate", _text(certificate["id"]))
    rows.add_row("Status", Text(word.lower(), style=f"bold {colour}"))
    if shown["reason"] is not None:
        rows.add_row("Reason", _text(shown["reason"]))
        rows.add_row("Message", _text(shown["message"]))
    heading = f"{word}" if title is None else f"{printable(title, limit=60)}: {word}"
    return Panel(
        rows, title=Text(heading, style=f"bold {colour}"), border_style=colour, expand=False
    )


def summary_table(answers: Sequence[Answer]) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    summary = summary_json(answers)
    table = Table(title="Summary", show_footer=True)
    table.add_column("Outcome", footer="total")
    table.add_column("Reason")
    table.add_column("Certificates", justify="right", footer=str(summary["total"]))
    for outcome in Outcome:
        word, colour = STATUS_WORDS[outcome.value]
        reasons = Counter(
            a["reason"] for a in answers if a["status"] == outcome.value and a["reason"]
        )
        table.add_row(Text(word.lower(), style=colour), "", str(summary[outcome.value]))
        for reason, count in sorted(reasons.items()):
            table.add_row("", reason, str(count))
    return fit_columns(table)


def problems_table(rows: Sequence[tuple[str, Answer]]) -> RenderableType | None:
    """The first answers that are not valid, with where they came from."""
    from rich.table import Table
    from rich.text import Text

    problems = [(where, a) for where, a in rows if not a["valid"]]
    if not problems:
        return None
    table = Table(title="Not valid or undecided")
    table.add_column("Line", justify="right")
    table.add_column("Status")
    table.add_column("Reason")
    table.add_column("City")
    table.add_column("Message", overflow="fold")
    for where, shown in problems[:MAX_PROBLEM_ROWS]:
        word, colour = STATUS_WORDS[shown["status"]]
        certificate = shown["certificate"]
        table.add_row(
            where,
            Text(word.lower(), style=colour),
            shown["reason"] or "",
            _text(certificate["city"]["locode"] if certificate else None),
            _text(shown["message"]),
        )
    if len(problems) > MAX_PROBLEM_ROWS:
        table.caption = f"and {len(problems) - MAX_PROBLEM_ROWS} more (use --json for all)"
    return fit_columns(table)


def print_lines(console: Console, *renderables: RenderableType | None) -> None:
    for renderable in renderables:
        if renderable is not None:
            console.print(renderable)


def _text(value: object) -> RenderableType:
    from rich.text import Text

    return Text("—" if value is None else printable(value))


def _member(container: Any, name: str) -> dict[str, Any]:
    value = container.get(name) if isinstance(container, dict) else None
    return value if isinstance(value, dict) else {}
