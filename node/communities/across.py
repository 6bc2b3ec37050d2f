"""Learning communities across countries (report §30c): "on the global node, communities span
countries, formed from what nodes report for consenting cities".

The cities' people have accounts on their own nodes only, so forming travels:

1. The global secretariat forms the community from a proposal (`form_across`): every city must
   be a consenting city whose latest reported gaps hold every gap of the community; each is a
   `FederationMember`, invited, of the node that reported it.
2. The global node sends each of those nodes a signed `community-invitation+jwt` (`deliver`;
   `federation.communities`) naming the community and that node's invited cities only.
3. The member node checks it (`receive_invitation`: the global node's key, its own audience,
   its own jurisdiction and cities, a message id seen once) and invites its cities as for a
   community of its own; their people get the `community_formed` notice. Their answer (join,
   decline, leave) is a `community.consent` event of the member's log.
4. The global node takes the answer from the ingested event (`take_consents`) only from the
   node whose jurisdiction holds the city, and only for a city it invited from that node.
5. Each change (an answer, an event scheduled or cancelled) raises the community's `revision`
   and every member node is sent the community again: the cities that joined (of every
   country) and the events. A member keeps the highest revision it received. A sending that
   fails is kept on `CommunityDelivery` and tried again by `deliver_pending`, a duty of the
   global node, so a member node that was down catches up.

6. The discussion travels both ways without the event log (posts are personal text, and the
   log is kept for good): a member node sends its city's post to the global node at once, as a
   signed `community-post+jwt` (`send_post`); the global node keeps it only from the node whose
   jurisdiction holds the city, for a city that joined, invited from that node (`take_post`),
   raises the revision and answers with the sender's new document, which the sender takes in
   as any other (so the post shows once the global node has it, and a failure loses nothing
   the city was told was posted). The other member nodes get it with the next sending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlmodel import Session, col, select

from sdgcities.credentials import TrustList
from sdgcities.federation import Event, EventType
from sdgcities.federation.communities import (
    COMMUNITY_INVITATION_TYP,
    COMMUNITY_POST_TYP,
    MAX_COMMUNITY_BYTES,
    MAX_POSTS,
    CommunityEventInfo,
    CommunityInvitation,
    CommunityPostInfo,
    CommunityPostMessage,
    JoinedCity,
    newest_posts,
)
from sdgcities.federation.errors import MessageRefused
from sdgcities.federation.event_data import CommunityConsent, EventDataInvalid
from sdgcities.federation.spotcheck import GLOBAL_NODE_ID
from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.audit.service import record
from sdgcities.node.cities.models import City
from sdgcities.node.config import Settings
from sdgcities.node.db import saved_id
from sdgcities.node.errors import (
    BadGateway,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
)
from sdgcities.node.events.service import append_event
from sdgcities.node.federation_registry.models import FederationCity
from sdgcities.node.membership.client import FederationUnreachable, allowed_base_urls, exchange
from sdgcities.node.notifications import service as notices
from sdgcities.node.spotchecks.dossiers import held_trust_list, remember_message
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from . import federation
from .models import (
    Community,
    CommunityDelivery,
    CommunityEvent,
    CommunityMember,
    Consent,
    EventKind,
    FederationMember,
    FederationPost,
)
from .schemas import CommunityCreate

INVITATIONS_PATH: Final = "/federation/community-invitations"
POSTS_PATH: Final = "/federation/community-posts"
MAX_ANSWER_BYTES: Final = 16 * 1024
# The global node's answer to a post carries the sender's new community document.
MAX_POST_ANSWER_BYTES: Final = MAX_COMMUNITY_BYTES + 4096
ANSWERS: Final = frozenset({Consent.JOINED.value, Consent.DECLINED.value})
# How many communities one round of `deliver_pending` sends, so a round stays short.
DELIVERIES_PER_ROUND: Final = 50


# The global node: forming ------------------------------------------------------------------------


def is_across(*, session: Session, community: Community) -> bool:
    """Whether the community spans countries: formed by the global node (here, or there)."""
    if community.global_id is not None:
        return True
    return (
        session.exec(
            select(FederationMember.id).where(FederationMember.community_id == community.id)
        ).first()
        is not None
    )


def form_across(
    *, session: Session, state: NodeState, actor: Actor, data: CommunityCreate
) -> Community:
    """Forms a community of consenting cities of any countries, and sends each of their nodes
    its invitation (a failed sending is kept, and tried again)."""
    now = utcnow()
    reported = federation.reported_gaps(session=session, settings=state.settings, now=now)
    gaps = sorted(dict.fromkeys(data.gaps))
    locodes = sorted(dict.fromkeys(data.cities))
    if len(locodes) < 2:
        raise InvalidRequest("a community is formed of at least two different cities")
    for locode in locodes:
        found = reported.get(locode)
        if found is None:
            raise InvalidRequest(
                f"{locode} is not a city that consents to share its gaps across countries, "
                "or no stage report of it reached the global node"
            )
        missing = [code for code in gaps if code not in found.gaps]
        if missing:
            listed = ", ".join(sorted(found.gaps)) or "none"
            raise InvalidRequest(
                f"{', '.join(missing)} is not a gap of {locode}'s latest reported stage report "
                f"(its gaps: {listed}); a community is formed around gaps its cities share"
            )
    existing = federation.formed_across(session).get((frozenset(gaps), frozenset(locodes)))
    if existing is not None:
        raise Conflict(f"community {existing} is already formed of these cities around these gaps")
    names = {
        city.locode: city.name
        for city in session.exec(
            select(FederationCity).where(col(FederationCity.locode).in_(locodes))
        ).all()
    }
    community = Community(
        title=data.title,
        description=data.description,
        gaps=gaps,
        gap_texts={},
        formed_by=saved_id(actor.user_id),
        revision=1,
    )
    session.add(community)
    session.flush()
    community_id = saved_id(community.id)
    for locode in locodes:
        session.add(
            FederationMember(
                community_id=community_id,
                city_locode=locode,
                node_id=reported[locode].node_id,
                name=names.get(locode, locode),
                consent=Consent.INVITED,
            )
        )
    for node_id in sorted({reported[locode].node_id for locode in locodes}):
        session.add(CommunityDelivery(community_id=community_id, node_id=node_id))
    session.flush()
    record(
        session=session,
        actor=actor,
        action="community.form",
        target_type="community",
        target_id=community_id,
        detail={"gaps": gaps, "cities": locodes, "across": True},
    )
    deliver(session=session, state=state, community=community)
    return community


def federation_members(*, session: Session, community: Community) -> list[FederationMember]:
    return list(
        session.exec(
            select(FederationMember)
            .where(FederationMember.community_id == community.id)
            .order_by(col(FederationMember.name), col(FederationMember.city_locode))
        ).all()
    )


def deliveries(*, session: Session, community: Community) -> list[CommunityDelivery]:
    return list(
        session.exec(
            select(CommunityDelivery)
            .where(CommunityDelivery.community_id == community.id)
            .order_by(col(CommunityDelivery.node_id))
        ).all()
    )


def changed(*, session: Session, state: NodeState, community: Community) -> None:
    """After a change the member nodes must see (an event): a new revision, sent to them."""
    if not state.settings.is_global or not is_across(session=session, community=community):
        return
    community.revision += 1
    session.add(community)
    session.flush()
    deliver(session=session, state=state, community=community)


# The global node: sending ------------------------------------------------------------------------


def invitation_for(
    *, session: Session, state: NodeState, community: Community, node_id: str, audience: str
) -> str:
    """The signed community as node `node_id` may see it: its own invited cities, the cities
    that joined (of every country), the events."""
    members = federation_members(session=session, community=community)
    events = session.exec(
        select(CommunityEvent)
        .where(CommunityEvent.community_id == community.id)
        .order_by(col(CommunityEvent.starts_at), col(CommunityEvent.id))
    ).all()
    return CommunityInvitation.sign(
        key=state.signing_key,
        issuer=state.settings.did,
        audience=audience,
        node_id=node_id,
        community_id=saved_id(community.id),
        revision=community.revision,
        title=community.title,
        description=community.description,
        gaps=community.gaps,
        invited=[m.city_locode for m in members if m.node_id == node_id],
        invited_count=len(members),
        joined=[
            JoinedCity(locode=m.city_locode, name=m.name)
            for m in members
            if m.consent is Consent.JOINED
        ],
        events=[
            CommunityEventInfo(
                id=saved_id(event.id),
                kind=event.kind.value,
                title=event.title,
                starts_at=event.starts_at,
                minutes=event.minutes,
                cancelled=event.cancelled_at is not None,
            )
            for event in events
        ],
        posts=newest_posts(posts_across(session=session, community=community)),
    )


def posts_across(*, session: Session, community: Community) -> list[CommunityPostInfo]:
    """On the global node: the discussion across countries, oldest first (the newest
    `MAX_POSTS`, more than any document carries)."""
    rows = session.exec(
        select(FederationPost)
        .where(FederationPost.community_id == community.id)
        .order_by(col(FederationPost.id).desc())
        .limit(MAX_POSTS)
    ).all()
    return [
        CommunityPostInfo(
            id=saved_id(row.id),
            author=row.author,
            city=row.city_locode,
            text=row.text,
            posted_at=row.posted_at,
        )
        for row in reversed(rows)
    ]


def add_secretariat_post(*, session: Session, community: Community, author: str, text: str) -> None:
    """The global secretariat's post (the caller raises the revision, which sends it)."""
    session.add(FederationPost(community_id=saved_id(community.id), author=author, text=text))
    session.flush()


