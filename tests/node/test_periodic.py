"""The node's periodic duties all run through `run_periodically`: what each round logs, how a
failure is survived, and how the context's end stops the loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine

import pytest

from sdgcities.node.periodic import run_periodically

LOGGER = logging.getLogger("tests.periodic")


def _run(main: Callable[[], Coroutine[object, object, None]]) -> None:
    asyncio.run(main())


def test_a_failed_round_is_logged_and_the_next_one_tried(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def round_() -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return len(calls)

    async def main() -> None:
        async with run_periodically(
            round_,
            name="test",
            interval=0.01,
            logger=LOGGER,
            what="the test round",
            outcome=lambda n: f"round {n} done",
        ):
            while len(calls) < 3:
                await asyncio.sleep(0.005)

    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        _run(main)

    failure = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert failure.getMessage() == "the test round failed; next try in 0.01 s"
    assert failure.exc_info is not None  # an unexpected failure keeps its traceback
    assert "round 2 done" in [r.getMessage() for r in caplog.records]


def test_an_expected_failure_is_a_warning_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def round_() -> None:
        raise ConnectionError("global node unreachable")

    async def main() -> None:
        async with run_periodically(
            round_,
            name="test",
            interval=60,
            logger=LOGGER,
            what="trust-list sync",
            expected_failures=True,
        ):
            await asyncio.sleep(0.05)

    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        _run(main)

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "trust-list sync failed (global node unreachable); next try in 60 s"
    )


def test_nothing_is_logged_for_a_round_with_nothing_to_say(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        async with run_periodically(
            lambda: 0,
            name="test",
            interval=0.01,
            logger=LOGGER,
            what="the quiet round",
            outcome=lambda n: f"{n} sent" if n else None,
        ):
            await asyncio.sleep(0.05)

    with caplog.at_level(logging.DEBUG, logger=LOGGER.name):
        _run(main)

    assert caplog.records == []


def test_wait_first_delays_the_first_round_by_one_interval() -> None:
    calls: list[float] = []

    async def main() -> None:
        async with run_periodically(
            lambda: calls.append(time.monotonic()),
            name="test",
            interval=60,
            logger=LOGGER,
            what="the delayed round",
            wait_first=True,
        ):
            await asyncio.sleep(0.05)

    _run(main)

    assert calls == []


def test_leaving_the_context_ends_the_loop_without_waiting_the_interval() -> None:
    calls: list[float] = []

    async def main() -> float:
        async with run_periodically(
            lambda: calls.append(time.monotonic()),
            name="test",
            interval=3600,
            logger=LOGGER,
            what="the hourly round",
        ):
            while not calls:
                await asyncio.sleep(0.005)
            leaving = time.monotonic()
        return time.monotonic() - leaving

    took = asyncio.run(main())

    assert len(calls) == 1  # the first round runs at once, the next would be in an hour
    assert took < 5
