"""The registry's snapshot of certified cities: renewed at once when a certificate changes (its
event moves the log head) or when the clock reaches a validity boundary; a city's own fields show
within the snapshot's maximum age."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from sdgcities.node.certificates.models import ProposalKind
from sdgcities.node.cities.models import City
from sdgcities.node.registry.cache import RegistryCache
from sdgcities.node.timeutil import utcnow

from .factories import Registrar


def listed(cache: RegistryCache, session: Session, **clock: float) -> list[tuple[str, str]]:
    now = utcnow() + timedelta(**clock)
    return [(e.name, e.level) for e in cache.snapshot(session=session, now=now).entries]


def test_a_certificate_change_shows_at_once(registrar: Registrar, session: Session) -> None:
    cache = RegistryCache(max_age=timedelta(days=1))
    registrar.city("KE-NBO", "Nairobi")
    assert listed(cache, session) == []
    registrar.issue("KE-NBO")
    assert listed(cache, session) == [("Nairobi", "silver")]
    registrar.issue("KE-NBO", "evidence-based-processes")
    assert listed(cache, session) == [("Nairobi", "gold")]
    registrar.issue("KE-NBO", "enabling-environment", then=ProposalKind.SUSPENSION)
    assert listed(cache, session) == [("Nairobi", "gold")]


def test_the_snapshot_lapses_when_a_certificate_expires(
    registrar: Registrar, session: Session
) -> None:
    cache = RegistryCache(max_age=timedelta(days=1))
    registrar.city("KE-NBO", "Nairobi")
    soon = utcnow() + timedelta(hours=1)
    # Three years of validity from a decision three years before `soon`.
    certificate = registrar.issue("KE-NBO", decided_at=soon.replace(year=soon.year - 3))
    now = utcnow()
    snapshot = cache.snapshot(session=session, now=now)
    assert snapshot.expires_at == certificate.valid_until
    assert listed(cache, session, minutes=59) == [("Nairobi", "silver")]
    assert listed(cache, session, minutes=61) == []


def test_a_city_edit_shows_within_the_maximum_age(registrar: Registrar, session: Session) -> None:
    cache = RegistryCache(max_age=timedelta(seconds=60))
    registrar.city("KE-NBO", "Nairobi")
    registrar.issue("KE-NBO")
    assert listed(cache, session) == [("Nairobi", "silver")]
    city = session.get(City, "KE-NBO")
    assert city is not None
    city.name = "Nairobi City"
    session.add(city)
    session.commit()
    # No event marks a city's own edit: the listing may be a minute old, as its Cache-Control
    # tells clients it may be anyway.
    assert listed(cache, session, seconds=30) == [("Nairobi", "silver")]
    assert listed(cache, session, seconds=61) == [("Nairobi City", "silver")]


def test_with_no_maximum_age_every_request_reads_afresh(
    registrar: Registrar, session: Session
) -> None:
    cache = RegistryCache(max_age=timedelta(0))
    registrar.city("KE-NBO", "Nairobi")
    registrar.issue("KE-NBO")
    assert listed(cache, session) == [("Nairobi", "silver")]
    city = session.get(City, "KE-NBO")
    assert city is not None
    city.name = "Nairobi City"
    session.add(city)
    session.commit()
    assert listed(cache, session) == [("Nairobi City", "silver")]