def take_post(*, session: Session, state: NodeState, token: str) -> str:
    """On the global node: a member node's signed post of its city's person, kept only when
    that node's jurisdiction holds the city now and the city joined, invited from that node;
    the revision rises (the other member nodes are sent it by `deliver_pending`). Returns the
    sender's new community document."""
    trust_list = held_trust_list(session=session, state=state)
    try:
        message = CommunityPostMessage.from_jws(
            token, trust_list=trust_list, audience=state.settings.did
        )
    except MessageRefused as exc:
        raise InvalidRequest(f"community post refused: {exc}") from exc
    sender = trust_list.node(message.node_id)
    if sender is None or not sender.certifies(message.city[:2], at=utcnow()):
        raise InvalidRequest(
            f"node {message.node_id} does not certify the cities of {message.city[:2]}"
        )
    remember_message(
        session=session, typ=COMMUNITY_POST_TYP, jti=message.jti, expires_at=message.expires_at
    )
    community = session.exec(
        select(Community).where(Community.id == message.community_id).with_for_update()
    ).first()
    member = session.exec(
        select(FederationMember).where(
            FederationMember.community_id == message.community_id,
            FederationMember.city_locode == message.city,
            FederationMember.node_id == message.node_id,
        )
    ).first()
    if community is None or member is None:
        raise NotFound(
            f"no community {message.community_id} to which {message.city} was invited "
            f"from node {message.node_id}"
        )
    if member.consent is not Consent.JOINED:
        raise Conflict(
            f"{message.city} has not joined community {message.community_id}: only a city "
            "that joined takes part in the discussion"
        )
    session.add(
        FederationPost(
            community_id=saved_id(community.id),
            node_id=message.node_id,
            city_locode=message.city,
            author=message.author,
            text=message.text,
        )
    )
    community.revision += 1
    session.add(community)
    session.flush()
    record(
        session=session,
        actor=SYSTEM,
        action="community.post",
        target_type="community",
        target_id=community.id,
        detail={"node": message.node_id, "city": message.city, "jti": message.jti},
    )
    return invitation_for(
        session=session,
        state=state,
        community=community,
        node_id=message.node_id,
        audience=sender.did,
    )


