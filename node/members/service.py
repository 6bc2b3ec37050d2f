"""The trust registry's service: join requests, member status and keys, each change republished.

    submit_join_request   a national node asks to join (the JWS proves possession of its keys)
    approve / refuse      the global secretariat decides; approval makes the node a member
    rotate_key            a member announces a new key, signed by a key it already holds
    set_key_status        retire or mark compromised a member's key
    set_node_status       suspend, reinstate or withdraw a member, with the reason kept

Nothing is ever deleted; `member_node_history` is append-only.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from sdgcities.credentials import KeyStatus, NodeStatus, PublicKey, SigningKey
from sdgcities.federation.errors import OnboardingError
from sdgcities.federation.onboarding import JoinRequest, KeyRotation
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import GLOBAL_NODE_ID, Settings
from sdgcities.node.countries import is_country_code
from sdgcities.node.db import add_once
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.outbound import Resolver, resolve_host
from sdgcities.node.timeutil import utcnow

from .base_url import check_join_base_url
from .models import (
    JoinRequestRecord,
    JoinRequestState,
    MemberKey,
    MemberNode,
    MemberNodeHistory,
)
from .publish import publish_trust_list

# Which status a node may move to from which: a withdrawal is final.
NODE_TRANSITIONS: dict[NodeStatus, frozenset[NodeStatus]] = {
    NodeStatus.SUSPENDED: frozenset({NodeStatus.ACTIVE}),
    NodeStatus.ACTIVE: frozenset({NodeStatus.SUSPENDED}),
    NodeStatus.WITHDRAWN: frozenset({NodeStatus.ACTIVE, NodeStatus.SUSPENDED}),
}


def _kid_taken(session: Session, kid: str) -> bool:
    return session.get(MemberKey, kid) is not None or session.get(NodeKey, kid) is not None


def submit_join_request(
    *,
    session: Session,
    settings: Settings,
    token: str,
    now: datetime | None = None,
    resolve: Resolver = resolve_host,
) -> JoinRequestRecord:
    try:
        request = JoinRequest.from_jws(token, now=now or utcnow())
    except OnboardingError as exc:
        raise InvalidRequest(f"join request refused: {exc}") from exc
    if request.node_id == GLOBAL_NODE_ID or not is_country_code(request.node_id):
        raise InvalidRequest("nodeId must be an ISO 3166-1 alpha-2 country code")
    if session.get(MemberNode, request.node_id) is not None:
        raise Conflict(f"node {request.node_id} is already a member")
    # One request per node id waits at a time (anyone can sign one: the secretariat checks who
    # is behind it, and refuses it before another may wait); the index makes it hold under
    # concurrent requests too.
    waiting = Conflict(
        f"a join request for {request.node_id} is already pending: the secretariat decides it "
        "before another is accepted"
    )
    pending = session.exec(
        select(JoinRequestRecord.id).where(
            JoinRequestRecord.node_id == request.node_id,
            JoinRequestRecord.state == JoinRequestState.PENDING,
        )
    ).first()
    if pending is not None:
        raise waiting
    check_join_base_url(request.base_url, settings=settings, resolve=resolve)
    if request.did == settings.did:
        raise Conflict(f"{request.did} is this global node")
    if any(_kid_taken(session, key.kid) for key in request.keys):
        raise Conflict("a key of this request is already registered")
    if session.exec(select(MemberNode).where(MemberNode.did == request.did)).first() is not None:
        raise Conflict(f"{request.did} is already registered")
    row = JoinRequestRecord(node_id=request.node_id, payload=request.payload(), token=token)
    add_once(session, row, refusal=waiting)
    return row


def list_join_requests(
    *, session: Session, state: JoinRequestState | None = None
) -> list[JoinRequestRecord]:
    query = select(JoinRequestRecord).order_by(col(JoinRequestRecord.id))
    if state is not None:
        query = query.where(JoinRequestRecord.state == state)
    return list(session.exec(query).all())


def _pending_or_raise(session: Session, request_id: int) -> JoinRequestRecord:
    row = session.get(JoinRequestRecord, request_id)
    if row is None:
        raise NotFound(f"join request {request_id} not found")
    if row.state is not JoinRequestState.PENDING:
        raise Conflict(f"join request {request_id} is already {row.state.value}")
    return row


def approve_join_request(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey | None,
    request_id: int,
    actor: Actor,
) -> MemberNode:
    row = _pending_or_raise(session, request_id)
    payload = row.payload
    if session.get(MemberNode, row.node_id) is not None:
        raise Conflict(f"node {row.node_id} is already a member")
    keys = [PublicKey.from_jwk(jwk) for jwk in payload["keys"]]
    if any(_kid_taken(session, key.kid) for key in keys):
        raise Conflict("a key of this request is already registered")
    now = utcnow()
    member = MemberNode(
        node_id=row.node_id,
        did=payload["did"],
        name=payload["name"],
        base_url=payload["baseUrl"],
        status=NodeStatus.ACTIVE,
        status_since=now,
        joined_at=now,
    )
    session.add(member)
    session.flush()
    for key in keys:
        session.add(MemberKey(kid=key.kid, node_id=row.node_id, jwk=key.to_jwk(), valid_from=now))
    session.add(
        MemberNodeHistory(
            node_id=row.node_id, status=NodeStatus.ACTIVE, at=now, reason="joined", actor=actor.name
        )
    )
    row.state, row.decided_by, row.decided_at = JoinRequestState.APPROVED, actor.name, now
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="member.approve",
        target_type="member_node",
        target_id=row.node_id,
    )
    publish_trust_list(session=session, settings=settings, root_key=root_key)
    return member


def refuse_join_request(
    *, session: Session, request_id: int, reason: str, actor: Actor
) -> JoinRequestRecord:
    row = _pending_or_raise(session, request_id)
    row.state, row.decided_by, row.decided_at = JoinRequestState.REFUSED, actor.name, utcnow()
    row.reason = reason
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="member.refuse",
        target_type="join_request",
        target_id=request_id,
        detail={"reason": reason},
    )
    return row


def get_member_or_raise(*, session: Session, node_id: str) -> MemberNode:
    member = session.get(MemberNode, node_id)
    if member is None:
        raise NotFound(f"node {node_id} is not a member")
    return member


def member_keys(*, session: Session, node_id: str) -> list[MemberKey]:
    return list(
        session.exec(
            select(MemberKey)
            .where(MemberKey.node_id == node_id)
            .order_by(col(MemberKey.valid_from))
        ).all()
    )


def member_history(*, session: Session, node_id: str) -> list[MemberNodeHistory]:
    return list(
        session.exec(
            select(MemberNodeHistory)
            .where(MemberNodeHistory.node_id == node_id)
            .order_by(col(MemberNodeHistory.id))
        ).all()
    )


def rotate_key(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey | None,
    token: str,
    now: datetime | None = None,
) -> MemberKey:
    """Add a member's new key; the rotation is signed by one of its active keys."""
    try:
        node_id = KeyRotation.claimed_node_id(token)
    except OnboardingError as exc:
        raise InvalidRequest(f"key rotation refused: {exc}") from exc
    member = get_member_or_raise(session=session, node_id=node_id)
    if member.status is not NodeStatus.ACTIVE:
        raise Conflict(f"node {node_id} is {member.status.value}: it cannot rotate keys")
    active = [
        PublicKey.from_jwk(k.jwk)
        for k in member_keys(session=session, node_id=node_id)
        if k.status is KeyStatus.ACTIVE
    ]
    try:
        rotation = KeyRotation.from_jws(
            token, did=member.did, active_keys=active, now=now or utcnow()
        )
    except OnboardingError as exc:
        raise InvalidRequest(f"key rotation refused: {exc}") from exc
    if _kid_taken(session, rotation.new_key.kid):
        raise Conflict(f"key {rotation.new_key.kid} is already registered")
    key = MemberKey(
        kid=rotation.new_key.kid,
        node_id=node_id,
        jwk=rotation.new_key.to_jwk(),
        valid_from=utcnow(),
    )
    session.add(key)
    session.flush()
    record(
        session=session,
        actor=Actor(role=Role.PUBLIC, name=f"node {node_id}"),
        action="member.key_rotate",
        target_type="member_key",
        target_id=key.kid,
    )
    publish_trust_list(session=session, settings=settings, root_key=root_key)
    return key


