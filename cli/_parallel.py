"""Large offline batches on several cores: forked workers that use the parent's `Verifier`.

A signature check is CPU work that one Python process does on one core. For a large offline
batch the command forks workers after the trust data and the batch are loaded: each inherits the
parent's `Verifier` (one per process, its status lists read once) and the batch itself, so a task
is only a range of positions, and it answers with that range already written as JSON (`--json`)
or as answers, in order. The parent writes each range as it comes, so the output is streamed and
the workers keep both cores busy while it does. Only offline (an online verifier holds an HTTP
connection pool, which a fork must not share), only where processes are forked (Linux), and only
when asked for or when the batch is large enough to pay for the workers. If a worker dies, what
is left of the batch is verified in this process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sdgcities.credentials import Verifier

from ._inputs import SPAN_LINES, Batch, span_tokens
from ._report import Answer, answer

AUTO_MIN_BATCH = 1000  # lines; below this, forking workers costs more than it saves
CHUNK = SPAN_LINES  # tokens (or lines of a batch file) per task: few round trips, fine progress


@dataclass(frozen=True, slots=True)
class _Shared:
    """What the workers use, set in the parent just before they are forked so that each
    inherits it instead of receiving it through a pipe: the verifier (with its trust list), and
    the batch, as tokens or as the file's bytes, when it is known by then."""

    verifier: Verifier
    tokens: Sequence[str] = ()
    batch: Batch | None = None


_shared: _Shared | None = None

# An outcome as the summary and the exit code read it: (status, reason).
Outcome = tuple[str, str | None]
# What a worker answers for a span of a batch file with `--json`: how many lines the span
# holds, and for each token its line number in the span, its result written as JSON from just
# after the line number on, and its outcome.
RenderedSpan = tuple[int, list[int], list[str], list[Outcome]]
Task = TypeVar("Task")
Result = TypeVar("Result")


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def worker_count(requested: int, *, batch_size: int, offline: bool) -> int:
    """How many processes verify: `requested` (0 means one per CPU for a large batch)."""
    if not offline or not can_fork():
        return 1
    chunks = -(-batch_size // CHUNK)
    if requested == 0:
        return min(available_cpus(), chunks) if batch_size >= AUTO_MIN_BATCH else 1
    return max(1, min(requested, chunks))


@contextmanager
def workers(
    verifier: Verifier,
    count: int,
    *,
    tokens: Sequence[str] = (),
    batch: Batch | None = None,
) -> Iterator[ProcessPoolExecutor | None]:
    """The worker processes, forked now (before any thread, such as a progress bar's, starts),
    with `verifier` and, when given, the batch's `tokens` or its file's bytes (`batch`).

    None when one process is asked for, or when the workers cannot be started.
    """
    global _shared  # inherited by the forked workers, see above
    if count <= 1:
        yield None
        return
    _shared = _Shared(verifier, tokens, batch)
    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork"))
    try:
        pool.submit(os.getpid).result()  # a fork pool starts all its processes at once
        started = True
    except (OSError, BrokenProcessPool):  # out of processes or memory: use this one
        started = False
    try:
        yield pool if started else None
    finally:
        pool.shutdown(cancel_futures=True)
        _shared = None


def verify_all(
    verifier: Verifier,
    tokens: Sequence[str],
    *,
    pool: ProcessPoolExecutor | None,
    done: Callable[[int], None],
) -> list[Answer]:
    """The answer for each token, in order; `done(n)` after every chunk."""
    inherited = _shared is not None and _shared.tokens is tokens
    tasks = [
        (
            start,
            min(start + CHUNK, len(tokens)),
            None if inherited else tokens[start : start + CHUNK],
        )
        for start in range(0, len(tokens), CHUNK)
    ]
    answers: list[Answer] = []
    for chunk in _chunks(_Shared(verifier, tokens), tasks, pool, _answers):
        answers += chunk
        done(len(answers))
    return answers


def stream_json(
    verifier: Verifier,
    batch: Batch,
    *,
    pool: ProcessPoolExecutor | None,
    write: Callable[[str], object],
    indent: int | None,
) -> list[Outcome]:
    """Write each result `{"line": ..., **answer}` of the batch as JSON, in order, separated
    as `json.dumps(..., indent=indent)` separates the items of a list two levels down (the
    batch document's `results`); answer each token's outcome.

    A worker reads its span of the file itself, so it knows its lines' numbers only from the
    span's start; the numbers before it are counted here, as the spans come back in order."""
    inherited = _shared is not None and _shared.batch is batch
    tasks = [
        (start, stop, None if inherited else batch.data[start:stop]) for start, stop in batch.spans
    ]
    render = _rendered(indent)
    separator = "," if indent is None else ",\n" + " " * (2 * indent)
    outcomes: list[Outcome] = []
    lines_before = 0
    for lines, numbers, tails, span_outcomes in _chunks(
        _Shared(verifier, batch=batch), tasks, pool, render
    ):
        if numbers:
            if outcomes:
                write(separator)
            write(
                separator.join(
                    f"{render.head}{lines_before + number}{tail}"
                    for number, tail in zip(numbers, tails, strict=True)
                )
            )
        lines_before += lines
        outcomes += span_outcomes
    return outcomes


def render_json(value: object, *, indent: int | None, level: int) -> str:
    """`value` as `json.dumps(document, indent=indent)` writes it `level` containers down."""
    if indent is None:
        return _COMPACT.encode(value)
    # A JSON text holds no raw newline (strings escape it): every newline starts a line.
    return json.dumps(value, indent=indent).replace("\n", "\n" + " " * (indent * level))


# `json.dumps(value, separators=(",", ":"))`, without a new encoder for every value.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _chunks(
    shared: _Shared,
    tasks: Sequence[Task],
    pool: ProcessPoolExecutor | None,
    work: Callable[[Task], Result],
) -> Iterator[Result]:
    """`work` over each task, in order: in the workers while they live, then in this process
    (with `shared` as a forked worker would have it)."""
    global _shared  # the in-process fallback reads it as a worker does
    finished = 0
    if pool is not None:
        try:
            for result in pool.map(work, tasks):
                yield result
                finished += 1
        except BrokenProcessPool:
            pass  # a worker died (killed, out of memory): verify the rest here instead
        else:
            return
    saved = _shared
    _shared = shared
    try:
        for task in tasks[finished:]:
            yield work(task)
    finally:
        _shared = saved


