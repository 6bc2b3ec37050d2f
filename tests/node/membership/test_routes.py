"""A national node's side: joining, syncing the trust list, asking for endorsement.

The global node is played by an `httpx.MockTransport`; the real two-process run is
`tests/integration/test_onboarding.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import (
    Endorsement,
    FrameworkRef,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
)
from sdgcities.federation.onboarding import EndorsementRequest, JoinRequest, KeyRotation
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.identity.service import key_path
from sdgcities.node.leader import AdvisoryLock, leader_lock_key
from sdgcities.node.state import NodeState

from ..conftest import ROOT_DID, ROOT_KEY, Account, Backend, MakeFramework

GLOBAL = "https://global.example.org"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def global_node(backend: Backend) -> Iterator[Callable[[Handler], list[httpx.Request]]]:
    """Point the node at a mock global node; yields a function that installs a handler.

    Only the test's own calls may reach the handler: on PostgreSQL the node's duties start
    once its process wins the leader lock, which can be after this fixture names a global
    node, and the trust-list sync would then call the handler too. Holding the lock keeps
    the duties from starting; if the app holds it already, they started without a global
    node, so no sync runs.
    """
    state: NodeState = backend.app.state.node
    saved = (state.settings, state.http)
    duties_held_off = AdvisoryLock(backend.engine, key=leader_lock_key(state.settings.node_id))
    if backend.engine.dialect.name == "postgresql":
        duties_held_off.try_acquire()
    state.settings = state.settings.model_copy(update={"global_url": GLOBAL})

    def install(handler: Handler) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        state.http = httpx.Client(transport=httpx.MockTransport(record), follow_redirects=False)
        return seen

    yield install
    state.settings, state.http = saved
    state.verifiers.reset()
    duties_held_off.release()


def _trust_list(backend: Backend, *, sequence: int, frameworks: tuple[Endorsement, ...]) -> str:
    now = datetime.now(UTC)
    key = backend.app.state.node.signing_key
    node = TrustedNode(
        id="KE",
        did=backend.settings.did,
        name="Kenya",
        base_url=backend.settings.base_url,
        status=NodeStatus.ACTIVE,
        status_since=now - timedelta(days=1),
        keys=(KeyPeriod(key.public_key, KeyStatus.ACTIVE, now - timedelta(days=1)),),
        frameworks=frameworks,
    )
    return TrustList(
        issuer=ROOT_DID,
        sequence=sequence,
        issued_at=now,
        next_update=now + timedelta(days=1),
        nodes=(node,),
    ).sign(ROOT_KEY)


def test_without_a_global_url(client: TestClient, admin: Account) -> None:
    for path in ("/admin/federation/join", "/admin/federation/sync"):
        response = client.post(path, json={}, headers=admin.headers)
        assert response.status_code == 409
        assert response.json()["detail"] == "no global node is configured (SDGCITIES_GLOBAL_URL)"


def test_join_sends_a_signed_request(
    client: TestClient,
    admin: Account,
    backend: Backend,
    global_node: Callable[..., list[httpx.Request]],
) -> None:
    seen = global_node(lambda _r: httpx.Response(202, json={"id": 7, "state": "pending"}))
    response = client.post("/admin/federation/join", json={}, headers=admin.headers)
    assert response.status_code == 202
    assert response.json()["request_id"] == 7
    assert str(seen[0].url) == f"{GLOBAL}/federation/join"
    request = JoinRequest.from_jws(json.loads(seen[0].content)["token"])
    assert request.node_id == "KE"
    assert [k.kid for k in request.keys] == [backend.app.state.node.signing_key.kid]

    response = client.post(
        "/admin/federation/join",
        json={"global_url": "https://evil.example.org"},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "https://evil.example.org is not the configured global node"


def test_join_refusals_redirects_and_caps(
    client: TestClient, admin: Account, global_node: Callable[..., list[httpx.Request]]
) -> None:
    global_node(lambda _r: httpx.Response(302, headers={"Location": "https://evil.example.org"}))
    response = client.post("/admin/federation/join", json={}, headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"].startswith("the global node refused the join request (302)")

    global_node(lambda _r: httpx.Response(202, content=b"x" * (300 * 1024)))
    response = client.post("/admin/federation/join", json={}, headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"the answer of {GLOBAL}/federation/join is larger than 262144 bytes"
    )

    global_node(lambda _r: httpx.Response(409, json={"detail": "node KE is already a member"}))
    response = client.post("/admin/federation/join", json={}, headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "the global node refused the join request (409): node KE is already a member"
    )


def test_sync_accepts_and_attaches_endorsements(
    client: TestClient,
    admin: Account,
    backend: Backend,
    session: Session,
    make_framework: MakeFramework,
    global_node: Callable[..., list[httpx.Request]],
) -> None:
    version_id = make_framework(endorse=False)
    version = session.get(FrameworkVersion, version_id)
    assert version is not None
    assert version.digest is not None
    endorsement = Endorsement.sign(
        framework=FrameworkRef(version.framework_id, version.version, version.digest),
        node_id="KE",
        root_key=ROOT_KEY,
        issuer_did=ROOT_DID,
        endorsed_at=datetime.now(UTC).replace(microsecond=0),
    )
    token = _trust_list(backend, sequence=900, frameworks=(endorsement,))
    seen = global_node(lambda _r: httpx.Response(200, text=token))
    response = client.post("/admin/federation/sync", headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == {"sequence": 900, "stored": True}
    assert str(seen[0].url) == f"{GLOBAL}/federation/trust-list"
    session.refresh(version)
    assert version.endorsement_jws == endorsement.token
    assert client.get("/federation/trust-list").text == token

    again = client.post("/admin/federation/sync", headers=admin.headers)
    assert again.json() == {"sequence": 900, "stored": False}

    older = _trust_list(backend, sequence=899, frameworks=())
    global_node(lambda _r: httpx.Response(200, text=older))
    response = client.post("/admin/federation/sync", headers=admin.headers)
    assert response.status_code == 422
    assert "older than #900" in response.json()["detail"]

    global_node(lambda _r: httpx.Response(503))
    response = client.post("/admin/federation/sync", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == f"{GLOBAL}/federation/trust-list answered 503"


def test_request_endorsement(
    client: TestClient,
    admin: Account,
    backend: Backend,
    make_framework: MakeFramework,
    global_node: Callable[..., list[httpx.Request]],
) -> None:
    version_id = make_framework(endorse=False)
    seen = global_node(lambda _r: httpx.Response(202, json={"id": 3, "state": "pending"}))
    response = client.post(
        f"/admin/frameworks/{version_id}/request-endorsement", headers=admin.headers
    )
    assert response.status_code == 202
    assert response.json()["request_id"] == 3
    sent = json.loads(seen[0].content)["token"]
    key = backend.app.state.node.signing_key
    trust_list = TrustList.from_jws(
        _trust_list(backend, sequence=1, frameworks=()), pinned_thumbprints=[ROOT_KEY.kid]
    )
    request = EndorsementRequest.from_jws(sent, trust_list=trust_list)
    assert request.framework.id == "sdgcities-ke"
    assert key.kid == trust_list.nodes[0].keys[0].public_key.kid

    endorsed = make_framework(version="2")
    response = client.post(
        f"/admin/frameworks/{endorsed}/request-endorsement", headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "sdgcities-ke version 2 is already endorsed"
    draft = make_framework(version="3", publish=False, endorse=False)
    response = client.post(f"/admin/frameworks/{draft}/request-endorsement", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "sdgcities-ke version 3 is a draft: publish it first"
    response = client.post("/admin/frameworks/999999/request-endorsement", headers=admin.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "no framework version 999999"


def test_outbound_only_to_known_base_urls() -> None:
    from sdgcities.node.errors import InvalidRequest
    from sdgcities.node.membership.client import fetch_trust_list

    with httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(200))) as client:
        with pytest.raises(InvalidRequest, match="neither the global node nor on the trust list"):
            fetch_trust_list(client, base_url="https://evil.example.org", allowed={GLOBAL})


@pytest.fixture
def restore_signing_key(backend: Backend) -> Iterator[None]:
    """The node's app is shared by the session: put its signing key back after a rotation."""
    state: NodeState = backend.app.state.node
    saved = state.signing_key
    yield
    state.signing_key = saved