def set_key_status(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey | None,
    node_id: str,
    kid: str,
    status: KeyStatus,
    reason: str,
    actor: Actor,
) -> MemberKey:
    key = session.get(MemberKey, kid)
    if key is None or key.node_id != node_id:
        raise NotFound(f"node {node_id} has no key {kid}")
    if key.status is KeyStatus.COMPROMISED:
        raise Conflict(f"key {kid} is already compromised")
    if key.status is status:
        raise Conflict(f"key {kid} is already {status.value}")
    now = utcnow()
    key.status, key.status_since = status, now
    if key.valid_until is None or key.valid_until > now:
        key.valid_until = now
    session.add(key)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"member.key_{status.value}",
        target_type="member_key",
        target_id=kid,
        detail={"reason": reason},
    )
    publish_trust_list(session=session, settings=settings, root_key=root_key)
    return key


def set_node_status(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey | None,
    node_id: str,
    status: NodeStatus,
    reason: str,
    actor: Actor,
) -> MemberNode:
    member = get_member_or_raise(session=session, node_id=node_id)
    if member.status not in NODE_TRANSITIONS[status]:
        raise Conflict(f"node {node_id} is {member.status.value}: it cannot become {status.value}")
    now = utcnow()
    member.status, member.status_since = status, now
    session.add(member)
    session.add(
        MemberNodeHistory(node_id=node_id, status=status, at=now, reason=reason, actor=actor.name)
    )
    session.flush()
    record(
        session=session,
        actor=actor,
        action=f"member.{status.value}",
        target_type="member_node",
        target_id=node_id,
        detail={"reason": reason},
    )
    publish_trust_list(session=session, settings=settings, root_key=root_key)
    return member