def _worker_shared() -> _Shared:
    if _shared is None:  # pragma: no cover - set before any worker is forked
        raise RuntimeError("no verifier in this worker")
    return _shared


def _answers(task: tuple[int, int, Sequence[str] | None]) -> list[Answer]:
    start, stop, tokens = task
    shared = _worker_shared()
    verify = shared.verifier.verify
    return [
        answer(verify(token)) for token in (shared.tokens[start:stop] if tokens is None else tokens)
    ]


class _rendered:
    """Read a span of a batch file, verify its tokens and write their results as JSON."""

    def __init__(self, indent: int | None) -> None:
        self.indent = indent
        # What every result starts with, up to its line number (the first member).
        self.head = render_json({"line": 0}, indent=indent, level=2).partition("0")[0]

    def __call__(self, task: tuple[int, int, bytes | None]) -> RenderedSpan:
        start, stop, data = task
        shared = _worker_shared()
        if data is None:
            if shared.batch is None:  # pragma: no cover - forked with the batch, see stream_json
                raise RuntimeError("no batch in this worker")
            data = shared.batch.data[start:stop]
        lines, items = span_tokens(data)
        verify = shared.verifier.verify
        after_number = len(self.head) + 1  # rendered with line number 0
        numbers, tails, outcomes = [], [], []
        for number, token in items:
            shown = answer(verify(token))
            numbers.append(number)
            rendered = render_json({"line": 0, **shown}, indent=self.indent, level=2)
            tails.append(rendered[after_number:])
            outcomes.append((shown["status"], shown["reason"]))
        return lines, numbers, tails, outcomes
