"""The dashboard's certificate counts: taken again when the registry's head moves or when they
are older than `max_age`, reused otherwise."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from sdgcities.node.monitoring.service import CertificateCount, TallyCache, month_starts
from sdgcities.node.timeutil import utcnow

from ..federation_registry.conftest import MakeLog


def test_the_tally_follows_the_registry_head(make_log: MakeLog, session: Session) -> None:
    cache = TallyCache(max_age=timedelta(hours=1), months=3)
    now = utcnow()
    empty = cache.tally(session=session, now=now)
    assert empty.current == {}
    assert cache.tally(session=session, now=now + timedelta(seconds=1)) is empty

    kenya = make_log("KE")
    kenya.issue("KE-NBO")
    kenya.send()
    session.expire_all()
    moved = cache.tally(session=session, now=utcnow())
    assert moved is not empty
    assert moved.current == {"KE": [CertificateCount("qualification", "silver", 1)]}
    assert [(row.stage, row.count) for row in moved.monthly] == [("qualification", 1)]
    assert moved.monthly[0].month == month_starts(now=moved.taken_at, months=1)[0]


def test_the_tally_is_taken_again_after_its_max_age(session: Session) -> None:
    cache = TallyCache(max_age=timedelta(minutes=1))
    now = utcnow()
    first = cache.tally(session=session, now=now)
    assert cache.tally(session=session, now=now + timedelta(seconds=59)) is first
    assert cache.tally(session=session, now=now + timedelta(minutes=1)) is not first


def test_month_starts_cross_a_year() -> None:
    starts = month_starts(now=utcnow().replace(year=2026, month=2, day=10), months=3)
    assert [(start.year, start.month, start.day) for start in starts] == [
        (2025, 12, 1),
        (2026, 1, 1),
        (2026, 2, 1),
    ]
