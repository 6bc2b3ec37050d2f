"""`/communities`: learning communities of cities that share gaps (report §18, §30c).

The secretariat and administrators read the proposals, form communities, schedule their events
and read every community. A city's applicants read the communities their city is invited to
(another is 404), join or decline, and post once joined. Reviewers and committee members have
no part in it (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.db import saved_id
from sdgcities.node.deps import Anyone, ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.schemas import Id
from sdgcities.node.spotchecks.schemas import SignedMessage
from sdgcities.node.timeutil import utcnow

from . import across, federation, service
from .schemas import (
    CommunitiesPublic,
    CommunityCreate,
    CommunityDocument,
    CommunityProposals,
    CommunityPublic,
    CommunitySummary,
    ConsentCreate,
    EventCreate,
    InvitationReceived,
    PostCreate,
    PostTaken,
    SharingPublic,
    SharingUpdate,
)

router = APIRouter(tags=["communities"])
# On a national node only: the global node's signed communities.
national_router = APIRouter(tags=["communities"])
# On the global node only: the member nodes' signed posts.
global_router = APIRouter(tags=["communities"])

City_ = Annotated[Actor, access(Role.CITY_APPLICANT)]
Reader = Annotated[Actor, access(Role.CITY_APPLICANT, Role.SECRETARIAT, Role.ADMINISTRATOR)]
Staff = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
COMMUNITIES = "/communities"
ONE = COMMUNITIES + "/{community_id}"


@router.get(COMMUNITIES + "/proposals")
def proposals(session: ReadSessionDep, _actor: Staff) -> CommunityProposals:
    """Groups of at least two cities whose latest stage reports share gaps, with the strategic
    priorities they share: most shared gaps first, then most shared priorities. `formed` names
    a community already formed of those cities around those gaps."""
    return CommunityProposals(data=service.proposals(session=session))


@router.get(COMMUNITIES + "/federation/proposals")
def federation_proposals(
    session: ReadSessionDep, state: StateDep, _actor: Staff
) -> CommunityProposals:
    """On the global node: groups of consenting cities of any countries whose latest reported
    stage reports share gaps (404 on a national node)."""
    return CommunityProposals(
        data=federation.proposals(session=session, settings=state.settings, now=utcnow())
    )


@router.post(COMMUNITIES + "/federation", status_code=status.HTTP_201_CREATED)
def form_across(
    data: CommunityCreate, session: SessionDep, state: StateDep, actor: Staff
) -> CommunityPublic:
    """On the global node: forms a community of consenting cities of any countries, each of
    whose latest reported stage reports has every gap; each city's node is sent its signed
    invitation (404 on a national node)."""
    community = across.form_across(session=session, state=state, actor=actor, data=data)
    return service.community_view(session=session, actor=actor, community=community)


@national_router.post("/federation/community-invitations", status_code=status.HTTP_201_CREATED)
def receive_invitation(
    session: SessionDep,
    state: StateDep,
    response: Response,
    _actor: Anyone,
    body: CommunityDocument,
) -> InvitationReceived:
    """The global node's signed community (`community-invitation+jwt`): this node invites its
    cities named in it and keeps the members and events up to date. A revision already held
    answers 200 and changes nothing."""
    community, new = across.receive_invitation(session=session, state=state, token=body.token)
    if not new:
        response.status_code = status.HTTP_200_OK
    return InvitationReceived(
        community_id=saved_id(community.id),
        global_id=saved_id(community.global_id),
        revision=community.revision,
    )


@router.get(COMMUNITIES + "/sharing")
def get_sharing(session: ReadSessionDep, actor: City_) -> SharingPublic:
    """Whether the city consents to have its gaps used for communities across countries."""
    assert actor.city_locode is not None
    sharing = federation.sharing_of(session=session, locode=actor.city_locode)
    return SharingPublic(
        city_locode=actor.city_locode,
        share=sharing is not None and sharing.share,
        updated_at=sharing.updated_at if sharing is not None else None,
    )


@router.put(COMMUNITIES + "/sharing")
def put_sharing(
    data: SharingUpdate, session: SessionDep, state: StateDep, actor: City_
) -> SharingPublic:
    """Gives or withdraws the city's consent; the global node receives it as a
    `community.sharing` event and uses the gaps its reports carry only while it stands."""
    sharing = federation.set_sharing(
        session=session, settings=state.settings, actor=actor, data=data
    )
    return SharingPublic(
        city_locode=sharing.city_locode, share=sharing.share, updated_at=sharing.updated_at
    )


@router.post(COMMUNITIES, status_code=status.HTTP_201_CREATED)
def form(
    data: CommunityCreate, session: SessionDep, state: StateDep, actor: Staff
) -> CommunityPublic:
    """Forms a community of cities around gaps each of their latest stage reports has; each
    city is invited and its people told."""
    community = service.form(session=session, settings=state.settings, actor=actor, data=data)
    return service.community_view(session=session, actor=actor, community=community)


@router.get(COMMUNITIES)
def list_communities(
    session: ReadSessionDep,
    actor: Reader,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CommunitiesPublic:
    """The communities the caller may see (a city: those it is invited to), newest first."""
    found, count = service.list_communities(
        session=session, actor=actor, offset=offset, limit=limit
    )
    return CommunitiesPublic(
        data=[
            CommunitySummary(
                id=saved_id(community.id),
                title=community.title,
                gaps=community.gaps,
                formed_at=community.formed_at,
                consent=consent,
                joined=joined,
            )
            for community, consent, joined in found
        ],
        count=count,
    )


@router.get(ONE)
def get_community(session: ReadSessionDep, actor: Reader, community_id: Id) -> CommunityPublic:
    community = service.get_community_or_raise(
        session=session, actor=actor, community_id=community_id
    )
    return service.community_view(session=session, actor=actor, community=community)


@router.post(ONE + "/consent")
def consent(
    data: ConsentCreate, session: SessionDep, state: StateDep, actor: City_, community_id: Id
) -> CommunityPublic:
    """The city joins (consenting to be shown to the other members, with these gaps) or
    declines; a member that declines leaves."""
    community = service.get_community_or_raise(
        session=session, actor=actor, community_id=community_id, for_update=True
    )
    service.answer(session=session, state=state, actor=actor, community=community, data=data)
    return service.community_view(session=session, actor=actor, community=community)


@router.post(ONE + "/events", status_code=status.HTTP_201_CREATED)
def schedule_event(
    data: EventCreate, session: SessionDep, state: StateDep, actor: Staff, community_id: Id
) -> CommunityPublic:
    """A webinar or peer exchange; the people of the cities that joined get an invitation."""
    community = service.get_community_or_raise(
        session=session, actor=actor, community_id=community_id, for_update=True
    )
    service.schedule_event(
        session=session, settings=state.settings, actor=actor, community=community, data=data
    )
    across.changed(session=session, state=state, community=community)
    return service.community_view(session=session, actor=actor, community=community)


@router.post(ONE + "/events/{event_id}/cancel")
def cancel_event(
    session: SessionDep, state: StateDep, actor: Staff, community_id: Id, event_id: Id
) -> CommunityPublic:
    """Marks the event cancelled; for a community across countries, the member nodes are sent
    the new revision, and show it cancelled."""
    community = service.get_community_or_raise(
        session=session, actor=actor, community_id=community_id, for_update=True
    )
    service.cancel_event(
        session=session,
        settings=state.settings,
        actor=actor,
        community=community,
        event_id=event_id,
    )
    across.changed(session=session, state=state, community=community)
    return service.community_view(session=session, actor=actor, community=community)


@router.post(ONE + "/posts", status_code=status.HTTP_201_CREATED)
def add_post(
    data: PostCreate, session: SessionDep, state: StateDep, actor: Reader, community_id: Id
) -> CommunityPublic:
    """A message in the discussion, by the secretariat or a city that joined (409 otherwise).
    Across countries, a member node sends its city's post to the global node at once: 503 when
    it cannot be reached, 502 when it refuses; either way nothing is posted."""
    community = service.get_community_or_raise(
        session=session, actor=actor, community_id=community_id, for_update=True
    )
    service.post(session=session, state=state, actor=actor, community=community, data=data)
    across.changed(session=session, state=state, community=community)
    return service.community_view(session=session, actor=actor, community=community)


@global_router.post(across.POSTS_PATH, status_code=status.HTTP_201_CREATED)
def receive_post(
    session: SessionDep, state: StateDep, _actor: Anyone, body: SignedMessage
) -> PostTaken:
    """On the global node: a member node's signed post of its city's person
    (`community-post+jwt`); the answer is the sender's new community document."""
    return PostTaken(token=across.take_post(session=session, state=state, token=body.token))
