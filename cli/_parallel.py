"""Large offline batches on several cores: forked workers that use the parent's `Verifier`.

A signature check is CPU work that one Python process does on one core. For a large offline
batch the command forks workers after the trust data is loaded: each inherits the parent's
`Verifier` (one per process, its status lists read once) and answers whole chunks of tokens in
the JSON form, in order. Only offline (an online verifier holds an HTTP connection pool, which a
fork must not share), only where processes are forked (Linux), and only when asked for or when
the batch is large enough to pay for the workers. If a worker dies, the batch is verified again
in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from sdgcities.credentials import Verifier

from ._report import Answer, answer

AUTO_MIN_BATCH = 1000  # below this, forking workers costs more than it saves
CHUNK = 200  # tokens per task: few enough round trips, fine enough for the progress bar

# The verifier the workers use: set in the parent just before they are forked, so that each
# inherits it (with its trust list) instead of receiving it through a pipe.
_verifier: Verifier | None = None


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
def workers(verifier: Verifier, count: int) -> Iterator[ProcessPoolExecutor | None]:
    """The worker processes, forked now (before any thread, such as a progress bar's, starts).

    None when one process is asked for, or when the workers cannot be started.
    """
    global _verifier  # inherited by the forked workers, see above
    if count <= 1:
        yield None
        return
    _verifier = verifier
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
        _verifier = None


def verify_all(
    verifier: Verifier,
    tokens: Sequence[str],
    *,
    pool: ProcessPoolExecutor | None,
    done: Callable[[int], None],
) -> list[Answer]:
    """The answer for each token, in order; `done(n)` after every chunk."""
    if pool is not None:
        chunks = [list(tokens[i : i + CHUNK]) for i in range(0, len(tokens), CHUNK)]
        answers: list[Answer] = []
        try:
            for chunk_answers in pool.map(_verify_chunk, chunks):
                answers += chunk_answers
                done(len(answers))
        except BrokenProcessPool:
            pass  # a worker died (killed, out of memory): verify here instead
        else:
            return answers
    verify = verifier.verify
    answers = []
    for start in range(0, len(tokens), CHUNK):
        answers += [answer(verify(token)) for token in tokens[start : start + CHUNK]]
        done(len(answers))
    return answers


def _verify_chunk(tokens: list[str]) -> list[Answer]:
    if _verifier is None:  # pragma: no cover - only ever called in a forked worker
        raise RuntimeError("no verifier in this worker")
    verify = _verifier.verify
    return [answer(verify(token)) for token in tokens]
