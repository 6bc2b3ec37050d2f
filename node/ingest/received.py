"""Whether the global node received a certificate, and when: the signed answer of
`GET /federation/received/{credential id}` (`federation.ReceivedStatement`, DESIGN §3)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sdgcities.federation import ReceivedStatement
from sdgcities.node.federation_registry.models import FederationCertificate
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow

from .models import IngestedEvent, ReceivedReport
from .schemas import ReceivedPublic


def received_statement(
    *, session: Session, state: NodeState, credential_id: str
) -> ReceivedPublic | None:
    """The signed statement for a certificate held in the federation store (None: not held).

    Held means as for the trust list's cut-offs: a `credential.issued` event whose token the
    projection verified with a key of the reporting node.
    """
    row = session.exec(
        select(
            FederationCertificate.node_id, IngestedEvent.received_at, ReceivedReport.token_sha256
        )
        .join(
            IngestedEvent,
            (col(IngestedEvent.node_id) == col(FederationCertificate.node_id))
            & (col(IngestedEvent.sequence) == col(FederationCertificate.sequence)),
        )
        .join(ReceivedReport, col(ReceivedReport.id) == col(IngestedEvent.report_id))
        .where(FederationCertificate.id == credential_id)
    ).first()
    if row is None:
        return None
    node_id, received_at, report_sha256 = row
    statement = ReceivedStatement(
        node_id=node_id,
        credential_id=credential_id,
        received_at=received_at,
        report=f"sha256:{report_sha256}",
        issued_at=utcnow(),
    )
    return ReceivedPublic(
        node_id=node_id,
        credential_id=credential_id,
        received_at=received_at.replace(microsecond=0),
        report=statement.report,
        statement=statement.sign(key=state.signing_key, issuer_did=state.settings.did),
    )