def deliver(*, session: Session, state: NodeState, community: Community) -> list[CommunityDelivery]:
    """Send the community's current revision to each member node that has not taken it; a
    failure is kept on its delivery (`error`) rather than undoing the change."""
    sent = []
    for delivery in deliveries(session=session, community=community):
        if delivery.delivered_revision >= community.revision:
            continue
        delivery.attempted_at = utcnow()
        try:
            trust_list = held_trust_list(session=session, state=state)
            node = trust_list.node(delivery.node_id)
            if node is None:
                raise Conflict(f"node {delivery.node_id} is not on the trust list")
            token = invitation_for(
                session=session,
                state=state,
                community=community,
                node_id=delivery.node_id,
                audience=node.did,
            )
            answer = exchange(
                state.http,
                method="POST",
                url=node.base_url + INVITATIONS_PATH,
                allowed=allowed_base_urls(global_url=None, trust_list=trust_list),
                content=json.dumps({"token": token}).encode(),
                headers={"Content-Type": "application/json"},
                max_response_bytes=MAX_ANSWER_BYTES,
            )
            if answer.status not in (200, 201):
                raise FederationUnreachable(
                    f"node {delivery.node_id} refused the community ({answer.status}): "
                    + answer.body[:300].decode("utf-8", "replace")
                )
        except (Conflict, InvalidRequest) as exc:
            delivery.error = exc.message[:2000]
        else:
            delivery.delivered_revision = community.revision
            delivery.error = None
        session.add(delivery)
        sent.append(delivery)
    session.flush()
    return sent


