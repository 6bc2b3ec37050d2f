"""What `sdgcities verify` is given: a token, a file, standard input, a URL or a city id.

    https://... or http://...   a certificate URL (fetched with Accept: application/vc+jwt)
    KE-NBO                      a UN/LOCODE city id: the city's current certificates
    -                           standard input
    header.payload.signature    a compact token (unless a file of that name exists)
    anything else               a file holding one token

A file or answer may also hold the registry's JSON form `{"jwt": "...", ...}`. A token that is
not one is not refused here: the verifier answers "malformed" for it, as it would for any input.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .errors import CliError, ExitCode

LOCODE = re.compile(r"[A-Za-z]{2}-[A-Za-z2-9]{3}")
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
MAX_INPUT_BYTES = 1024 * 1024  # one certificate (the verifier refuses more than 64 KiB anyway)
MAX_BATCH_BYTES = 1024 * 1024 * 1024
SPAN_LINES = 200  # lines of a batch read at once: a worker's task
MIN_SPAN_LINES = 20  # the smallest task, near the end of a batch
TAIL_PARTS = 4  # near the end, a task is this part of what remains per process


class Kind(StrEnum):
    TOKEN = "token"  # noqa: S105 - a kind of input, not a secret
    FILE = "file"
    STDIN = "stdin"
    URL = "url"
    CITY = "city"


@dataclass(frozen=True, slots=True)
class Source:
    kind: Kind
    value: str

    @property
    def needs_network(self) -> bool:
        return self.kind in (Kind.URL, Kind.CITY)

    @property
    def label(self) -> str:
        """How the JSON output names this input (a token is not repeated)."""
        if self.kind is Kind.TOKEN:
            return "token"
        if self.kind is Kind.STDIN:
            return "-"
        return self.value


def classify(argument: str) -> Source:
    if argument == "-":
        return Source(Kind.STDIN, argument)
    if argument.startswith(("https://", "http://")):
        return Source(Kind.URL, argument)
    if LOCODE.fullmatch(argument):
        return Source(Kind.CITY, argument.upper())
    if COMPACT_JWS.fullmatch(argument) and not _is_file(argument):
        return Source(Kind.TOKEN, argument)
    if "://" in argument:
        raise CliError(f"unsupported URL scheme in {argument[:60]!r}: use https", ExitCode.USAGE)
    return Source(Kind.FILE, argument)


def _is_file(argument: str) -> bool:
    try:
        return Path(argument).is_file()
    except (OSError, ValueError):  # a name too long for the file system is not a file
        return False


def read_local(source: Source) -> str:
    """The token a TOKEN, FILE or STDIN source holds."""
    if source.kind is Kind.TOKEN:
        return source.value
    if source.kind is Kind.STDIN:
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        data = _read_file(Path(source.value), MAX_INPUT_BYTES)
    if len(data) > MAX_INPUT_BYTES:
        raise CliError(f"{source.label} is larger than any certificate", ExitCode.USAGE)
    return unwrap(data.decode("utf-8", errors="replace"))


def unwrap(text: str) -> str:
    """The token in `text`: the text itself, or the `jwt` member of the registry's JSON form."""
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return text
        if isinstance(value, dict) and isinstance(value.get("jwt"), str):
            return str(value["jwt"]).strip()
    return text


