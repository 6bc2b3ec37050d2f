"""Learning communities across countries (report §30c), from what national nodes report for
the cities that consent.

Every stage report a node generates already goes to the global node as a `report.generated`
event whose data lists the report's gaps (criterion codes; the national frameworks keep the
baseline's codes, so they compare across countries). A city's applicants give, or withdraw,
their consent to have those gaps used across countries (`PUT /communities/sharing`); each
change is a `community.sharing` event (`data.share`) of the node's log, which the relay takes
to the global node like any other.

On the global node, `proposals` reads the ingested events of both types in each node's log
order, each through its type's model (`ReportGenerated`, `SharingConsent`; an event whose data
does not fit is passed over), and keeps, for each city, the gaps of its latest report and its
latest answer, trusting an event only from a node whose jurisdiction holds the city's country
now (the trust list);
a city without a standing consent is left out, whatever its reports say. The proposals are
grouped as a node's own are (`service.shared_gaps`), with the cities' names and priorities
from the federation's registry where it lists them. Forming such a community, which needs the
member nodes to invite their cities (whose people have accounts there only), is `across`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session, col, select

from sdgcities.credentials import is_locode
from sdgcities.federation import EventType
from sdgcities.federation.event_data import (
    EVENT_DATA,
    EventData,
    EventDataInvalid,
    ReportGenerated,
    SharingConsent,
)
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import Settings
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.federation_registry.models import FederationCity
from sdgcities.node.ingest.models import IngestedEvent
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from .models import Community, CommunitySharing, FederationMember
from .schemas import CityName, CommunityProposal, GapRef, SharingUpdate
from .service import ranked, shared_gaps, shared_priorities

READ_TYPES: Final = (EventType.REPORT_GENERATED.value, EventType.COMMUNITY_SHARING.value)
_CODE: Final = re.compile(r"[A-Za-z0-9._-]{1,32}")
MAX_REPORTED_GAPS: Final = 100


# A city's consent (its own node) -----------------------------------------------------------------


def sharing_of(*, session: Session, locode: str) -> CommunitySharing | None:
    return session.get(CommunitySharing, locode)


def set_sharing(
    *, session: Session, settings: Settings, actor: Actor, data: SharingUpdate
) -> CommunitySharing:
    """Gives or withdraws the city's consent, as an event the global node receives."""
    assert actor.city_locode is not None
    assert actor.user_id is not None
    sharing = session.get(CommunitySharing, actor.city_locode, with_for_update=True)
    if sharing is not None and sharing.share is data.share:
        raise Conflict(
            f"{actor.city_locode} has already {'given' if data.share else 'withdrawn'} its "
            "consent to share its gaps across countries"
        )
    if sharing is None:
        if not data.share:
            raise Conflict(f"{actor.city_locode} has given no consent to withdraw")
        sharing = CommunitySharing(
            city_locode=actor.city_locode, share=True, updated_by=actor.user_id
        )
    sharing.share = data.share
    sharing.updated_at = utcnow()
    sharing.updated_by = actor.user_id
    session.add(sharing)
    append_event(
        session=session,
        node_id=settings.node_id,
        type=EventType.COMMUNITY_SHARING,
        subject={"locode": actor.city_locode},
        data=SharingConsent(share=data.share),
    )
    record(
        session=session,
        actor=actor,
        action="community.sharing",
        target_type="city",
        target_id=actor.city_locode,
        detail={"share": data.share},
    )
    session.flush()
    return sharing


# The global node's proposals ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reported:
    node_id: str
    gaps: frozenset[str]


def _gaps(report: ReportGenerated) -> frozenset[str] | None:
    """The report's gaps if they are criterion codes, at most `MAX_REPORTED_GAPS` of them."""
    if len(report.gaps) > MAX_REPORTED_GAPS:
        return None
    if not all(_CODE.fullmatch(code) for code in report.gaps):
        return None
    return frozenset(report.gaps)


def _read(kind: str, data: Any) -> EventData | None:
    """The event's data as its type's model reads it; None when it does not fit."""
    try:
        return EVENT_DATA[EventType(kind)].from_data(data)
    except EventDataInvalid:
        return None


def reported_gaps(*, session: Session, settings: Settings, now: datetime) -> dict[str, Reported]:
    """Each consenting city's gaps, as its node reported them (see the module's docstring)."""
    if not settings.is_global:
        raise NotFound("cities' gaps across countries are read on the global node only")
    trust_list = load_current(session=session, settings=settings)
    if trust_list is None:
        return {}
    rows = session.exec(
        select(IngestedEvent.node_id, IngestedEvent.type, IngestedEvent.subject, IngestedEvent.data)
        .where(col(IngestedEvent.type).in_(READ_TYPES))
        .order_by(col(IngestedEvent.node_id), col(IngestedEvent.sequence))
    ).all()
    latest: dict[str, Reported] = {}
    consent: dict[str, tuple[str, bool]] = {}
    for node_id, kind, subject, data in rows:
        locode = subject.get("locode") if isinstance(subject, dict) else None
        node = trust_list.node(node_id)
        if not is_locode(locode) or node is None or not node.certifies(locode[:2], at=now):
            continue
        read = _read(kind, data)
        if isinstance(read, SharingConsent):
            consent[locode] = (node_id, read.share)
        elif isinstance(read, ReportGenerated):
            gaps = _gaps(read)
            if gaps is not None:
                latest[locode] = Reported(node_id, gaps)
    return {
        locode: reported
        for locode, reported in latest.items()
        if consent.get(locode) == (reported.node_id, True)
    }


def proposals(*, session: Session, settings: Settings, now: datetime) -> list[CommunityProposal]:
    """Groups of consenting cities, of any countries, that share gaps; most shared gaps first."""
    reported = reported_gaps(session=session, settings=settings, now=now)
    known = {
        city.locode: city
        for city in session.exec(
            select(FederationCity).where(col(FederationCity.locode).in_(list(reported)))
        ).all()
    }
    formed = formed_across(session)
    found = []
    for group, codes in shared_gaps(
        {locode: set(city.gaps) for locode, city in reported.items()}
    ).items():
        locodes = sorted(group)
        cities = [
            CityName(
                locode=locode,
                name=known[locode].name if locode in known else locode,
                country=locode[:2],
            )
            for locode in locodes
        ]
        found.append(
            CommunityProposal(
                gaps=[GapRef(code=code, text="") for code in codes],
                cities=cities,
                shared_priorities=shared_priorities(
                    [known[locode].priorities if locode in known else [] for locode in locodes]
                ),
                formed=formed.get((frozenset(codes), frozenset(locodes))),
            )
        )
    return ranked(found)


def formed_across(session: Session) -> dict[tuple[frozenset[str], frozenset[str]], int]:
    """The communities formed across countries, by their gaps and cities."""
    cities: dict[int, set[str]] = {}
    for community_id, locode in session.exec(
        select(FederationMember.community_id, FederationMember.city_locode)
    ).all():
        cities.setdefault(community_id, set()).add(locode)
    if not cities:
        return {}
    return {
        (frozenset(community.gaps), frozenset(cities[community_id])): community_id
        for community in session.exec(
            select(Community).where(col(Community.id).in_(list(cities)))
        ).all()
        for community_id in (saved_id(community.id),)
    }
