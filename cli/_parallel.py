"""Large offline batches on several cores: forked workers that use the parent's `Verifier`.

A signature check is CPU work that one Python process does on one core. For a large offline
batch the command forks workers after the trust data and the batch are loaded: each inherits the
parent's `Verifier` (one per process, its status lists read once), the batch itself and the work
to do, so a task is only a number, sent on one pipe that all workers read. A worker answers each
task on its own pipe: with `--json`, a span of the batch file that it decoded, split and verified
itself, its results already written as JSON; without, the answers of a range of tokens. The
parent hands out the next task as each answer comes and writes the answers in order, so the
output is streamed and the workers keep every core busy. Only offline (an online verifier holds
an HTTP connection pool, which a fork must not share), only where processes are forked (Linux),
and only when asked for or when the batch is large enough to pay for the workers. Whatever a
worker that dies (or a fork that fails) leaves undone is done in this process.

The workers are plain forks (`os.fork`, pipes, `marshal`): `concurrent.futures` and
`multiprocessing` would cost every batch their imports and their threads, and share nothing a
fork does not; the answers are plain data that `marshal` (built in, and quicker than `pickle`)
writes and reads.
"""

from __future__ import annotations

import json
import marshal
import os
import selectors
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from sdgcities.credentials import Verifier

from ._inputs import SPAN_LINES, Batch, span_sizes, span_tokens
from ._report import Answer, answer

AUTO_MIN_BATCH = 1000  # lines; below this, forking workers costs more than it saves
QUEUED_PER_WORKER = 2  # tasks handed out ahead, so a worker never waits for the parent

