"""The relay's retry policy: full-jitter back-off under a cap, and Retry-After honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sdgcities.node.relay.service import MAX_RETRY_AFTER_SECONDS, backoff_delay, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_backoff_grows_then_stays_under_the_cap() -> None:
    for failures in range(40):
        delay = backoff_delay(failures, base=1.0, cap=300.0)
        assert 0 <= delay <= min(300.0, 2.0**failures)
    assert max(backoff_delay(20, base=1.0, cap=300.0) for _ in range(200)) > 150


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=NOW) == 90.0
    past = format_datetime(NOW - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0
    assert parse_retry_after("999999", now=NOW) == MAX_RETRY_AFTER_SECONDS
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None
