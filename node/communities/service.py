"""Learning communities: cities with similar gaps learn together (report §18, §30c).

§18: the certification process will "guide cities towards available technical tools, resources,
support and learning communities (cities and institutions with similar challenges and
solutions) so that they are better equipped to address challenges and bottlenecks."

§30(c): "Diagnostic processes linked to certification stages can enable cities with common
challenges and priorities to be grouped as 'learning communities' where they can learn from
each other and benefit from joint training support programmes."

The diagnostic is the stage report: its gaps are the criteria not met or partly met. The node
proposes, from each city's latest stage report, the groups of at least two cities that share
gaps (with the strategic priorities they share beside them); the secretariat forms a community
from a proposal, and each city is invited and told. A city joins with its consent, or declines:

    invited ──join──▶ joined ──decline (leave)──▶ declined ──join──▶ joined

Consent decides what others see. A city that has not joined sees the community's gaps (its own)
and their tools, but neither the other cities nor the events and discussion; a joined city sees
the cities that joined, never one that was invited or declined. The secretariat sees every
invitation. Events (webinars, peer exchanges) are scheduled by the secretariat and sent to the
joined cities' people as calendar invitations; members and the secretariat post in the
discussion. Every change is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.applications.models import Application
from sdgcities.node.audit.service import record
from sdgcities.node.catalogue.service import match_tools_for_gaps
from sdgcities.node.cities.models import City
from sdgcities.node.config import Settings
from sdgcities.node.db import page_of, saved_id
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.notifications import service as notices
from sdgcities.node.reports import service as reports
from sdgcities.node.reports.models import StageReport
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from . import across
from .models import (
    Community,
    CommunityEvent,
    CommunityMember,
    CommunityPost,
    Consent,
    FederationMember,
)
from .schemas import (
    CityName,
    CommunityCreate,
    CommunityProposal,
    CommunityPublic,
    ConsentCreate,
    EventCreate,
    EventPublic,
    GapRef,
    GapTools,
    MemberPublic,
    PostCreate,
    PostPublic,
    ToolLink,
)

TARGET = "community"
TOOLS_PER_GAP = 3
# The discussion a page shows: the newest posts, oldest first.
POSTS_SHOWN = 200
STAFF = frozenset({Role.SECRETARIAT, Role.ADMINISTRATOR})


# Proposing --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CityGaps:
    """A city's gaps in its latest stage report, with each criterion's text."""

    city: City
    gaps: dict[str, str]


def latest_gaps(*, session: Session) -> dict[str, CityGaps]:
    """Each city's gaps in the newest stage report of any of its applications (a later
    application's report replaces an earlier one: what the city is working on now)."""
    newest_first = session.exec(
        select(StageReport.id, Application.city_locode)
        .join(Application, col(Application.id) == col(StageReport.application_id))
        .order_by(col(StageReport.generated_at).desc(), col(StageReport.id).desc())
    ).all()
    latest: dict[str, int] = {}
    for report_id, locode in newest_first:
        latest.setdefault(locode, saved_id(report_id))
    reports_by_id = {
        report.id: report
        for report in session.exec(
            select(StageReport).where(col(StageReport.id).in_(list(latest.values())))
        ).all()
    }
    found: dict[str, CityGaps] = {}
    for locode, report_id in latest.items():
        document = reports.document_of(reports_by_id[report_id])
        city = session.get(City, locode)
        assert city is not None
        found[locode] = CityGaps(
            city=city, gaps={c.code: c.text for c in document.criteria if c.gap}
        )
    return found


def shared_gaps(gaps_by_city: Mapping[str, set[str]]) -> dict[frozenset[str], list[str]]:
    """For each gap, the group of cities that have it (two at least); for each group, every
    gap all of its cities have."""
    cities_by_gap: dict[str, set[str]] = defaultdict(set)
    for locode, gaps in gaps_by_city.items():
        for code in gaps:
            cities_by_gap[code].add(locode)
    groups = {frozenset(sharing) for sharing in cities_by_gap.values() if len(sharing) >= 2}
    return {
        group: sorted(set.intersection(*(gaps_by_city[locode] for locode in group)))
        for group in groups
    }


