"""Framework versions for tests: a national draft, published, endorsed by the test root key."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from sdgcities.credentials import Endorsement, FrameworkRef, SigningKey
from sdgcities.node.actor import SYSTEM
from sdgcities.node.config import Settings
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.frameworks.schemas import FrameworkDerive
from sdgcities.node.frameworks.service import (
    derive_version,
    endorse_version,
    ensure_baseline,
    publish_version,
)

ENDORSED_AT = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def sign_endorsement(
    *,
    framework_id: str,
    version: str,
    digest: str,
    node_id: str = "KE",
    key: SigningKey,
    issuer_did: str = "did:web:global.example.org",
) -> str:
    ref = FrameworkRef(id=framework_id, version=version, digest=digest)
    return Endorsement.sign(
        framework=ref,
        node_id=node_id,
        root_key=key,
        issuer_did=issuer_did,
        endorsed_at=ENDORSED_AT,
    ).token


def make_framework_version(
    *,
    session: Session,
    settings: Settings,
    root_key: SigningKey,
    framework_id: str = "sdgcities-ke",
    version: str = "1",
    publish: bool = True,
    endorse: bool = True,
) -> FrameworkVersion:
    """A national framework derived from the baseline, as far along as asked."""
    baseline = ensure_baseline(session=session)
    data = FrameworkDerive(framework_id=framework_id, version=version, title="Kenya framework")
    draft = derive_version(
        session=session, base=baseline, data=data, settings=settings, actor=SYSTEM
    )
    if publish or endorse:
        publish_version(session=session, version=draft, actor=SYSTEM)
    if endorse:
        assert draft.digest is not None
        token = sign_endorsement(
            framework_id=framework_id,
            version=version,
            digest=draft.digest,
            node_id=settings.node_id,
            key=root_key,
        )
        endorse_version(
            session=session, version=draft, token=token, settings=settings, actor=SYSTEM
        )
    session.commit()
    return draft
