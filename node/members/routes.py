"""The trust registry's HTTP API; mounted on the global node only (`create_app`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from sqlmodel import Session, col, select

from sdgcities.credentials import KeyStatus, NodeStatus
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.deps import Anyone, ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.schemas import Id

from . import endorsements, service
from .models import EndorsementState, JoinRequestState, MemberNode
from .publish import publish_trust_list
from .schemas import (
    EndorsementRequestPublic,
    EndorsementRequestsPublic,
    EndorsementRequestUpload,
    JoinRequestPublic,
    JoinRequestsPublic,
    MemberHistoryPublic,
    MemberKeyPublic,
    MemberNodePublic,
    MembersPublic,
    Reason,
    SignedRequest,
    TrustListPublished,
)

router = APIRouter(tags=["federation"])
JOIN_PATH = "/federation/join"

Secretariat = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]


def _member_public(session: Session, member: MemberNode) -> MemberNodePublic:
    public = MemberNodePublic.model_validate(member)
    public.keys = [
        MemberKeyPublic.model_validate(k)
        for k in service.member_keys(session=session, node_id=member.node_id)
    ]
    public.history = [
        MemberHistoryPublic.model_validate(h)
        for h in service.member_history(session=session, node_id=member.node_id)
    ]
    return public


@router.post(JOIN_PATH, status_code=202)
def post_join_request(
    session: SessionDep, state: StateDep, _actor: Anyone, body: SignedRequest
) -> JoinRequestPublic:
    """A national node asks to join; the JWS proves possession of the keys it carries."""
    row = service.submit_join_request(session=session, settings=state.settings, token=body.token)
    return JoinRequestPublic.model_validate(row)


@router.get("/federation/join-requests")
def get_join_requests(
    session: ReadSessionDep, _actor: Secretariat, state: JoinRequestState | None = None
) -> JoinRequestsPublic:
    rows = service.list_join_requests(session=session, state=state)
    return JoinRequestsPublic(
        data=[JoinRequestPublic.model_validate(r) for r in rows], count=len(rows)
    )


@router.post("/federation/join-requests/{request_id}/approve")
def approve_join_request(
    session: SessionDep, state: StateDep, actor: Secretariat, request_id: Id
) -> MemberNodePublic:
    member = service.approve_join_request(
        session=session,
        settings=state.settings,
        root_key=state.root_key,
        request_id=request_id,
        actor=actor,
    )
    return _member_public(session, member)


@router.post("/federation/join-requests/{request_id}/refuse")
def refuse_join_request(
    session: SessionDep, actor: Secretariat, request_id: Id, body: Reason
) -> JoinRequestPublic:
    row = service.refuse_join_request(
        session=session, request_id=request_id, reason=body.reason, actor=actor
    )
    return JoinRequestPublic.model_validate(row)


@router.get("/federation/members")
def get_members(session: ReadSessionDep, _actor: Secretariat) -> MembersPublic:
    members = session.exec(select(MemberNode).order_by(col(MemberNode.node_id))).all()
    return MembersPublic(data=[_member_public(session, m) for m in members], count=len(members))


@router.get("/federation/members/{node_id}")
def get_member(session: ReadSessionDep, _actor: Secretariat, node_id: str) -> MemberNodePublic:
    return _member_public(session, service.get_member_or_raise(session=session, node_id=node_id))


@router.post("/federation/keys/rotate", status_code=201)
def post_key_rotation(
    session: SessionDep, state: StateDep, _actor: Anyone, body: SignedRequest
) -> MemberKeyPublic:
    """A member announces a new key, signed by an active key and by the new key itself."""
    key = service.rotate_key(
        session=session, settings=state.settings, root_key=state.root_key, token=body.token
    )
    return MemberKeyPublic.model_validate(key)


def _key_route(status: KeyStatus, verb: str) -> None:
    @router.post(f"/federation/members/{{node_id}}/keys/{{kid}}/{verb}", name=f"key_{verb}")
    def change_key(
        session: SessionDep,
        state: StateDep,
        actor: Secretariat,
        node_id: str,
        kid: str,
        body: Reason,
    ) -> MemberKeyPublic:
        key = service.set_key_status(
            session=session,
            settings=state.settings,
            root_key=state.root_key,
            node_id=node_id,
            kid=kid,
            status=status,
            reason=body.reason,
            actor=actor,
        )
        return MemberKeyPublic.model_validate(key)


def _node_route(status: NodeStatus, verb: str) -> None:
    @router.post(f"/federation/members/{{node_id}}/{verb}", name=f"member_{verb}")
    def change_node(
        session: SessionDep,
        state: StateDep,
        actor: Secretariat,
        node_id: str,
        body: Reason,
    ) -> MemberNodePublic:
        member = service.set_node_status(
            session=session,
            settings=state.settings,
            root_key=state.root_key,
            node_id=node_id,
            status=status,
            reason=body.reason,
            actor=actor,
        )
        return _member_public(session, member)


@router.post("/federation/trust-list/publish")
def post_publish_trust_list(
    session: SessionDep, state: StateDep, actor: Secretariat
) -> TrustListPublished:
    """Sign and publish the trust list now (sequence + 1), rather than at the next change or
    the background round: e.g. after restoring a backup, or to extend `nextUpdate` at once."""
    published = publish_trust_list(
        session=session, settings=state.settings, root_key=state.root_key
    )
    record(
        session=session,
        actor=actor,
        action="trust_list.publish",
        target_type="trust_list",
        target_id=published.sequence,
    )
    return TrustListPublished.model_validate(published)


_key_route(KeyStatus.RETIRED, "retire")
_key_route(KeyStatus.COMPROMISED, "compromise")
_node_route(NodeStatus.SUSPENDED, "suspend")
_node_route(NodeStatus.ACTIVE, "reinstate")
_node_route(NodeStatus.WITHDRAWN, "withdraw")


# Framework endorsement -------------------------------------------------------------------------

Committee = Annotated[Actor, access(Role.COMMITTEE_MEMBER, Role.SECRETARIAT, Role.ADMINISTRATOR)]


@router.post("/federation/endorsements", status_code=202)
def post_endorsement_request(
    session: SessionDep, state: StateDep, _actor: Anyone, body: EndorsementRequestUpload
) -> EndorsementRequestPublic:
    """A member asks for its adapted framework version to be endorsed (signed JWS: members only)."""
    row = endorsements.submit_endorsement_request(
        session=session, settings=state.settings, token=body.token
    )
    return EndorsementRequestPublic.model_validate(row)


@router.get("/federation/endorsements")
def get_endorsement_requests(
    session: ReadSessionDep, _actor: Committee, state: EndorsementState | None = None
) -> EndorsementRequestsPublic:
    rows = endorsements.list_endorsement_requests(session=session, state=state)
    return EndorsementRequestsPublic(
        data=[EndorsementRequestPublic.model_validate(r) for r in rows], count=len(rows)
    )


@router.get("/federation/endorsements/{request_id}")
def get_endorsement_request(
    session: ReadSessionDep, _actor: Anyone, request_id: Id
) -> EndorsementRequestPublic:
    """One request and, once endorsed, the endorsement JWS (public: it is on the trust list)."""
    row = endorsements.get_endorsement_request_or_raise(session=session, request_id=request_id)
    return EndorsementRequestPublic.model_validate(row)