def shared_priorities(priorities: Sequence[Sequence[str]]) -> list[str]:
    """The priorities every city names, compared without case (spelled as the first names it)."""
    by_word = [{p.strip().casefold(): p.strip() for p in named} for named in priorities]
    shared = set(by_word[0]).intersection(*by_word[1:])
    return sorted(by_word[0][key] for key in shared)


def proposals(*, session: Session) -> list[CommunityProposal]:
    """Groups of at least two cities sharing gaps: for each gap, the cities that have it; then,
    for each such group, every gap all of its cities have. Most shared gaps first, then most
    shared priorities (§30c: "common challenges and priorities"), then most cities."""
    latest = latest_gaps(session=session)
    gaps_by_cities = shared_gaps({locode: set(found.gaps) for locode, found in latest.items()})
    formed = {
        (frozenset(community.gaps), frozenset(_members(session, community))): saved_id(community.id)
        for community in session.exec(select(Community)).all()
    }
    found = []
    for locodes, codes in gaps_by_cities.items():
        cities = [latest[locode].city for locode in sorted(locodes)]
        first = latest[min(locodes)]
        found.append(
            CommunityProposal(
                gaps=[GapRef(code=code, text=first.gaps[code]) for code in codes],
                cities=[_city_name(city) for city in cities],
                shared_priorities=shared_priorities([city.priorities for city in cities]),
                formed=formed.get((frozenset(codes), locodes)),
            )
        )
    return ranked(found)


def ranked(found: list[CommunityProposal]) -> list[CommunityProposal]:
    return sorted(
        found,
        key=lambda p: (
            -len(p.gaps),
            -len(p.shared_priorities),
            -len(p.cities),
            [g.code for g in p.gaps],
        ),
    )


def _city_name(city: City) -> CityName:
    return CityName(locode=city.locode, name=city.name, country=city.country)


def _members(session: Session, community: Community) -> list[str]:
    return list(
        session.exec(
            select(CommunityMember.city_locode).where(CommunityMember.community_id == community.id)
        ).all()
    )


# Forming ----------------------------------------------------------------------------------------


def form(*, session: Session, settings: Settings, actor: Actor, data: CommunityCreate) -> Community:
    """Forms the community and invites its cities; each city's people are told."""
    gaps = sorted(dict.fromkeys(data.gaps))
    locodes = sorted(dict.fromkeys(data.cities))
    if len(locodes) < 2:
        raise InvalidRequest("a community is formed of at least two different cities")
    latest = latest_gaps(session=session)
    texts: dict[str, str] = {}
    for locode in locodes:
        if session.get(City, locode) is None:
            raise InvalidRequest(f"no city {locode} on this node")
        city_gaps = latest.get(locode)
        if city_gaps is None:
            raise InvalidRequest(f"{locode} has no stage report: its gaps are not known")
        missing = [code for code in gaps if code not in city_gaps.gaps]
        if missing:
            listed = ", ".join(sorted(city_gaps.gaps)) or "none"
            raise InvalidRequest(
                f"{', '.join(missing)} is not a gap of {locode}'s latest stage report (its "
                f"gaps: {listed}); a community is formed around gaps its cities share"
            )
        texts.update({code: city_gaps.gaps[code] for code in gaps})
    for existing in session.exec(select(Community)).all():
        if set(existing.gaps) == set(gaps) and set(_members(session, existing)) == set(locodes):
            raise Conflict(
                f"community {existing.id} ({existing.title}) is already formed of these "
                "cities around these gaps"
            )
    community = Community(
        title=data.title,
        description=data.description,
        gaps=gaps,
        gap_texts=texts,
        formed_by=saved_id(actor.user_id),
    )
    session.add(community)
    session.flush()
    for locode in locodes:
        session.add(
            CommunityMember(
                community_id=saved_id(community.id), city_locode=locode, consent=Consent.INVITED
            )
        )
    session.flush()
    _audit(session, actor, "community.form", community, gaps=gaps, cities=locodes)
    notices.notify_community_formed(
        session=session, settings=settings, community=community, locodes=locodes
    )
    return community


# Reading ----------------------------------------------------------------------------------------