def deliver_pending(*, session: Session, state: NodeState) -> int:
    """Send again every community some member node has not taken at its current revision."""
    behind_ids = (
        select(CommunityDelivery.community_id)
        .join(Community, col(CommunityDelivery.community_id) == col(Community.id))
        .where(col(CommunityDelivery.delivered_revision) < col(Community.revision))
    )
    behind = session.exec(
        select(Community)
        .where(col(Community.id).in_(behind_ids))
        .order_by(col(Community.id))
        .limit(DELIVERIES_PER_ROUND)
    ).all()
    for community in behind:
        deliver(session=session, state=state, community=community)
    return len(behind)


# The global node: the cities' answers ------------------------------------------------------------


def take_consents(
    *, session: Session, trust_list: TrustList, events: Sequence[Event], now: datetime
) -> int:
    """Apply the `community.consent` events of one node's new events, in the ingest's
    transaction: an answer counts only from the node whose jurisdiction holds the city now,
    for a city invited from that node; anything else is stored in the log and changes nothing."""
    taken = 0
    for event in events:
        if event.type is not EventType.COMMUNITY_CONSENT:
            continue
        locode = event.subject.get("locode")
        try:
            consent = CommunityConsent.from_data(event.data)
        except EventDataInvalid:
            continue
        community_id, answer = consent.community, consent.answer
        node = trust_list.node(event.node_id)
        if (
            not isinstance(locode, str)
            or answer not in ANSWERS
            or node is None
            or not node.certifies(locode[:2], at=now)
        ):
            continue
        member = session.exec(
            select(FederationMember).where(
                FederationMember.community_id == community_id,
                FederationMember.city_locode == locode,
                FederationMember.node_id == event.node_id,
            )
        ).first()
        if member is None or member.consent.value == answer:
            continue
        community = session.exec(
            select(Community).where(Community.id == community_id).with_for_update()
        ).one()
        member.consent = Consent(answer)
        member.answered_at = event.occurred_at
        community.revision += 1
        session.add_all([member, community])
        taken += 1
    session.flush()
    return taken


# A member node ---------------------------------------------------------------------------------


