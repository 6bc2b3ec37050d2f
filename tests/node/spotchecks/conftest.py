"""A national node (KE) that trusts a global node, and an application certified on it through
the whole workflow (review, stage report, committee), for the spot-check tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sdgcities.credentials import (
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
)
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import SYSTEM
from sdgcities.node.applications.models import Evidence
from sdgcities.node.trust.service import accept_trust_list

from ..certification import Desk, desk
from ..conftest import ROOT_DID, ROOT_KEY, Backend
from ..review.factories import (
    ReviewWorld,
    assign,
    consolidate,
    ok,
    review_fully,
    submitted_application,
)

REVIEWER_NAMES = ("Wanjiru Kamau", "Otieno Odhiambo", "Achieng Njoroge")

__all__ = ["GLOBAL_DID", "GLOBAL_KEY", "Certified", "Desk", "desk"]

# The global node's node key (not the root key): what signs dossier requests and outcomes.
GLOBAL_KEY = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132))))
GLOBAL_DID = ROOT_DID
# Another member of the federation, whose key must not pass for the global node's.
GHANA_KEY = SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(200, 232))))
GHANA_DID = "did:web:gh.example.org"


def _node(node_id: str, did: str, key: SigningKey, base_url: str, **fields: object) -> TrustedNode:
    now = datetime.now(UTC)
    return TrustedNode(
        id=node_id,
        did=did,
        name=f"node {node_id}",
        base_url=base_url,
        status=fields.get("status", NodeStatus.ACTIVE),  # type: ignore[arg-type]
        status_since=now - timedelta(days=30),
        keys=(
            KeyPeriod(
                key.public_key,
                fields.get("key_status", KeyStatus.ACTIVE),  # type: ignore[arg-type]
                now - timedelta(days=30),
                status_since=fields.get("key_status_since"),  # type: ignore[arg-type]
            ),
        ),
    )


def trust(
    session: Session, backend: Backend, *, sequence: int = 1, **global_fields: object
) -> None:
    """Accept, on the national node, a trust list naming the global node, this node and GH."""
    now = datetime.now(UTC)
    settings = backend.settings
    nodes = (
        _node("global", GLOBAL_DID, GLOBAL_KEY, "https://global.example.org", **global_fields),
        _node("GH", GHANA_DID, GHANA_KEY, "https://gh.example.org"),
        _node(
            settings.node_id,
            settings.did,
            backend.app.state.node.signing_key,
            settings.base_url,
        ),
    )
    token = TrustList(
        issuer=ROOT_DID,
        sequence=sequence,
        issued_at=now,
        next_update=now + timedelta(days=1),
        nodes=nodes,
    ).sign(ROOT_KEY)
    accept_trust_list(session=session, settings=settings, token=token, actor=SYSTEM)
    session.commit()


@dataclass
class Certified:
    application_id: int
    certificate_id: str
    locode: str
    evidence: dict[str, str]  # criterion code -> digest


@pytest.fixture
def certified(client: TestClient, desk: Desk, session: Session, backend: Backend) -> Certified:
    """An application reviewed, reported on and awarded on the national node, which trusts the
    global node."""
    trust(session, backend)
    world = ReviewWorld(
        framework_id=desk.framework_id,
        admin=desk.admin,
        nairobi=desk.nairobi,
        mombasa=desk.mombasa,
        # Named, so a test can search the dossier for their names.
        reviewers=[
            desk.make_account(Role.REVIEWER, name=name, email=f"{name.split()[0].lower()}@ke.org")
            for name in REVIEWER_NAMES
        ],
        secretariat=desk.secretariat,
        committee=desk.government,
    )
    application_id = submitted_application(client, world)
    assign(client, world, application_id)
    review_fully(client, world, application_id)
    ok(consolidate(client, world, application_id, "recommended"))
    meeting_id = desk.meeting()
    item = desk.item_for(meeting_id, application_id=application_id)
    decided = ok(desk.decided(item["id"]))
    evidence = session.exec(select(Evidence).where(Evidence.application_id == application_id)).all()
    return Certified(
        application_id=application_id,
        certificate_id=decided["certificate_id"],
        locode="KE-NBO",
        evidence={e.criterion_code: e.digest for e in evidence},
    )