def membership_of(
    *, session: Session, community: Community, locode: str | None
) -> CommunityMember | None:
    if locode is None:
        return None
    return session.exec(
        select(CommunityMember).where(
            CommunityMember.community_id == community.id,
            CommunityMember.city_locode == locode,
        )
    ).first()


def get_community_or_raise(
    *, session: Session, actor: Actor, community_id: int, for_update: bool = False
) -> Community:
    """Staff read every community; a city's people only one their city is invited to."""
    query = select(Community).where(Community.id == community_id)
    if for_update:
        query = query.with_for_update()
    community = session.exec(query).first()
    if community is None or (
        actor.role not in STAFF
        and membership_of(session=session, community=community, locode=actor.city_locode) is None
    ):
        raise NotFound(f"no community {community_id}")
    return community


def list_communities(
    *, session: Session, actor: Actor, offset: int, limit: int
) -> tuple[list[tuple[Community, Consent | None, int]], int]:
    """The communities the actor may see, newest first, each with the city's answer (None for
    staff) and how many cities joined."""
    conditions: list[Any] = []
    if actor.role not in STAFF:
        mine = select(CommunityMember.community_id).where(
            CommunityMember.city_locode == actor.city_locode
        )
        conditions.append(col(Community.id).in_(mine))
    found, count = page_of(
        session,
        Community,
        conditions=conditions,
        order_by=[col(Community.id).desc()],
        offset=offset,
        limit=limit,
    )
    listed = []
    for community in found:
        membership = membership_of(session=session, community=community, locode=actor.city_locode)
        listed.append(
            (
                community,
                membership.consent if membership is not None and actor.role not in STAFF else None,
                _joined_count(session, community),
            )
        )
    return listed, count


def _joined_count(session: Session, community: Community) -> int:
    """The cities that joined: the node's own, and (on the global node) those of its members'
    nodes, or (on a member node) those of other nodes as the global node last said."""
    own = session.exec(
        select(func.count())
        .select_from(CommunityMember)
        .where(
            CommunityMember.community_id == community.id,
            CommunityMember.consent == Consent.JOINED,
        )
    ).one()
    elsewhere = session.exec(
        select(func.count())
        .select_from(FederationMember)
        .where(
            FederationMember.community_id == community.id,
            FederationMember.consent == Consent.JOINED,
        )
    ).one()
    return own + elsewhere + len(across.joined_elsewhere(session=session, community=community))


def can_see_members(*, actor: Actor, membership: CommunityMember | None) -> bool:
    """Staff, or a city that joined: the others' consent was to share with members."""
    return actor.role in STAFF or (membership is not None and membership.consent is Consent.JOINED)


def members(
    *, session: Session, actor: Actor, community: Community
) -> list[tuple[CommunityMember, City]]:
    """The cities the actor may see: every invitation for staff, the joined ones for a member,
    none for a city that has not joined."""
    membership = membership_of(session=session, community=community, locode=actor.city_locode)
    if not can_see_members(actor=actor, membership=membership):
        return []
    query = (
        select(CommunityMember, City)
        .join(City, col(City.locode) == col(CommunityMember.city_locode))
        .where(CommunityMember.community_id == community.id)
        .order_by(col(City.name))
    )
    if actor.role not in STAFF:
        query = query.where(CommunityMember.consent == Consent.JOINED)
    return [(member, city) for member, city in session.exec(query).all()]


def gap_tools(*, session: Session, community: Community) -> list[GapTools]:
    """The catalogue's tools and case studies for each of the community's gaps (§37)."""
    texts = {code: str(text) for code, text in community.gap_texts.items()}
    tools = match_tools_for_gaps(
        session=session, criteria_codes=community.gaps, texts=texts, per_gap=TOOLS_PER_GAP
    )
    return [
        GapTools(
            code=code,
            text=texts.get(code, ""),
            tools=[
                ToolLink(
                    id=saved_id(tool.id),
                    kind=tool.kind.value,
                    title=tool.title,
                    summary=tool.summary,
                    link=tool.link,
                    provider=tool.provider,
                )
                for tool in tools.get(code, [])
            ],
        )
        for code in community.gaps
    ]