class Batch:
    """A batch file's bytes, cut into spans of whole lines that can be read one by one, in any
    process that holds the bytes: no line is decoded before its span is."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self._whole_spans: list[tuple[int, int]] = []  # `SPAN_LINES` each, the last maybe fewer
        self.lines = 0  # newline-ended lines, and a last one without (what a worker count needs)
        # One `find` per line: `bytes.count` does not search as fast (18 ms for 27 MB, to 3).
        start = 0
        while start < len(data):
            stop = start
            for _ in range(SPAN_LINES):
                self.lines += 1
                stop = data.find(b"\n", stop) + 1
                if not stop:
                    stop = len(data)
                    break
                if stop == len(data):
                    break
            self._whole_spans.append((start, stop))
            start = stop

    def spans(self, processes: int = 1) -> list[tuple[int, int]]:
        """Byte ranges of consecutive whole lines, as many lines each as `span_sizes` says for
        `processes` processes."""
        sizes = list(span_sizes(self.lines, processes))
        whole = 0
        while whole < len(sizes) and sizes[whole] == SPAN_LINES:
            whole += 1
        spans = self._whole_spans[:whole]  # cut already: only the smaller ones are cut here
        start = spans[-1][1] if spans else 0
        for size in sizes[whole:]:
            stop = start
            for _ in range(size):
                stop = self.data.find(b"\n", stop) + 1 or len(self.data)
            spans.append((start, stop))
            start = stop
        return spans

    def items(self) -> list[tuple[int, str]]:
        """(line number, token) for each line that is not blank or a `#` comment."""
        items, offset = [], 0
        for start, stop in self._whole_spans:
            count, span_items = span_tokens(self.data[start:stop])
            items += [(offset + number, token) for number, token in span_items]
            offset += count
        return items


def span_sizes(total: int, processes: int) -> Iterator[int]:
    """How many of `total` lines (or tokens) each task takes, in order, for `processes`
    processes: `SPAN_LINES`, then, near the end, a `TAIL_PARTS` part of what remains per
    process (at least `MIN_SPAN_LINES`), so that the processes run out of work together instead
    of one waiting for another's last full span."""
    remaining = total
    while remaining > 0:
        share = -(-remaining // (TAIL_PARTS * processes))
        size = min(remaining, SPAN_LINES, max(MIN_SPAN_LINES, share))
        yield size
        remaining -= size


def span_tokens(data: bytes) -> tuple[int, list[tuple[int, str]]]:
    """How many lines `data` holds, and (line number from 1, token) of each that is not blank
    or a `#` comment. A span ends after a newline (or at the end of the batch), so the lines of
    consecutive spans are the lines of the whole: UTF-8 and `str.splitlines` both start afresh
    after a newline."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    items = []
    for number, line in enumerate(lines, 1):
        token = line.strip()
        if token and not token.startswith("#"):
            items.append((number, token))
    return len(lines), items


def read_batch(argument: str) -> Batch:
    """The batch in file `argument` (`-`: standard input); a usage error if it holds no token."""
    if argument == "-":
        data = sys.stdin.buffer.read(MAX_BATCH_BYTES + 1)
        name = "standard input"
    else:
        data = _read_file(Path(argument), MAX_BATCH_BYTES)
        name = argument
    if len(data) > MAX_BATCH_BYTES:
        raise CliError(f"{name} is larger than {MAX_BATCH_BYTES} bytes", ExitCode.USAGE)
    batch = Batch(data, name)
    # Usually the first span holds a token: the rest is read by whichever process verifies it.
    if not any(span_tokens(data[start:stop])[1] for start, stop in batch.spans()):
        raise CliError(f"{name} holds no certificate (one token per line)", ExitCode.USAGE)
    return batch


def _read_file(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            # A read of `limit` bytes allocates them all first: ask for what the file holds, and
            # one more byte to see past the limit, or past a file that grew or a pipe (size 0).
            expected = min(os.fstat(handle.fileno()).st_size, limit) + 1
            data = handle.read(expected)
            if len(data) == expected <= limit:
                data += handle.read(limit + 1 - expected)
            return data
    except FileNotFoundError as exc:
        raise CliError(
            f"{path}: no such file (give a token, a file, a URL or a city id such as KE-NBO)",
            ExitCode.USAGE,
        ) from exc
    except IsADirectoryError as exc:
        raise CliError(f"{path} is a folder, not a certificate file", ExitCode.USAGE) from exc
    except OSError as exc:
        raise CliError(f"{path} cannot be read: {exc.strerror}", ExitCode.USAGE) from exc
