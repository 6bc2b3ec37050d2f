"""The status lists this user's verifier has accepted, kept between runs (DESIGN §4).

A status list only moves forward: `credentials.StatusListHistory` refuses one signed before a list
already accepted for the same URL. The CLI keeps that history in one file per user,
`$XDG_DATA_HOME/sdgcities/status-lists-seen.json` (`{"format": 1, "lists": {url: validFrom}}`),
beside the default bundle and never inside a bundle: a bundle handed over on a USB stick, or a
registry mirror, must not be able to take a list back to before a revocation. Online and offline
verification and `trust sync` all read it and add to it. The file only ever moves forward: what
is written is the union of what it held and what this run accepted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sdgcities.credentials import StatusListHistory, isoformat, parse_datetime

from ._config import status_history_path
from .errors import CliError, ExitCode

FORMAT = 1
MAX_FILE_BYTES = 32 * 1024 * 1024


def load(path: Path) -> StatusListHistory:
    """The history kept at `path`; empty when there is none yet."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return StatusListHistory()
    except OSError as exc:
        raise _damaged(path, exc.strerror or str(exc)) from exc
    if len(data) > MAX_FILE_BYTES:
        raise _damaged(path, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        document = json.loads(data.decode("utf-8"))
        lists = document["lists"]
        if document.get("format") != FORMAT or not isinstance(lists, dict):
            raise ValueError("not this format")
        newest = {str(url): parse_datetime(str(moment)) for url, moment in lists.items()}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _damaged(path, str(exc)) from exc
    return StatusListHistory(newest)


def save(path: Path, history: StatusListHistory) -> None:
    """Write what `history` holds, merged with what the file holds now (another run may have
    moved it on meanwhile), atomically and readable by this user only."""
    merged: dict[str, datetime] = load(path).snapshot()
    for url, moment in history.snapshot().items():
        if url not in merged or merged[url] < moment:
            merged[url] = moment
    text = json.dumps(
        {"format": FORMAT, "lists": {url: isoformat(m) for url, m in sorted(merged.items())}},
        indent=1,
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise CliError(
            f"cannot record the status lists seen in {path}: {exc.strerror or exc}",
            ExitCode.CANNOT_DECIDE,
        ) from exc


@contextmanager
def remembered() -> Iterator[StatusListHistory]:
    """This user's history, written back when the block ends (whatever its outcome: what was
    accepted stays accepted)."""
    path = status_history_path()
    history = load(path)
    before = history.snapshot()
    try:
        yield history
    finally:
        if history.snapshot() != before:
            save(path, history)


def _damaged(path: Path, why: str) -> CliError:
    return CliError(
        f"cannot decide: {path} (the status lists seen) is unreadable ({why}); "
        "a replayed status list could not be told apart. Remove the file only if you trust "
        "every source you will verify against",
        ExitCode.CANNOT_DECIDE,
    )