def events_of(*, session: Session, community: Community) -> list[CommunityEvent]:
    return list(
        session.exec(
            select(CommunityEvent)
            .where(CommunityEvent.community_id == community.id)
            .order_by(col(CommunityEvent.starts_at))
        ).all()
    )


def posts_of(*, session: Session, community: Community) -> list[tuple[CommunityPost, str]]:
    """The newest posts, oldest first, each with its author's name."""
    rows = session.exec(
        select(CommunityPost, User.name)
        .join(User, col(User.id) == col(CommunityPost.author_user_id))
        .where(CommunityPost.community_id == community.id)
        .order_by(col(CommunityPost.id).desc())
        .limit(POSTS_SHOWN)
    ).all()
    return [(post, name) for post, name in reversed(rows)]


def community_view(*, session: Session, actor: Actor, community: Community) -> CommunityPublic:
    """The community as `actor` may see it (see `CommunityPublic`)."""
    membership = membership_of(session=session, community=community, locode=actor.city_locode)
    is_member = can_see_members(actor=actor, membership=membership)
    return CommunityPublic(
        id=saved_id(community.id),
        title=community.title,
        description=community.description,
        formed_at=community.formed_at,
        across_countries=across.is_across(session=session, community=community),
        consent=membership.consent if membership is not None else None,
        gaps=gap_tools(session=session, community=community),
        members=_member_views(session=session, actor=actor, community=community),
        events=[
            EventPublic.model_validate(event)
            for event in events_of(session=session, community=community)
        ]
        if is_member
        else [],
        posts=_post_views(session=session, community=community) if is_member else [],
    )


def _post_views(*, session: Session, community: Community) -> list[PostPublic]:
    """The discussion: across countries, the global node's (on a member node, as it last sent
    it); otherwise the node's own."""
    if community.global_id is not None or across.is_across(session=session, community=community):
        shown = (
            across.shown_posts(community)
            if community.global_id is not None
            else across.posts_across(session=session, community=community)
        )
        return [
            PostPublic(
                id=post.id,
                author=post.author,
                city_locode=post.city,
                text=post.text,
                created_at=post.posted_at,
            )
            for post in shown
        ]
    return [
        PostPublic(
            id=saved_id(post.id),
            author=author,
            city_locode=post.city_locode,
            text=post.text,
            created_at=post.created_at,
        )
        for post, author in posts_of(session=session, community=community)
    ]


def _member_views(*, session: Session, actor: Actor, community: Community) -> list[MemberPublic]:
    """`members`, with the cities of other countries: on the global node, every invitation of
    its member nodes (staff only read there); on a member node, for the same readers as its
    own members, the cities of other nodes that joined (as the global node last said)."""
    shown = [
        MemberPublic(
            locode=city.locode, name=city.name, country=city.country, consent=member.consent
        )
        for member, city in members(session=session, actor=actor, community=community)
    ]
    if actor.role in STAFF:
        shown += [
            MemberPublic(
                locode=member.city_locode,
                name=member.name,
                country=member.city_locode[:2],
                consent=member.consent,
            )
            for member in across.federation_members(session=session, community=community)
        ]
    membership = membership_of(session=session, community=community, locode=actor.city_locode)
    if can_see_members(actor=actor, membership=membership):
        shown += [
            MemberPublic(
                locode=city.locode, name=city.name, country=city.locode[:2], consent=Consent.JOINED
            )
            for city in across.joined_elsewhere(session=session, community=community)
        ]
    return shown


# A city's consent -------------------------------------------------------------------------------


def answer(
    *, session: Session, state: NodeState, actor: Actor, community: Community, data: ConsentCreate
) -> CommunityMember:
    """The city joins (its consent to be shown to the other members) or declines (or leaves);
    for a community of the global node, the answer goes there too."""
    membership = membership_of(session=session, community=community, locode=actor.city_locode)
    if membership is None:
        raise NotFound(f"no community {community.id}")
    wanted = Consent.JOINED if data.answer == "join" else Consent.DECLINED
    if membership.consent is wanted:
        raise Conflict(
            f"{membership.city_locode} has already {wanted.value} community {community.id}"
        )
    membership.consent = wanted
    membership.answered_at = utcnow()
    membership.answered_by = actor.user_id
    session.add(membership)
    session.flush()
    _audit(session, actor, f"community.{data.answer}", community, city=membership.city_locode)
    across.send_answer(session=session, state=state, community=community, member=membership)
    return membership


