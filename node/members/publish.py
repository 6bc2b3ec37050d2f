"""Publishing the signed trust list (DESIGN §5) from the registry's rows.

Every change to the registry republishes in the same transaction (sequence + 1, next update in
24 hours); a background task republishes before the next-update time when nothing changed. The
list is also accepted into the node's own copy (`node.trust`), so `GET /federation/trust-list`
and `/verify` on the global node use exactly what it published.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from sdgcities.credentials import (
    Endorsement,
    KeyPeriod,
    NodeStatus,
    PublicKey,
    SigningKey,
    TrustedNode,
    TrustList,
)
from sdgcities.credentials import Error as CredentialsError
from sdgcities.node.actor import SYSTEM
from sdgcities.node.config import Settings
from sdgcities.node.errors import Conflict
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import accept_trust_list

from .models import (
    EndorsementRequestRecord,
    EndorsementState,
    MemberKey,
    MemberNode,
    PublishedTrustList,
)

TRUST_LIST_VALIDITY = timedelta(hours=24)


def latest_published(*, session: Session) -> PublishedTrustList | None:
    return session.exec(
        select(PublishedTrustList).order_by(col(PublishedTrustList.sequence).desc()).limit(1)
    ).first()


def _period(jwk: dict[str, str], row: NodeKey | MemberKey) -> KeyPeriod:
    return KeyPeriod(
        public_key=PublicKey.from_jwk(jwk),
        status=row.status,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        status_since=row.status_since,
    )


def _endorsements(
    *, session: Session, settings: Settings, node_id: str, root_key: SigningKey
) -> tuple[Endorsement, ...]:
    """The endorsements held for `node_id`: on the global node, its own framework versions."""
    rows = session.exec(
        select(FrameworkVersion).where(col(FrameworkVersion.endorsement_jws).is_not(None))
    ).all()
    found: list[Endorsement] = []
    for row in rows:
        assert row.endorsement_jws is not None
        try:
            endorsement = Endorsement.verify(
                row.endorsement_jws, root_keys=(root_key.public_key,), root_did=settings.did
            )
        except CredentialsError:
            continue  # endorsed under another root key: not this list's to vouch for
        if endorsement.node_id == node_id and endorsement not in found:
            found.append(endorsement)
    return tuple(found)


def build_trust_list(
    *, session: Session, settings: Settings, root_key: SigningKey, sequence: int, now: datetime
) -> TrustList:
    own_keys = session.exec(select(NodeKey).order_by(col(NodeKey.valid_from))).all()
    nodes = [
        TrustedNode(
            id=settings.node_id,
            did=settings.did,
            name=settings.node_name,
            base_url=settings.base_url,
            status=NodeStatus.ACTIVE,
            status_since=min((k.valid_from for k in own_keys), default=now),
            keys=tuple(_period(k.public_jwk, k) for k in own_keys),
            frameworks=_endorsements(
                session=session, settings=settings, node_id=settings.node_id, root_key=root_key
            ),
        )
    ]
    members = session.exec(select(MemberNode).order_by(col(MemberNode.node_id))).all()
    for member in members:
        keys = session.exec(
            select(MemberKey)
            .where(MemberKey.node_id == member.node_id)
            .order_by(col(MemberKey.valid_from))
        ).all()
        nodes.append(
            TrustedNode(
                id=member.node_id,
                did=member.did,
                name=member.name,
                base_url=member.base_url,
                status=member.status,
                status_since=member.status_since,
                keys=tuple(_period(k.jwk, k) for k in keys),
                frameworks=_member_endorsements(
                    session=session, settings=settings, node_id=member.node_id, root_key=root_key
                ),
            )
        )
    return TrustList(
        issuer=settings.did,
        sequence=sequence,
        issued_at=now,
        next_update=now + TRUST_LIST_VALIDITY,
        nodes=tuple(nodes),
    )


def _member_endorsements(
    *, session: Session, settings: Settings, node_id: str, root_key: SigningKey
) -> tuple[Endorsement, ...]:
    rows = session.exec(
        select(EndorsementRequestRecord)
        .where(
            EndorsementRequestRecord.node_id == node_id,
            EndorsementRequestRecord.state == EndorsementState.ENDORSED,
        )
        .order_by(col(EndorsementRequestRecord.id))
    ).all()
    return tuple(
        Endorsement.verify(
            row.endorsement_jws, root_keys=(root_key.public_key,), root_did=settings.did
        )
        for row in rows
        if row.endorsement_jws is not None
    )


def publish_trust_list(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey | None,
    now: datetime | None = None,
) -> PublishedTrustList:
    """Sign and store the next trust list, and accept it as this node's own copy."""
    if root_key is None:
        raise Conflict("this node holds no global root key: only the global node publishes")
    now = (now or utcnow()).replace(microsecond=0)
    latest = latest_published(session=session)
    sequence = latest.sequence + 1 if latest else 1
    trust_list = build_trust_list(
        session=session, settings=settings, root_key=root_key, sequence=sequence, now=now
    )
    token = trust_list.sign(root_key)
    published = PublishedTrustList(
        sequence=sequence, token=token, issued_at=now, next_update=trust_list.next_update
    )
    session.add(published)
    session.flush()
    accept_trust_list(session=session, settings=settings, token=token, actor=SYSTEM)
    return published


def republish_if_due(
    *, session: Session, settings: Settings, root_key: SigningKey | None, now: datetime
) -> PublishedTrustList | None:
    """Republish when there is no list yet or less than half its validity is left."""
    if root_key is None:
        return None
    latest = latest_published(session=session)
    if latest is not None and latest.next_update - now > TRUST_LIST_VALIDITY / 2:
        return None
    return publish_trust_list(session=session, settings=settings, root_key=root_key, now=now)
