"""The global node per backend (as in `tests/node/members`, on a database of this package's
own), its framework endorsed, and national nodes joining it through the trust registry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import SigningKey
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import SYSTEM
from sdgcities.node.frameworks.service import endorse_version, ensure_baseline

from ..conftest import ROOT_KEY, Account, Backend, MakeAccount
from ..framework_versions import sign_endorsement
from ..members.conftest import backend

__all__ = ["backend"]

JoinNode = Callable[..., str]


@pytest.fixture
def secretariat(make_account: MakeAccount) -> Account:
    return make_account(Role.SECRETARIAT)


@pytest.fixture
def baseline_id(session: Session, backend: Backend) -> int:
    """The baseline, endorsed for the global node by the root key: what it certifies under."""
    baseline = ensure_baseline(session=session)
    assert baseline.digest is not None
    if baseline.endorsement_jws is None:
        token = sign_endorsement(
            framework_id=baseline.framework_id,
            version=baseline.version,
            digest=baseline.digest,
            node_id=backend.settings.node_id,
            key=ROOT_KEY,
        )
        endorse_version(
            session=session, version=baseline, token=token, settings=backend.settings, actor=SYSTEM
        )
        session.commit()
    assert baseline.id is not None
    return baseline.id


@pytest.fixture
def join_node(client: TestClient, secretariat: Account) -> JoinNode:
    """`join_node("KE", status="active")`: a national node approved by the secretariat, then
    suspended or withdrawn when asked, all through the trust registry's API. Its base URL."""

    def join(node_id: str, *, status: str = "active", name: str | None = None) -> str:
        base_url = f"https://{node_id.lower()}.example.org"
        token = JoinRequest.sign(
            node_id=node_id,
            base_url=base_url,
            name=name or f"{node_id} SDG Cities national node",
            key=SigningKey.generate(),
        )
        joined = client.post("/federation/join", json={"token": token})
        assert joined.status_code == 202, joined.text
        approved = client.post(
            f"/federation/join-requests/{joined.json()['id']}/approve",
            headers=secretariat.headers,
        )
        assert approved.status_code == 200, approved.text
        action = {"active": None, "suspended": "suspend", "withdrawn": "withdraw"}[status]
        if action is not None:
            changed = client.post(
                f"/federation/members/{node_id}/{action}",
                headers=secretariat.headers,
                json={"reason": f"{action} for the test"},
            )
            assert changed.status_code == 200, changed.text
        return base_url

    return join