# An outcome as the summary and the exit code read it: (status, reason).
Outcome = tuple[str, str | None]
# What a worker answers for a span of a batch file with `--json`: how many lines the span
# holds, and for each token its line number in the span, its result written as JSON from just
# after the line number on, and its outcome.
RenderedSpan = tuple[int, list[int], list[str], list[Outcome]]
Task = TypeVar("Task")
Result = TypeVar("Result", bound=list[Any] | tuple[Any, ...])  # of plain data, for `marshal`


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def worker_count(requested: int, *, batch_size: int, offline: bool) -> int:
    """How many processes verify: `requested` (0 means one per CPU for a large batch)."""
    if not offline or not can_fork():
        return 1
    chunks = -(-batch_size // SPAN_LINES)
    if requested == 0:
        return min(available_cpus(), chunks) if batch_size >= AUTO_MIN_BATCH else 1
    return max(1, min(requested, chunks))


@contextmanager
def answers(
    verifier: Verifier, tokens: Sequence[str], *, workers: int
) -> Iterator[Iterator[list[Answer]]]:
    """The answers for `tokens`, a list per range (`span_sizes`), in order, from `workers`
    processes forked now (before any thread, such as a progress bar's, starts)."""

    def verify_range(task: tuple[int, int]) -> list[Answer]:
        start, stop = task
        return [answer(verifier.verify(token)) for token in tokens[start:stop]]

    ranges, start = [], 0
    for size in span_sizes(len(tokens), workers):
        ranges.append((start, start + size))
        start += size
    with in_order(ranges, verify_range, workers=workers) as chunks:
        yield chunks


def stream_json(
    verifier: Verifier,
    batch: Batch,
    *,
    workers: int,
    write: Callable[[str], object],
    indent: int | None,
) -> list[Outcome]:
    """Write each result `{"line": ..., **answer}` of the batch as JSON, in order, separated
    as `json.dumps(..., indent=indent)` separates the items of a list two levels down (the
    batch document's `results`); answer each token's outcome.

    A worker reads its span of the file itself, so it knows its lines' numbers only from the
    span's start; the numbers before it are counted here, as the spans come back in order."""
    render = _SpanRenderer(verifier, batch, indent)
    between = separator(indent)
    outcomes: list[Outcome] = []
    lines_before = 0
    with in_order(batch.spans(workers), render, workers=workers) as spans:
        for lines, numbers, tails, span_outcomes in spans:
            if numbers:
                text = between.join(
                    f"{render.head}{lines_before + number}{tail}"
                    for number, tail in zip(numbers, tails, strict=True)
                )
                write(between + text if outcomes else text)  # one write a span
            lines_before += lines
            outcomes += span_outcomes
    return outcomes


def separator(indent: int | None) -> str:
    """What `json.dumps(..., indent=indent)` writes between the items of a list two levels
    down (the batch document's `results`)."""
    return "," if indent is None else ",\n" + " " * (2 * indent)


def render_json(value: object, *, indent: int | None, level: int) -> str:
    """`value` as `json.dumps(document, indent=indent)` writes it `level` containers down."""
    if indent is None:
        return _COMPACT.encode(value)
    # A JSON text holds no raw newline (strings escape it): every newline starts a line.
    return json.dumps(value, indent=indent).replace("\n", "\n" + " " * (indent * level))


# `json.dumps(value, separators=(",", ":"))`, without a new encoder for every value, nor a
# search for cycles: what it writes is parsed JSON and our own dicts, trees.
_COMPACT = json.JSONEncoder(separators=(",", ":"), check_circular=False)


@contextmanager
def in_order(
    tasks: Sequence[Task], work: Callable[[Task], Result], *, workers: int
) -> Iterator[Iterator[Result]]:
    """`work(task)` for each task, in order, by `workers` processes: this one and the others
    forked now, which inherit `work` and `tasks` (this one alone for one task, or when no fork
    is possible)."""
    if workers <= 1 or len(tasks) <= 1:
        yield (work(task) for task in tasks)
        return
    pool = _Workers(tasks, work, workers - 1)
    try:
        yield pool.results()
    finally:
        pool.close()


class _Workers(Generic[Task, Result]):
    """Forked processes that read task numbers (4 bytes each: writes and reads that small are
    whole on a pipe) from one pipe and answer each as (number, result) written by `marshal`, its
    length first, on a pipe of their own."""

    def __init__(self, tasks: Sequence[Task], work: Callable[[Task], Result], count: int) -> None:
        self._tasks, self._work = tasks, work
        self._handed_out = 0
        self._answered_all = False
        self._selector = selectors.DefaultSelector()
        self._pipes: dict[int, tuple[int, bytearray]] = {}  # a worker's pipe: (pid, unread)
        task_read, self._task_write = os.pipe()
        try:
            for _ in range(count):
                self._fork(task_read)
        except OSError:
            pass  # out of processes or memory: fewer workers, or none (this process does it all)
        finally:
            os.close(task_read)
        self._hand_out(QUEUED_PER_WORKER * len(self._pipes))

    def results(self) -> Iterator[Result]:
        """The results in order. This process does a task whenever it would wait otherwise:
        the next one not handed out yet, or, once the workers are gone, one that a worker died
        with."""
        done: dict[int, Result] = {}
        for number, task in enumerate(self._tasks):
            while number not in done:
                if self._pipes:
                    self._receive(done, wait=self._handed_out == len(self._tasks))
                if number in done:
                    break
                if self._handed_out < len(self._tasks):
                    mine = self._handed_out
                    self._handed_out += 1
                    done[mine] = self._work(self._tasks[mine])
                    self._hand_out(0)  # it may have been the last
                elif not self._pipes:
                    done[number] = self._work(task)
            yield done.pop(number)
        self._answered_all = True

    def close(self) -> None:
        self._close_tasks()  # a worker ends once it reads the end of the tasks
        for fd, (pid, _unread) in list(self._pipes.items()):
            self._forget(fd)
            if not self._answered_all:  # stopped early (an error, Ctrl-C): no more answers
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self._selector.close()

    def _fork(self, task_read: int) -> None:
        answer_read, answer_write = os.pipe()
        _widen(answer_write)
        try:
            pid = os.fork()
        except OSError:
            os.close(answer_read)
            os.close(answer_write)
            raise
        if pid == 0:  # the worker: never returns into the parent's code
            status = 1
            try:
                os.close(self._task_write)  # else the task pipe never ends
                os.close(answer_read)
                for fd in self._pipes:
                    os.close(fd)
                self._serve(task_read, answer_write)
                status = 0
            finally:
                os._exit(status)
        os.close(answer_write)
        self._pipes[answer_read] = (pid, bytearray())
        self._selector.register(answer_read, selectors.EVENT_READ)

    def _serve(self, task_read: int, answer_write: int) -> None:
        with os.fdopen(answer_write, "wb") as out:
            while len(record := os.read(task_read, 4)) == 4:
                number = int.from_bytes(record, "little")
                payload = marshal.dumps((number, self._work(self._tasks[number])))
                out.write(len(payload).to_bytes(8, "little"))
                out.write(payload)
                out.flush()

    def _receive(self, done: dict[int, Result], *, wait: bool) -> None:
        for key, _events in self._selector.select(None if wait else 0):
            fd = key.fd
            data = os.read(fd, 1 << 20)
            pid, unread = self._pipes[fd]
            if not data:  # the worker has ended: its tasks done, or died
                self._forget(fd)
                _reap(pid)
                continue
            unread += data
            while len(unread) >= 8:
                size = int.from_bytes(unread[:8], "little")
                if len(unread) < 8 + size:
                    break
                number, result = marshal.loads(unread[8 : 8 + size])  # noqa: S302 - our own fork
                del unread[: 8 + size]
                done[number] = result
                self._hand_out(1)

    def _hand_out(self, count: int) -> None:
        while count > 0 and self._handed_out < len(self._tasks):
            os.write(self._task_write, self._handed_out.to_bytes(4, "little"))
            self._handed_out += 1
            count -= 1
        if self._handed_out == len(self._tasks):
            self._close_tasks()  # the workers end once they have read the last

    def _close_tasks(self) -> None:
        if self._task_write >= 0:
            os.close(self._task_write)
            self._task_write = -1

    def _forget(self, fd: int) -> None:
        self._selector.unregister(fd)
        os.close(fd)
        del self._pipes[fd]


# A span's answers with `--json` are about 130 kB, twice a pipe's default buffer (64 kB): a
# worker that wrote one blocked until this process, busy with a span of its own, read the rest.
ANSWER_PIPE_BYTES = 1 << 20  # Linux's default limit for an unprivileged process


def _widen(pipe: int) -> None:
    """Give `pipe` room for several spans' answers, where the system allows it."""
    import fcntl  # here: only where workers fork (Linux); Windows has no such module

    try:
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, ANSWER_PIPE_BYTES)
    except (AttributeError, OSError):  # not Linux, or a lower limit: the default buffer
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already: a SIGCHLD handler of a program that calls us
        pass