def receive_invitation(*, session: Session, state: NodeState, token: str) -> tuple[Community, bool]:
    """Take in the global node's signed community; `False` when this revision (or a later one)
    was already taken. Its cities must be this node's, of its jurisdiction; each city newly
    invited is told, and each new event reaches the people of the cities that joined."""
    settings = state.settings
    trust_list = held_trust_list(session=session, state=state)
    try:
        invitation = CommunityInvitation.from_jws(
            token, trust_list=trust_list, audience=settings.did
        )
    except MessageRefused as exc:
        raise InvalidRequest(f"community invitation refused: {exc}") from exc
    if invitation.node_id != settings.node_id:
        raise InvalidRequest(
            f"the invitation is for node {invitation.node_id}, this is node {settings.node_id}"
        )
    own = trust_list.node(settings.node_id)
    now = utcnow()
    for locode in invitation.invited:
        if own is None or not own.certifies(locode[:2], at=now):
            raise InvalidRequest(f"{locode} is not a city of this node's jurisdiction")
        if session.get(City, locode) is None:
            raise InvalidRequest(f"no city {locode} on this node")
    remember_message(
        session=session,
        typ=COMMUNITY_INVITATION_TYP,
        jti=invitation.jti,
        expires_at=invitation.expires_at,
    )
    community = session.exec(
        select(Community).where(Community.global_id == invitation.community_id).with_for_update()
    ).first()
    if community is not None and community.revision >= invitation.revision:
        return community, False
    if community is None:
        community = Community(
            title=invitation.title,
            description=invitation.description,
            gaps=list(invitation.gaps),
            gap_texts={},
            global_id=invitation.community_id,
        )
    community.title, community.description = invitation.title, invitation.description
    community.gaps = list(invitation.gaps)
    community.revision = invitation.revision
    community.joined_elsewhere = [city.to_json() for city in invitation.joined]
    community.posts_across = [post.to_json() for post in invitation.posts]
    session.add(community)
    session.flush()
    community_id = saved_id(community.id)
    held = {
        member.city_locode: member
        for member in session.exec(
            select(CommunityMember).where(CommunityMember.community_id == community_id)
        ).all()
    }
    newly = [locode for locode in invitation.invited if locode not in held]
    for locode in newly:
        session.add(
            CommunityMember(community_id=community_id, city_locode=locode, consent=Consent.INVITED)
        )
    session.flush()
    if newly:
        notices.notify_community_formed(
            session=session,
            settings=settings,
            community=community,
            locodes=newly,
            count=invitation.invited_count,
        )
    _take_events(session=session, state=state, community=community, invitation=invitation)
    record(
        session=session,
        actor=SYSTEM,
        action="community.invitation",
        target_type="community",
        target_id=community_id,
        detail={
            "global": invitation.community_id,
            "revision": invitation.revision,
            "invited": newly,
            "jti": invitation.jti,
        },
    )
    return community, True


def _take_events(
    *, session: Session, state: NodeState, community: Community, invitation: CommunityInvitation
) -> None:
    """The events not held yet, and the cancellations: the joined cities' people are told of
    each (an event that arrives already cancelled is kept, and told to nobody)."""
    held = {
        event.global_id: event
        for event in session.exec(
            select(CommunityEvent).where(CommunityEvent.community_id == community.id)
        ).all()
    }
    for info in invitation.events:
        event = held.get(info.id)
        if event is None:
            event = CommunityEvent(
                community_id=saved_id(community.id),
                kind=EventKind(info.kind),
                title=info.title,
                starts_at=info.starts_at,
                minutes=info.minutes,
                global_id=info.id,
                cancelled_at=utcnow() if info.cancelled else None,
            )
            told = not info.cancelled
        elif info.cancelled and event.cancelled_at is None:
            event.cancelled_at = utcnow()
            told = True
        else:
            continue
        session.add(event)
        session.flush()
        if told:
            tell_joined(session=session, settings=state.settings, community=community, event=event)


