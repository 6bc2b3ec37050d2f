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
from typing import TypeVar

from sdgcities.credentials import Verifier

from ._report import Answer, answer

AUTO_MIN_BATCH = 1000  # below this, forking workers costs more than it saves
CHUNK = 200  # tokens per task: few enough round trips, fine enough for the progress bar

# What the workers use, set in the parent just before they are forked so that each inherits it
# instead of receiving it through a pipe: the verifier (with its trust list), and the batch's
# tokens and line numbers when they are known by then.
_verifier: Verifier | None = None
_tokens: Sequence[str] = ()
_lines: Sequence[int] = ()

# An outcome as the summary and the exit code read it: (status, reason).
Outcome = tuple[str, str | None]
T = TypeVar("T")


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
    lines: Sequence[int] = (),
) -> Iterator[ProcessPoolExecutor | None]:
    """The worker processes, forked now (before any thread, such as a progress bar's, starts),
    with `verifier` and, when given, the batch's `tokens` and their `lines`.

    None when one process is asked for, or when the workers cannot be started.
    """
    global _verifier, _tokens, _lines  # inherited by the forked workers, see above
    if count <= 1:
        yield None
        return
    _verifier, _tokens, _lines = verifier, tokens, lines
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
        _verifier, _tokens, _lines = None, (), ()


def verify_all(
    verifier: Verifier,
    tokens: Sequence[str],
    *,
    pool: ProcessPoolExecutor | None,
    done: Callable[[int], None],
) -> list[Answer]:
    """The answer for each token, in order; `done(n)` after every chunk."""
    answers: list[Answer] = []
    for chunk in _chunks(verifier, tokens, (), pool, _answers):
        answers += chunk
        done(len(answers))
    return answers


def stream_json(
    verifier: Verifier,
    tokens: Sequence[str],
    lines: Sequence[int],
    *,
    pool: ProcessPoolExecutor | None,
    done: Callable[[int], None],
    write: Callable[[str], object],
    indent: int | None,
) -> list[Outcome]:
    """Write each result `{"line": ..., **answer}` as JSON, in order, separated as
    `json.dumps(..., indent=indent)` separates the items of a list two levels down (the batch
    document's `results`); answer each token's outcome."""
    separator = "," if indent is None else ",\n" + " " * (2 * indent)
    outcomes: list[Outcome] = []
    for text, chunk_outcomes in _chunks(verifier, tokens, lines, pool, _rendered(indent)):
        if outcomes:
            write(separator)
        write(text)
        outcomes += chunk_outcomes
        done(len(outcomes))
    return outcomes


def render_json(value: object, *, indent: int | None, level: int) -> str:
    """`value` as `json.dumps(document, indent=indent)` writes it `level` containers down."""
    if indent is None:
        return json.dumps(value, separators=(",", ":"))
    # A JSON text holds no raw newline (strings escape it): every newline starts a line.
    return json.dumps(value, indent=indent).replace("\n", "\n" + " " * (indent * level))


def _chunks(
    verifier: Verifier,
    tokens: Sequence[str],
    lines: Sequence[int],
    pool: ProcessPoolExecutor | None,
    work: Callable[[int, int, Sequence[str] | None, Sequence[int] | None], T],
) -> Iterator[T]:
    """`work` over each chunk of positions, in order: in the workers while they live (sending
    the tokens only when the workers were not forked with them), then in this process."""
    global _verifier  # the in-process fallback reads it as a worker does
    starts = range(0, len(tokens), CHUNK)
    finished = 0
    if pool is not None:
        inherited = tokens is _tokens and lines is _lines
        tasks = [
            (
                start,
                min(start + CHUNK, len(tokens)),
                None if inherited else list(tokens[start : start + CHUNK]),
                None if inherited else list(lines[start : start + CHUNK]),
            )
            for start in starts
        ]
        try:
            for result in pool.map(_call, [work] * len(tasks), tasks):
                yield result
                finished += 1
        except BrokenProcessPool:
            pass  # a worker died (killed, out of memory): verify the rest here instead
        else:
            return
    saved = _verifier
    _verifier = verifier
    try:
        for start in starts[finished:]:
            stop = min(start + CHUNK, len(tokens))
            yield work(start, stop, tokens[start:stop], lines[start:stop])
    finally:
        _verifier = saved


def _call(
    work: Callable[[int, int, Sequence[str] | None, Sequence[int] | None], T],
    task: tuple[int, int, Sequence[str] | None, Sequence[int] | None],
) -> T:
    return work(*task)


def _worker_verifier() -> Verifier:
    if _verifier is None:  # pragma: no cover - set before any worker is forked
        raise RuntimeError("no verifier in this worker")
    return _verifier


def _answers(
    start: int, stop: int, tokens: Sequence[str] | None, _lines: Sequence[int] | None
) -> list[Answer]:
    verify = _worker_verifier().verify
    return [answer(verify(token)) for token in (_tokens[start:stop] if tokens is None else tokens)]


class _rendered:
    """Verify a chunk and write its results as JSON, with the outcomes for the summary."""

    def __init__(self, indent: int | None) -> None:
        self.indent = indent

    def __call__(
        self, start: int, stop: int, tokens: Sequence[str] | None, lines: Sequence[int] | None
    ) -> tuple[str, list[Outcome]]:
        verify = _worker_verifier().verify
        if tokens is None or lines is None:
            tokens, lines = _tokens[start:stop], _lines[start:stop]
        separator = "," if self.indent is None else ",\n" + " " * (2 * self.indent)
        texts, outcomes = [], []
        for line, token in zip(lines, tokens, strict=True):
            shown = answer(verify(token))
            texts.append(render_json({"line": line, **shown}, indent=self.indent, level=2))
            outcomes.append((shown["status"], shown["reason"]))
        return separator.join(texts), outcomes