# The line number that a span's results are first written with: NaN, which nothing verified
# holds (the credentials' strict JSON refuses it), so one encoding of a whole span cuts into its
# results where it stands.
_LINE_MARK = float("nan")


class _SpanRenderer:
    """Read a span of a batch file, verify its tokens and write their results as JSON."""

    def __init__(self, verifier: Verifier, batch: Batch, indent: int | None) -> None:
        self.verifier, self.data, self.indent = verifier, batch.data, indent
        # What every result starts with, up to its line number (the first member).
        self.head = render_json({"line": 0}, indent=indent, level=2).partition("0")[0]
        self._mark = self.head + "NaN"
        # What follows a result in the span's list: a separator, or the end of the list.
        self._separator = separator(indent)
        self._end = "]" if indent is None else "\n" + " " * indent + "]"

    def __call__(self, span: tuple[int, int]) -> RenderedSpan:
        start, stop = span
        lines, items = span_tokens(self.data[start:stop])
        if not items:
            return lines, [], [], []
        verify = self.verifier.verify
        shown = [answer(verify(token)) for _number, token in items]
        # One encoding for the span: setting the encoder up costs about as much as a result.
        text = render_json([{"line": _LINE_MARK, **a} for a in shown], indent=self.indent, level=1)
        pieces = text.split(self._mark)[1:]
        if len(pieces) == len(shown):
            tails = [piece[: -len(self._separator)] for piece in pieces[:-1]]
            tails.append(pieces[-1][: -len(self._end)])
        else:  # a NaN that is not a mark (from no strict parser): each result on its own
            tails = ["," + render_json(a, indent=self.indent, level=2)[1:] for a in shown]
        numbers = [number for number, _token in items]
        return lines, numbers, tails, [(a["status"], a["reason"]) for a in shown]