# Events and the discussion ----------------------------------------------------------------------


def schedule_event(
    *,
    session: Session,
    settings: Settings,
    actor: Actor,
    community: Community,
    data: EventCreate,
) -> CommunityEvent:
    """A webinar or peer exchange; the joined cities' people get the invitation."""
    if community.global_id is not None:
        raise Conflict(
            f"community {community.id} is the global node's: its secretariat schedules the events"
        )
    event = CommunityEvent(
        community_id=saved_id(community.id),
        kind=data.kind,
        title=data.title,
        starts_at=data.starts_at,
        minutes=data.minutes,
        created_by=saved_id(actor.user_id),
    )
    session.add(event)
    session.flush()
    _audit(session, actor, "community.event", community, event_id=event.id, kind=data.kind.value)
    across.tell_joined(session=session, settings=settings, community=community, event=event)
    return event


def cancel_event(
    *, session: Session, settings: Settings, actor: Actor, community: Community, event_id: int
) -> CommunityEvent:
    """Marks an event of the community cancelled; the joined cities' people get the
    cancellation for their calendar (across countries, their own nodes send it, once the global
    node sent them the new revision). Cancelling it again is 409."""
    if community.global_id is not None:
        raise Conflict(
            f"community {community.id} is the global node's: its secretariat cancels the events"
        )
    event = session.exec(
        select(CommunityEvent)
        .where(CommunityEvent.id == event_id, CommunityEvent.community_id == community.id)
        .with_for_update()
    ).first()
    if event is None:
        raise NotFound(f"no event {event_id} in community {community.id}")
    if event.cancelled_at is not None:
        raise Conflict(f"event {event_id} is already cancelled")
    event.cancelled_at = utcnow()
    session.add(event)
    session.flush()
    _audit(session, actor, "community.event_cancel", community, event_id=event_id)
    across.tell_joined(session=session, settings=settings, community=community, event=event)
    return event


def post(
    *, session: Session, state: NodeState, actor: Actor, community: Community, data: PostCreate
) -> None:
    """A message in the discussion: by the secretariat, or by the people of a city that joined.
    Across countries, the discussion is the global node's: a member node sends its city's post
    there at once (and shows it once the global node has it), and its own secretariat does not
    post in it; on the global node, the post is kept for the member nodes (the caller's
    `across.changed` sends it)."""
    locode = None
    if actor.role not in STAFF:
        membership = membership_of(session=session, community=community, locode=actor.city_locode)
        if membership is None or membership.consent is not Consent.JOINED:
            raise Conflict(
                f"{actor.city_locode} has not joined community {community.id}: join it to "
                "take part in the discussion"
            )
        locode = membership.city_locode
    elif community.global_id is not None:
        raise Conflict(
            f"community {community.id} is the global node's: its cities' people and the global "
            "secretariat take part in its discussion"
        )
    author = session.get(User, actor.user_id)
    assert author is not None
    if community.global_id is not None:
        assert locode is not None
        across.send_post(
            session=session,
            state=state,
            community=community,
            city=locode,
            author=author.name,
            text=data.text,
        )
        _audit(session, actor, "community.post", community, across=True)
        return
    if across.is_across(session=session, community=community):
        across.add_secretariat_post(
            session=session, community=community, author=author.name, text=data.text
        )
        _audit(session, actor, "community.post", community, across=True)
        return
    message = CommunityPost(
        community_id=saved_id(community.id),
        author_user_id=saved_id(actor.user_id),
        city_locode=locode,
        text=data.text,
    )
    session.add(message)
    session.flush()
    _audit(session, actor, "community.post", community, post_id=message.id)


def _audit(
    session: Session, actor: Actor, action: str, community: Community, **detail: Any
) -> None:
    record(
        session=session,
        actor=actor,
        action=action,
        target_type=TARGET,
        target_id=community.id,
        detail=detail,
    )
