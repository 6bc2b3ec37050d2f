"""Publishing the signed trust list (DESIGN §5) from the registry's rows.

Every change to the registry republishes in the same transaction (sequence + 1, next update in
24 hours); a background task republishes before the next-update time when nothing changed. The
list is also accepted into the node's own copy (`node.trust`), so `GET /federation/trust-list`
and `/verify` on the global node use exactly what it published.

Each cut-off (a member suspended or withdrawn, a key compromised) carries the ids of the
certificates this node received before it (`received_before`), read from the federation store:
what is recorded at every publish is what the store held, so a report whose transaction was
still open at the cut-off shows at the next publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_
from sqlmodel import Session, col, select

from sdgcities.credentials import (
    VC_JWT_TYP,
    Endorsement,
    Exclusion,
    Jurisdiction,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    PublicKey,
    SigningKey,
    TrustedNode,
    TrustList,
    TrustListTooLarge,
)
from sdgcities.credentials import Error as CredentialsError
from sdgcities.node.actor import SYSTEM
from sdgcities.node.config import Settings
from sdgcities.node.errors import Conflict
from sdgcities.node.federation_registry.models import FederationCertificate
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.identity.service import names_key
from sdgcities.node.ingest.models import IngestedEvent
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


def received_before(
    *, session: Session, node_id: str, cutoff: datetime, kid: str | None = None
) -> frozenset[str]:
    """The ids of `node_id`'s certificates this node received before `cutoff` (DESIGN §3).

    Received means held in the federation store: a `credential.issued` event of a signed
    report, whose token the projection verified with a key of that node (`federation_certificate`),
    stored (`ingested_event.received_at`) before the cut-off. With `kid`, only those signed with
    that key.
    """
    joined = and_(
        col(IngestedEvent.node_id) == col(FederationCertificate.node_id),
        col(IngestedEvent.sequence) == col(FederationCertificate.sequence),
    )
    before = (FederationCertificate.node_id == node_id, col(IngestedEvent.received_at) < cutoff)
    if kid is None:  # the tokens are read only to tell keys apart
        ids = session.exec(
            select(FederationCertificate.id).join(IngestedEvent, joined).where(*before)
        ).all()
        return frozenset(ids)
    rows = session.exec(
        select(FederationCertificate.id, FederationCertificate.token)
        .join(IngestedEvent, joined)
        .where(*before)
    ).all()
    return frozenset(
        credential_id for credential_id, token in rows if names_key(token, typ=VC_JWT_TYP, kid=kid)
    )


def _period(
    *, session: Session, node_id: str, jwk: dict[str, str], row: NodeKey | MemberKey
) -> KeyPeriod:
    public_key = PublicKey.from_jwk(jwk)
    received: frozenset[str] = frozenset()
    if row.status is KeyStatus.COMPROMISED and row.status_since is not None:
        received = received_before(
            session=session, node_id=node_id, cutoff=row.status_since, kid=public_key.kid
        )
    return KeyPeriod(
        public_key=public_key,
        status=row.status,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        status_since=row.status_since,
        received_before_cutoff=received,
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


def global_jurisdiction(members: Sequence[MemberNode]) -> Jurisdiction:
    """Every country but those a national member holds (§26b, `cities/referral.py`): each from
    its joining, and a withdrawn member's only until it left, so the global node's certificates
    keep their meaning on both sides of a member's time in the federation. The times are taken
    to the second, as the list writes them."""
    exclusions = []
    for member in members:
        since = member.joined_at.replace(microsecond=0)
        until = None
        if member.status is NodeStatus.WITHDRAWN:
            until = member.status_since.replace(microsecond=0)
            if until <= since:
                continue  # withdrawn within the second it joined: it never held its country
        exclusions.append(Exclusion(member.node_id, since, until))
    return Jurisdiction.every_country(excluded=tuple(exclusions))


def build_trust_list(
    *, session: Session, settings: Settings, root_key: SigningKey, sequence: int, now: datetime
) -> TrustList:
    own_keys = session.exec(select(NodeKey).order_by(col(NodeKey.valid_from))).all()
    members = session.exec(select(MemberNode).order_by(col(MemberNode.node_id))).all()
    nodes = [
        TrustedNode(
            id=settings.node_id,
            did=settings.did,
            name=settings.node_name,
            base_url=settings.base_url,
            status=NodeStatus.ACTIVE,
            status_since=min((k.valid_from for k in own_keys), default=now),
            keys=tuple(
                _period(session=session, node_id=settings.node_id, jwk=k.public_jwk, row=k)
                for k in own_keys
            ),
            frameworks=_endorsements(
                session=session, settings=settings, node_id=settings.node_id, root_key=root_key
            ),
            jurisdiction=global_jurisdiction(members),
        )
    ]
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
                keys=tuple(
                    _period(session=session, node_id=member.node_id, jwk=k.jwk, row=k) for k in keys
                ),
                frameworks=_member_endorsements(
                    session=session, settings=settings, node_id=member.node_id, root_key=root_key
                ),
                received_before_cutoff=(
                    frozenset()
                    if member.status is NodeStatus.ACTIVE
                    else received_before(
                        session=session, node_id=member.node_id, cutoff=member.status_since
                    )
                ),
                jurisdiction=Jurisdiction.national(member.node_id),
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
    try:
        token = trust_list.sign(root_key)
    except TrustListTooLarge as exc:
        # The change that would need it is refused: verifiers could not read the list.
        raise Conflict(f"{exc}: the change is not made") from exc
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
