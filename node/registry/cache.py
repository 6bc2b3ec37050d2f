"""The certified cities as the listing shows them, read once and shared until they may change.

Which cities are certified, and at what level, is an aggregate over every current certificate
and the cities that hold one: at 100,000 certificates and 10,000 cities it reads some 20,000 rows
(a fifth of a second on the loaded benchmark machine), far too much for every listing, and only
committee decisions and the clock change it. So the node keeps one `Snapshot` of it, and takes
a new one when

- the event log's head has moved: every issuance, suspension, reinstatement and revocation
  appends its event in its own transaction, serialised on the head row, so a new head is
  exactly "a certificate may have changed" (read first, so a snapshot is never older than the
  head it is filed under);
- the clock reaches the next moment a current certificate expires or a future one begins;
- it is `max_age` old: what changes without an event (a city's name or priorities, rows loaded
  outside the workflow) shows within that time, as the listing's `Cache-Control` already allows.

The snapshot is an immutable tuple; requests filter it without a lock. Taking one is serialised,
so a burst of requests after a change computes it once.

Where it reads is a `RegistrySource`: a national node's own `certificate` and `city` tables and
its event log head (`NATIONAL`), or on the global node the federation's projection of every
node's certificates and its change counter (`FEDERATION`, `node/federation_registry`). The two
pairs of tables have the columns read here under the same names, so one code serves both.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, Final, NamedTuple

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from sdgcities.node.certificates.models import Certificate, CertificateStatus
from sdgcities.node.cities.models import City
from sdgcities.node.events.models import EventLogHead
from sdgcities.node.federation_registry.models import (
    FederationCertificate,
    FederationCity,
    FederationRegistryHead,
)
from sdgcities.node.frameworks import LEVEL_BY_STAGE, STAGE_ORDER, Level, StageKey

DEFAULT_MAX_AGE: Final = timedelta(seconds=60)

# Stages are certified in order, so a level's rank is its stage's place in that order.
RANK_BY_LEVEL: Final[dict[str, int]] = {
    LEVEL_BY_STAGE[stage]: rank for rank, stage in enumerate(STAGE_ORDER, start=1)
}
STAGE_BY_RANK: Final[dict[int, StageKey]] = dict(enumerate(STAGE_ORDER, start=1))


class Entry(NamedTuple):
    """A certified city's public fields, its highest current rank, and its search keys.

    A named tuple: a snapshot builds one per certified city, and a frozen dataclass's
    `object.__setattr__` per field made that the larger part of taking a snapshot."""

    locode: str
    name: str
    country: str
    region: str
    population: int | None
    priorities: tuple[str, ...]
    rank: int
    name_key: str
    locode_key: str
    priority_keys: frozenset[str]

    @property
    def stage(self) -> StageKey:
        return STAGE_BY_RANK[self.rank]

    @property
    def level(self) -> Level:
        return LEVEL_BY_STAGE[self.stage]


@dataclass(frozen=True, slots=True)
class Snapshot:
    entries: tuple[Entry, ...]
    """By name (case-folded), then UN/LOCODE: the listing's order, the same on every database."""
    head: tuple[int, str]
    taken_at: datetime
    expires_at: datetime
    # The same entries by country and by level, in the same order.
    by_country: Mapping[str, tuple[Entry, ...]]
    by_level: Mapping[str, tuple[Entry, ...]]
    # Every entry's search keys in one text, `name_key<TAB>locode_key<LF>` in the entries'
    # order, and where each entry's line starts: a search runs `str.find` over it (C speed)
    # instead of two substring tests per city in Python.
    search_text: str
    search_starts: tuple[int, ...]

    @classmethod
    def of(
        cls,
        entries: Sequence[Entry],
        *,
        head: tuple[int, str],
        taken_at: datetime,
        expires_at: datetime,
    ) -> Snapshot:
        """The snapshot of `entries` (in the listing's order), with its ready-made lists."""
        by_country: dict[str, list[Entry]] = {}
        by_level: dict[str, list[Entry]] = {}
        lines: list[str] = []
        starts: list[int] = []
        offset = 0
        for entry in entries:
            by_country.setdefault(entry.country, []).append(entry)
            by_level.setdefault(entry.level, []).append(entry)
            line = f"{entry.name_key}\t{entry.locode_key}\n"
            lines.append(line)
            starts.append(offset)
            offset += len(line)
        return cls(
            entries=tuple(entries),
            head=head,
            taken_at=taken_at,
            expires_at=expires_at,
            by_country={key: tuple(group) for key, group in by_country.items()},
            by_level={key: tuple(group) for key, group in by_level.items()},
            search_text="".join(lines),
            search_starts=tuple(starts),
        )

    def fresh(self, *, head: tuple[int, str], now: datetime) -> bool:
        return head == self.head and self.taken_at <= now < self.expires_at

    def containing(self, text: str) -> list[Entry] | None:
        """The entries whose name or UN/LOCODE key contains `text` (case-folded), in order;
        `None` for a text holding a separator of `search_text` (the caller tests every entry)."""
        if not text or any(separator in text for separator in SEARCH_SEPARATORS):
            return None
        haystack, starts, entries = self.search_text, self.search_starts, self.entries
        found = []
        position = haystack.find(text)
        while position >= 0:
            index = bisect_right(starts, position) - 1
            found.append(entries[index])
            if index + 1 == len(entries):
                break
            # One hit per entry: go on from the next entry's line.
            position = haystack.find(text, starts[index + 1])
        return found


