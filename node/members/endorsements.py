"""Framework endorsement on the global node: members ask, the global committee decides.

A request goes on the global committee's next agenda (`committee.meetings.generate_agenda`); the
committee's decision on that item calls `endorse` or `refuse` here, in its transaction, so an
endorsement always has a quorate vote behind it (report §26a: criteria adapted "with the
endorsement of UN-Habitat"; §26b: "certification endorsement" by the global committee).

An endorsement is `credentials.Endorsement` signed by the root key; it is returned to the node
and carried on the next trust list beside the node (`TrustedNode.frameworks`).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from sdgcities.credentials import Endorsement, FrameworkRef, SigningKey
from sdgcities.credentials import Error as CredentialsError
from sdgcities.federation.errors import OnboardingError
from sdgcities.federation.onboarding import EndorsementRequest
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import Settings
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.frameworks.document import FrameworkDocument
from sdgcities.node.frameworks.errors import FrameworkError
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from .models import EndorsementRequestRecord, EndorsementState
from .publish import publish_trust_list


def submit_endorsement_request(
    *, session: Session, settings: Settings, token: str
) -> EndorsementRequestRecord:
    trust_list = load_current(session=session, settings=settings)
    if trust_list is None:
        raise Conflict("the global node has published no trust list yet")
    try:
        request = EndorsementRequest.from_jws(token, trust_list=trust_list, now=utcnow())
    except OnboardingError as exc:
        raise InvalidRequest(f"endorsement request refused: {exc}") from exc
    if request.node_id == settings.node_id:
        raise InvalidRequest("the global node endorses its own frameworks directly")
    try:
        document = FrameworkDocument.from_json(request.document)
    except (FrameworkError, CredentialsError, ValueError) as exc:
        raise InvalidRequest(
            f"endorsement request refused: the document is invalid: {exc}"
        ) from exc
    named = request.framework
    if (document.id, document.version, document.digest) != (named.id, named.version, named.digest):
        raise InvalidRequest(
            "endorsement request refused: the document is "
            f"{document.id} version {document.version} ({document.digest}), "
            f"not the {named.id} version {named.version} ({named.digest}) it names"
        )
    existing = session.exec(
        select(EndorsementRequestRecord).where(
            EndorsementRequestRecord.node_id == request.node_id,
            EndorsementRequestRecord.digest == request.framework.digest,
            col(EndorsementRequestRecord.state).in_(
                [EndorsementState.PENDING, EndorsementState.ENDORSED]
            ),
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"{request.framework.id} version {request.framework.version} of node "
            f"{request.node_id} is already {existing.state.value} (request {existing.id})"
        )
    row = EndorsementRequestRecord(
        node_id=request.node_id,
        framework_id=request.framework.id,
        version=request.framework.version,
        digest=request.framework.digest,
        document=request.document,
        token=token,
    )
    session.add(row)
    session.flush()
    return row


def list_endorsement_requests(
    *, session: Session, state: EndorsementState | None = None
) -> list[EndorsementRequestRecord]:
    query = select(EndorsementRequestRecord).order_by(col(EndorsementRequestRecord.id))
    if state is not None:
        query = query.where(EndorsementRequestRecord.state == state)
    return list(session.exec(query).all())


def get_endorsement_request_or_raise(
    *, session: Session, request_id: int
) -> EndorsementRequestRecord:
    row = session.get(EndorsementRequestRecord, request_id)
    if row is None:
        raise NotFound(f"endorsement request {request_id} not found")
    return row


def _pending(session: Session, request_id: int) -> EndorsementRequestRecord:
    row = get_endorsement_request_or_raise(session=session, request_id=request_id)
    if row.state is not EndorsementState.PENDING:
        raise Conflict(f"endorsement request {request_id} is already {row.state.value}")
    return row


def endorse(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey | None,
    request_id: int,
    decided_by: str,
    actor: Actor,
) -> EndorsementRequestRecord:
    if root_key is None:
        raise Conflict("this node holds no global root key: only the global node endorses")
    row = _pending(session, request_id)
    now = utcnow().replace(microsecond=0)
    endorsement = Endorsement.sign(
        framework=FrameworkRef(row.framework_id, row.version, row.digest),
        node_id=row.node_id,
        root_key=root_key,
        issuer_did=settings.did,
        endorsed_at=now,
    )
    row.state, row.endorsement_jws = EndorsementState.ENDORSED, endorsement.token
    row.decided_by, row.decided_at = decided_by, now
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="framework.endorse",
        target_type="endorsement_request",
        target_id=request_id,
        detail={"node": row.node_id, "digest": row.digest},
    )
    publish_trust_list(session=session, settings=settings, root_key=root_key)
    return row


def refuse(
    *, session: Session, request_id: int, reason: str, decided_by: str, actor: Actor
) -> EndorsementRequestRecord:
    row = _pending(session, request_id)
    row.state, row.reason = EndorsementState.REFUSED, reason
    row.decided_by, row.decided_at = decided_by, utcnow()
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="framework.endorsement_refuse",
        target_type="endorsement_request",
        target_id=request_id,
        detail={"reason": reason},
    )
    return row
