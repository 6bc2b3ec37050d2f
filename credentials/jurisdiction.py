"""Which cities a node certifies (DESIGN §3 "Jurisdiction"), as the trust list states it.

A national node certifies the cities of its own country, the country of its node id. The global
node certifies under §26b the cities of every country without a national node: the trust list
gives it every country (`"*"`) except those a national node holds, each excluded from the time
that node joined (`since`) and, once the node has withdrawn, up to the time it left (`until`; an
active or suspended node keeps its country). Whether the global node may have signed a
certificate is judged at its signing time, so what it certified before a national node joined
(or after it withdrew) stays valid.

On the wire, a trust-list node's `jurisdiction` member is one of:

    {"countries": ["KE"]}
    {"countries": "*", "excluded": [{"country": "KE", "since": "2026-03-01T09:00:00Z"},
                                    {"country": "UG", "since": "...", "until": "..."}]}

Countries are ISO 3166-1 alpha-2 codes (the officially assigned ones); anything else, an unknown
member, or two exclusions of one country that overlap in time is malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Self

from .countries import is_country_code
from .errors import MalformedError
from .vc import isoformat, parse_datetime

GLOBAL_NODE_ID: Final = "global"
EVERY_COUNTRY: Final = "*"
_JURISDICTION_MEMBERS: Final = frozenset({"countries", "excluded"})
_EXCLUSION_MEMBERS: Final = frozenset({"country", "since", "until"})


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A country the global node does not certify from `since` (a national node joined) until
    `until` (it withdrew; None while it is active or suspended)."""

    country: str
    since: datetime
    until: datetime | None = None

    def __post_init__(self) -> None:
        if not is_country_code(self.country):
            raise MalformedError(f"{self.country!r} is not an ISO 3166-1 alpha-2 country code")
        if self.until is not None and self.until <= self.since:
            raise MalformedError(f"the exclusion of {self.country} ends before it begins")

    def covers(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)

    def to_json(self) -> dict[str, str]:
        data = {"country": self.country, "since": isoformat(self.since)}
        if self.until is not None:
            data["until"] = isoformat(self.until)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Self:
        if not isinstance(data, dict) or not data.keys() <= _EXCLUSION_MEMBERS:
            raise MalformedError(
                "an exclusion is an object with country, since and optionally until"
            )
        country, since, until = data.get("country"), data.get("since"), data.get("until")
        if not isinstance(country, str) or not isinstance(since, str):
            raise MalformedError("an exclusion needs a country and a since date-time")
        if until is not None and not isinstance(until, str):
            raise MalformedError("an exclusion's until must be a date-time")
        try:
            return cls(
                country=country,
                since=parse_datetime(since),
                until=parse_datetime(until) if until is not None else None,
            )
        except ValueError as exc:
            raise MalformedError(f"an exclusion of {country} is malformed: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """The countries whose cities a node certifies: a fixed set (`countries`), or every country
    but the excluded ones (`countries` None)."""

    countries: frozenset[str] | None
    excluded: tuple[Exclusion, ...] = ()
    _by_country: Mapping[str, tuple[Exclusion, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.countries is not None:
            if unknown := sorted(c for c in self.countries if not is_country_code(c)):
                raise MalformedError(f"not ISO 3166-1 alpha-2 country codes: {unknown}")
            if self.excluded:
                raise MalformedError('only a jurisdiction of every country ("*") excludes some')
        by_country: dict[str, tuple[Exclusion, ...]] = {}
        for exclusion in sorted(self.excluded, key=lambda e: (e.country, e.since)):
            held = by_country.get(exclusion.country, ())
            if held and (held[-1].until is None or held[-1].until > exclusion.since):
                raise MalformedError(f"two exclusions of {exclusion.country} overlap")
            by_country[exclusion.country] = (*held, exclusion)
        object.__setattr__(self, "_by_country", by_country)

    @classmethod
    def national(cls, country: str) -> Self:
        return cls(countries=frozenset({country}))

    @classmethod
    def every_country(cls, *, excluded: tuple[Exclusion, ...] = ()) -> Self:
        return cls(countries=None, excluded=excluded)

    @classmethod
    def for_node_id(cls, node_id: str) -> Self:
        """What a node id implies: its own country for a national node, every country for the
        global node (with no exclusions: a list built in code says otherwise explicitly), and
        none for any other id."""
        if is_country_code(node_id):
            return cls.national(node_id)
        if node_id == GLOBAL_NODE_ID:
            return cls.every_country()
        return cls(countries=frozenset())

    def holds(self, country: str, *, at: datetime) -> bool:
        """Whether this node certifies `country`'s cities at `at` (a signing time)."""
        if self.countries is not None:
            return country in self.countries
        return not any(e.covers(at) for e in self._by_country.get(country, ()))

    def to_json(self) -> dict[str, Any]:
        if self.countries is not None:
            return {"countries": sorted(self.countries)}
        return {"countries": EVERY_COUNTRY, "excluded": [e.to_json() for e in self.excluded]}

    @classmethod
    def from_json(cls, data: Any) -> Self:
        if not isinstance(data, dict) or not data.keys() <= _JURISDICTION_MEMBERS:
            raise MalformedError("a jurisdiction is an object with countries and excluded")
        countries, excluded = data.get("countries"), data.get("excluded")
        if countries == EVERY_COUNTRY:
            if not isinstance(excluded, list):
                raise MalformedError('a jurisdiction of every country ("*") lists its exclusions')
            return cls.every_country(excluded=tuple(Exclusion.from_json(e) for e in excluded))
        if excluded is not None:
            raise MalformedError('only a jurisdiction of every country ("*") excludes some')
        if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
            raise MalformedError('a jurisdiction\'s countries are "*" or a list of country codes')
        if len(set(countries)) != len(countries):
            raise MalformedError("a jurisdiction lists a country twice")
        return cls(countries=frozenset(countries))