SEARCH_SEPARATORS: Final = ("\t", "\n")


def read_head(session: Session) -> tuple[int, str]:
    # The head table holds one row (node.events), which every append updates.
    sequence, head_hash = session.exec(select(EventLogHead.sequence, EventLogHead.hash)).one()
    return sequence, head_hash


def read_federation_head(session: Session) -> tuple[int, str]:
    # Moved in the transaction of every ingested batch that changes a certificate or a city.
    head = session.exec(
        select(FederationRegistryHead.version, FederationRegistryHead.stamp).where(
            FederationRegistryHead.id == 1
        )
    ).first()
    return (0, "") if head is None else (head[0], head[1])


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """The tables a registry reads, and what tells that they may have changed."""

    certificate: type[Certificate] | type[FederationCertificate]
    city: type[City] | type[FederationCity]
    read_head: Callable[[Session], tuple[int, str]]

    def current(self, now: datetime) -> list[Any]:
        """The conditions of a current certificate: active and within its validity."""
        return [
            col(self.certificate.status) == CertificateStatus.ACTIVE,
            col(self.certificate.valid_from) <= now,
            col(self.certificate.valid_until) > now,
        ]


NATIONAL: Final = RegistrySource(certificate=Certificate, city=City, read_head=read_head)
"""A node's own certificates (every national node)."""
FEDERATION: Final = RegistrySource(
    certificate=FederationCertificate, city=FederationCity, read_head=read_federation_head
)
"""Every node's certificates, as reported (the global node)."""


def take_snapshot(
    *, session: Session, now: datetime, max_age: timedelta, source: RegistrySource = NATIONAL
) -> Snapshot:
    """The certified cities now, read in one transaction after the head they go with."""
    head = source.read_head(session)
    certificate, city = source.certificate, source.city
    current = source.current(now)
    # Both statements read a range of `ix_certificate_registry_current` (active, not yet
    # expired) and never the rows with their tokens. The highest level is taken here rather
    # than by a GROUP BY, for which SQLite would rather walk every certificate in city order.
    # Thousands of plain rows: read through the Core connection, without ORM row loading.
    connection = session.connection()
    ranks: dict[str, int] = {}
    for locode, level in connection.execute(
        core_select(col(certificate.city_locode), col(certificate.level)).where(*current)
    ):
        ranks[locode] = max(ranks.get(locode, 0), RANK_BY_LEVEL.get(level, 0))
    certified = core_select(col(certificate.city_locode)).where(*current)
    rows: Sequence[Any] = connection.execute(
        core_select(
            col(city.locode),
            col(city.name),
            col(city.country),
            col(city.region),
            col(city.population),
            col(city.priorities),
        ).where(col(city.locode).in_(certified))
    ).all()
    # The listing changes when the first current certificate expires or a future one begins.
    next_end = session.exec(select(func.min(certificate.valid_until)).where(*current)).one()
    next_start = session.exec(
        select(func.min(certificate.valid_from)).where(
            col(certificate.status) == CertificateStatus.ACTIVE,
            col(certificate.valid_until) > now,
            col(certificate.valid_from) > now,
        )
    ).one()
    expires_at = min(
        moment for moment in (now + max_age, next_end, next_start) if moment is not None
    )
    entries = sorted(
        (
            Entry(
                locode,
                name,
                country,
                region,
                population,
                tuple(priorities),
                ranks[locode],
                name.casefold(),
                locode.casefold(),
                frozenset(map(str.casefold, priorities)),
            )
            for locode, name, country, region, population, priorities in rows
            # On PostgreSQL each statement sees what was committed before it began: a city
            # certified in between has no rank yet, and the moved log head retakes the snapshot.
            if ranks.get(locode, 0) > 0
        ),
        key=attrgetter("name_key", "locode"),
    )
    return Snapshot.of(entries, head=head, taken_at=now, expires_at=expires_at)


class RegistryCache:
    """The node's current `Snapshot`; `max_age=timedelta(0)` takes one for every request."""

    def __init__(
        self, *, max_age: timedelta = DEFAULT_MAX_AGE, source: RegistrySource = NATIONAL
    ) -> None:
        self.max_age = max_age
        self.source = source
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, *, session: Session, now: datetime) -> Snapshot:
        head = self.source.read_head(session)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.fresh(head=head, now=now):
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or not snapshot.fresh(head=head, now=now):
                snapshot = take_snapshot(
                    session=session, now=now, max_age=self.max_age, source=self.source
                )
                self._snapshot = snapshot
            return snapshot

    def clear(self) -> None:
        with self._lock:
            self._snapshot = None
