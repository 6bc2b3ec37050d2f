"""The node's periodic background work: one round in a worker thread every `interval` seconds,
for as long as a context (the app's lifespan) is open.

Every duty of `*/tasks.py` runs through `run_periodically`, so each behaves the same way: a
failed round is logged and the next one tried after the interval (a duty never stops the node);
leaving the context lets a running round finish, then returns at once rather than after the
interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

Result = TypeVar("Result")


@asynccontextmanager
async def run_periodically(
    round_: Callable[[], Result],
    *,
    name: str,
    interval: float,
    logger: logging.Logger,
    what: str,
    outcome: Callable[[Result], str | None] = lambda _result: None,
    wait_first: bool = False,
    expected_failures: bool = False,
) -> AsyncIterator[None]:
    """Run `round_` in a thread every `interval` seconds while the context is open.

    `what` names the round in the failure's log line ("the mail round"); `outcome` turns a
    round's result into an info line, or None for nothing worth saying. `wait_first`: the first
    round comes after one interval (work that the node did at start-up already).
    `expected_failures`: a failure is a warning with its reason, not an error with a traceback
    (a peer that is down, which the next round retries).
    """
    stop = asyncio.Event()

    async def loop() -> None:
        if wait_first and await _stopped_within(stop, interval):
            return
        while True:
            try:
                result = await asyncio.to_thread(round_)
            except Exception as exc:
                if expected_failures:
                    logger.warning("%s failed (%s); next try in %s s", what, exc, interval)
                else:
                    logger.exception("%s failed; next try in %s s", what, interval)
            else:
                said = outcome(result)
                if said:
                    logger.info("%s", said)
            if await _stopped_within(stop, interval):
                return

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        stop.set()
        await task


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    return False
