"""Output helpers shared by the investor commands: consoles, progress, safe text, durations.

Everything a credential, a server or a file says is shown through `printable`, so a hostile
certificate cannot move the cursor or recolour the terminal. Progress goes to stderr and only
to a terminal, so stdout carries the answer alone.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sdgcities.credentials import isoformat

from .errors import one_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def printable(text: object, *, limit: int = 400) -> str:
    """One line with no control characters, at most `limit` characters."""
    return one_line(text, limit=limit)


def optional_isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)


def duration(seconds: float) -> str:
    """`42 s`, `12 min`, `3 h 5 min`, `2 days 4 h`; negative means in the future."""
    if seconds < 0:
        return "in " + duration(-seconds)
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} days {hours % 24} h" if hours % 24 else f"{days} days"


def ago(seconds: float) -> str:
    """`3 h ago`; a moment in the future (a clock that disagrees) is said so."""
    if seconds >= 0:
        return f"{duration(seconds)} ago"
    return f"{duration(-seconds)} in the future (check this computer's clock)"


def json_indent() -> int | None:
    """How `write_json` indents: by 2 for a terminal, not at all (compact) for a pipe."""
    return 2 if sys.stdout.isatty() else None


def write_json(document: Any) -> None:
    """Exactly one JSON document on stdout: indented for a terminal, compact for a pipe."""
    if json_indent() is not None:
        text = json.dumps(document, indent=json_indent())
    else:
        text = json.dumps(document, separators=(",", ":"))
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def stdout_console() -> Console:
    from rich.console import Console

    # No markup: what is printed may quote a certificate or a server; styles are set explicitly.
    return Console(highlight=False, markup=False)


class NoSteps:
    """Progress that goes nowhere (`--json`, or stderr is not a terminal)."""

    def add(self, count: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass

    def update(self, completed: int) -> None:
        pass


class RichSteps:
    """A rich progress bar on stderr whose total grows as work is discovered."""

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[label]}", markup=False),
            console=Console(stderr=True, highlight=False, markup=False),
            transient=True,
        )
        self._task = self._progress.add_task(description, total=0, label="")

    def add(self, count: int) -> None:
        task = self._progress.tasks[0]
        self._progress.update(self._task, total=(task.total or 0) + count)

    def advance(self, label: str) -> None:
        self._progress.update(self._task, advance=1, label=printable(label, limit=50))

    def update(self, completed: int) -> None:
        self._progress.update(self._task, completed=completed)

    def __enter__(self) -> RichSteps:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()


def wants_progress(json_output: bool) -> bool:
    return not json_output and sys.stderr.isatty()


@contextmanager
def steps(description: str, *, enabled: bool) -> Iterator[NoSteps | RichSteps]:
    if not enabled:
        yield NoSteps()
        return
    with RichSteps(description) as bar:
        yield bar


def fit_columns(table: Table, *, width: int | None = None) -> Table:
    """`table` (a rich Table, rows added) with column widths that keep its words whole.

    Left to itself, rich narrows the widest columns first and so cuts timestamps, URLs and ids
    in the middle at 80 columns, while a short column keeps room it does not need. Here the
    columns with the most wrappable text give way first, down to their longest word; only when
    even the words do not fit is the longest one folded."""
    import shutil

    width = width or shutil.get_terminal_size((80, 24)).columns
    texts = [
        [str(column.header), *(str(cell) for cell in column.cells)] for column in table.columns
    ]
    longest = [
        max(len(line) for text in cells for line in text.splitlines() or [""]) for cells in texts
    ]
    words = [max((len(w) for text in cells for w in text.split()), default=1) for cells in texts]
    padding = table.padding[1] + table.padding[3] if table.padding else 0
    available = width - len(texts) * padding - (len(texts) + 1 if table.box else 0)
    widths = list(longest)
    while sum(widths) > available:
        room = [w - word for w, word in zip(widths, words, strict=True)]
        widest = max(range(len(widths)), key=lambda i: room[i])
        if room[widest] <= 0:
            break
        widths[widest] -= 1
    while sum(widths) > available:  # whole words do not fit: fold the longest
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= 4:
            break
        widths[widest] -= 1
    for column, column_width in zip(table.columns, widths, strict=True):
        column.width = max(column_width, 1)
        column.overflow = "fold"
    return table