@pytest.mark.usefixtures("restore_signing_key")
def test_rotate_key_announces_then_switches(
    client: TestClient,
    admin: Account,
    backend: Backend,
    session: Session,
    global_node: Callable[..., list[httpx.Request]],
) -> None:
    state: NodeState = backend.app.state.node
    old = state.signing_key
    answered_from = "2030-01-02T03:04:05Z"

    def accept(request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content)["token"]
        rotation = KeyRotation.from_jws(
            token, did=backend.settings.did, active_keys=[old.public_key]
        )
        return httpx.Response(201, json={"kid": rotation.new_key.kid, "valid_from": answered_from})

    seen = global_node(accept)
    response = client.post("/admin/federation/keys/rotate", headers=admin.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert str(seen[0].url) == f"{GLOBAL}/federation/keys/rotate"
    assert body["previous_kid"] == old.kid
    assert state.signing_key.kid == body["kid"] != old.kid
    row = session.get(NodeKey, body["kid"])
    assert row is not None
    assert row.status is KeyStatus.ACTIVE
    assert row.valid_from == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    stored = SigningKey.load(
        key_path(backend.settings, body["kid"]),
        backend.settings.key_passphrase.get_secret_value(),
    )
    assert stored.kid == body["kid"]
    old_row = session.get(NodeKey, old.kid)
    assert old_row is not None
    assert old_row.status is KeyStatus.ACTIVE  # retired on the global node, later


@pytest.mark.usefixtures("restore_signing_key")
def test_rotate_key_refused_keeps_the_old_key(
    client: TestClient,
    admin: Account,
    backend: Backend,
    global_node: Callable[..., list[httpx.Request]],
) -> None:
    state: NodeState = backend.app.state.node
    old = state.signing_key
    keys_before = set(backend.settings.key_dir.iterdir())
    global_node(lambda _r: httpx.Response(409, json={"detail": "node KE is suspended"}))
    response = client.post("/admin/federation/keys/rotate", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "the global node refused the key rotation (409): node KE is suspended"
    )
    assert state.signing_key is old
    assert set(backend.settings.key_dir.iterdir()) == keys_before

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    global_node(unreachable)
    response = client.post("/admin/federation/keys/rotate", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == f"{GLOBAL}/federation/keys/rotate is unreachable: refused"
    assert state.signing_key is old
    assert set(backend.settings.key_dir.iterdir()) == keys_before


def test_rotate_key_needs_a_global_node(client: TestClient, admin: Account) -> None:
    response = client.post("/admin/federation/keys/rotate", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "no global node is configured (SDGCITIES_GLOBAL_URL)"