def tell_joined(
    *, session: Session, settings: Settings, community: Community, event: CommunityEvent
) -> int:
    """The event's invitation (or, once it is cancelled, its cancellation) to the people of
    the node's own cities that joined."""
    joined = session.exec(
        select(CommunityMember.city_locode).where(
            CommunityMember.community_id == community.id,
            CommunityMember.consent == Consent.JOINED,
        )
    ).all()
    return notices.notify_community_event(
        session=session,
        settings=settings,
        community=community,
        event=event,
        length=timedelta(minutes=event.minutes),
        locodes=list(joined),
        cancelled=event.cancelled_at is not None,
    )


def send_answer(
    *, session: Session, state: NodeState, community: Community, member: CommunityMember
) -> None:
    """A city's answer to a community of the global node, as a `community.consent` event of
    this node's log (the relay takes it there)."""
    if community.global_id is None:
        return
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.COMMUNITY_CONSENT,
        subject={"locode": member.city_locode},
        data=CommunityConsent(community=community.global_id, answer=member.consent.value),
    )


def send_post(
    *, session: Session, state: NodeState, community: Community, city: str, author: str, text: str
) -> Community:
    """On a member node: the post of city `city`'s person, sent to the global node at once;
    its answer (the community's new document, with the post) is taken in as any other. A
    failure changes nothing here: 503 when the global node cannot be reached, 502 when it
    refuses."""
    assert community.global_id is not None
    trust_list = held_trust_list(session=session, state=state)
    global_node = trust_list.node(GLOBAL_NODE_ID)
    if global_node is None:
        raise ServiceUnavailable("the trust list names no global node: the post was not sent")
    token = CommunityPostMessage.sign(
        key=state.signing_key,
        issuer=state.settings.did,
        audience=global_node.did,
        community_id=community.global_id,
        city=city,
        author=author,
        text=text,
    )
    try:
        answer = exchange(
            state.http,
            method="POST",
            url=global_node.base_url + POSTS_PATH,
            allowed=allowed_base_urls(global_url=None, trust_list=trust_list),
            content=json.dumps({"token": token}).encode(),
            headers={"Content-Type": "application/json"},
            max_response_bytes=MAX_POST_ANSWER_BYTES,
        )
    except (FederationUnreachable, InvalidRequest) as exc:
        raise ServiceUnavailable(
            f"the global node could not be reached, so the post was not sent: {exc.message}"
        ) from exc
    if answer.status != 201:
        detail = answer.body[:300].decode("utf-8", "replace")
        failure = ServiceUnavailable if answer.status >= 500 else BadGateway
        raise failure(f"the global node refused the post ({answer.status}): {detail}")
    try:
        document = json.loads(answer.body)["token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadGateway("the global node's answer to the post carries no document") from exc
    if not isinstance(document, str):
        raise BadGateway("the global node's answer to the post carries no document")
    try:
        taken, _new = receive_invitation(session=session, state=state, token=document)
    except (InvalidRequest, Conflict) as exc:
        raise BadGateway(f"the global node's answer to the post is refused: {exc.message}") from exc
    return taken


def shown_posts(community: Community) -> list[CommunityPostInfo]:
    """On a member node: the discussion across countries as the global node last sent it."""
    return [
        CommunityPostInfo(
            id=int(post["id"]),
            author=str(post["author"]),
            city=post["city"],
            text=str(post["text"]),
            posted_at=datetime.fromisoformat(str(post["postedAt"]).replace("Z", "+00:00")),
        )
        for post in community.posts_across
    ]


def joined_elsewhere(*, session: Session, community: Community) -> list[JoinedCity]:
    """On a member node: the cities of other nodes that joined, as the global node last said
    (this node's own cities are read from its own members, which are newer)."""
    own = set(
        session.exec(
            select(CommunityMember.city_locode).where(CommunityMember.community_id == community.id)
        ).all()
    )
    return [
        JoinedCity(locode=str(city["locode"]), name=str(city["name"]))
        for city in community.joined_elsewhere
        if city.get("locode") not in own
    ]
