"""Technical assistance across the federation, by gap (report §37), on the global node.

§37: "UN-Habitat will provide technical assistance ... across the federation", and the global
node "sees requests by gap across the federation, to plan capacity building" (issue 16). Each
node reports its cities' requests as `assistance.requested` / `assistance.closed` events; the
projection keeps them (`FederationAssistanceRequest`) and this module counts them by gap.

How gaps of different frameworks compare: a national framework is derived from the global
baseline (`node/frameworks/adapt.py`): it may reword a baseline criterion for the national
context but keeps its code, and it may add criteria of its own (`national`). So a baseline
code (`B.c`) is the same gap in every country, and its requests are counted together across
nodes; a national criterion (`B.KE1`) has no counterpart elsewhere and is counted for its
country alone. No city and no person is named: counts of requests, cities and countries only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from sdgcities.node.assistance.models import Closure
from sdgcities.node.db import table_of

from .models import FederationAssistanceRequest


@dataclass(frozen=True, slots=True)
class FederationGap:
    """One gap's requests across the federation (a national criterion: within its country)."""

    criterion: str
    stage: str
    # None for a baseline criterion, compared across countries; a national criterion's country.
    country: str | None
    requests: int
    open: int
    resolved: int
    declined: int
    countries: int
    cities: int

    @property
    def national(self) -> bool:
        return self.country is not None


def federation_gaps(*, session: Session, stage: str | None = None) -> list[FederationGap]:
    """Every gap cities of the federation asked help with, the most asked-about first."""
    request = table_of(FederationAssistanceRequest).c
    by_country = (request.criterion, request.stage, request.national, request.country)
    where = [request.stage == stage] if stage is not None else []
    closures: Sequence[Any] = session.execute(
        select(*by_country, request.closure, func.count())
        .where(*where)
        .group_by(*by_country, request.closure)
    ).all()
    cities: Sequence[Any] = session.execute(
        select(*by_country, func.count(func.distinct(request.locode)))
        .where(*where)
        .group_by(*by_country)
    ).all()
    return _gaps(closures, cities)


GapKey = tuple[str, str, str | None]  # criterion, stage, and a national criterion's country


def _gaps(
    closures: Sequence[tuple[str, str, bool, str, str | None, int]],
    cities: Sequence[tuple[str, str, bool, str, int]],
) -> list[FederationGap]:
    requests: dict[GapKey, dict[str | None, int]] = {}
    for criterion, stage, national, country, closure, number in closures:
        by_closure = requests.setdefault((criterion, stage, country if national else None), {})
        by_closure[closure] = by_closure.get(closure, 0) + number
    # A city has one country, so a gap's cities are the sum of its countries'.
    places: dict[GapKey, tuple[int, int]] = {}
    for criterion, stage, national, country, number in cities:
        key = (criterion, stage, country if national else None)
        countries, counted = places.get(key, (0, 0))
        places[key] = (countries + 1, counted + number)
    gaps = [
        FederationGap(
            criterion=criterion,
            stage=stage,
            country=country,
            requests=sum(by_closure.values()),
            open=by_closure.get(None, 0),
            resolved=by_closure.get(Closure.RESOLVED.value, 0),
            declined=by_closure.get(Closure.DECLINED.value, 0),
            countries=places[(criterion, stage, country)][0],
            cities=places[(criterion, stage, country)][1],
        )
        for (criterion, stage, country), by_closure in requests.items()
    ]
    return sorted(gaps, key=lambda gap: (-gap.requests, gap.criterion, gap.country or ""))
