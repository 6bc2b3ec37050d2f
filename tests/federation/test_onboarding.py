"""Proof of possession for join requests and key rotations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sdgcities.credentials import (
    FrameworkRef,
    JwsToken,
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
)
from sdgcities.credentials._strict import b64url_encode
from sdgcities.credentials.jws import sign_jws
from sdgcities.federation.errors import OnboardingError, PossessionNotProven, RequestStale
from sdgcities.federation.onboarding import (
    JOIN_REQUEST_TYP,
    KEY_ROTATION_TYP,
    EndorsementRequest,
    JoinRequest,
    KeyRotation,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASE = "https://ke.example.org"
DID = "did:web:ke.example.org"
REF = FrameworkRef("sdgcities-ke", "1", "sha256:" + "0" * 64)


def _join_payload(key: SigningKey, **changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "nodeId": "KE",
        "did": "did:web:ke.example.org",
        "baseUrl": BASE,
        "name": "Kenya",
        "keys": [key.public_key.to_jwk()],
        "iat": int(NOW.timestamp()),
        "nonce": "n-1",
    }
    payload.update(changes)
    return payload


def test_join_request_round_trip() -> None:
    key = SigningKey.generate()
    token = JoinRequest.sign(node_id="KE", base_url=BASE, name="Kenya", key=key, now=NOW)
    request = JoinRequest.from_jws(token, now=NOW + timedelta(minutes=1))
    assert request.node_id == "KE"
    assert request.did == "did:web:ke.example.org"
    assert [k.kid for k in request.keys] == [key.kid]
    assert JwsToken.parse(token, typ=JOIN_REQUEST_TYP).kid == f"{DID}#{key.kid}"


def test_a_join_request_whose_kid_names_another_did_is_refused() -> None:
    # Signed by a key it carries, but under another node's DID than the one it asks to join as.
    key = SigningKey.generate()
    token = sign_jws(
        _join_payload(key), key=key, did="did:web:gh.example.org", typ=JOIN_REQUEST_TYP
    )
    with pytest.raises(PossessionNotProven, match="kid names another DID than the key's node"):
        JoinRequest.from_jws(token, now=NOW)


def test_forged_signature_is_refused() -> None:
    key = SigningKey.generate()
    token = JoinRequest.sign(node_id="KE", base_url=BASE, name="Kenya", key=key, now=NOW)
    header, _payload, signature = token.split(".")
    altered = b64url_encode(json.dumps(_join_payload(key, name="Evil")).encode())
    with pytest.raises(PossessionNotProven, match="does not verify"):
        JoinRequest.from_jws(f"{header}.{altered}.{signature}", now=NOW)


def test_key_not_in_payload_is_refused() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    token = sign_jws(_join_payload(other), key=key, did=DID, typ=JOIN_REQUEST_TYP)
    with pytest.raises(PossessionNotProven, match="not signed by a key it carries"):
        JoinRequest.from_jws(token, now=NOW)


def test_did_mismatch_is_refused() -> None:
    key = SigningKey.generate()
    token = sign_jws(
        _join_payload(key, did="did:web:other.example.org"),
        key=key,
        did="did:web:other.example.org",
        typ=JOIN_REQUEST_TYP,
    )
    with pytest.raises(OnboardingError, match="is not the did:web of"):
        JoinRequest.from_jws(token, now=NOW)


def test_stale_iat_is_refused() -> None:
    key = SigningKey.generate()
    token = JoinRequest.sign(node_id="KE", base_url=BASE, name="Kenya", key=key, now=NOW)
    with pytest.raises(RequestStale, match="more than 10 minutes"):
        JoinRequest.from_jws(token, now=NOW + timedelta(minutes=11))


def test_plain_http_outside_loopback_is_refused() -> None:
    key = SigningKey.generate()
    token = sign_jws(
        _join_payload(key, baseUrl="http://ke.example.org"), key=key, did=DID, typ=JOIN_REQUEST_TYP
    )
    with pytest.raises(OnboardingError, match="baseUrl is not acceptable"):
        JoinRequest.from_jws(token, now=NOW)


def test_rotation_round_trip() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    token = KeyRotation.sign(node_id="KE", did=DID, current_key=old, new_key=new, now=NOW)
    rotation = KeyRotation.from_jws(token, did=DID, active_keys=[old.public_key], now=NOW)
    assert rotation.new_key.kid == new.kid
    assert rotation.signed_by == old.kid


def test_rotation_not_signed_by_an_active_key_is_refused() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    token = KeyRotation.sign(node_id="KE", did=DID, current_key=new, new_key=new, now=NOW)
    with pytest.raises(PossessionNotProven, match="not signed by an active key"):
        KeyRotation.from_jws(token, did=DID, active_keys=[old.public_key], now=NOW)


def test_rotation_without_new_key_proof_is_refused() -> None:
    old, new, stranger = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    iat = int(NOW.timestamp())
    proof = sign_jws(
        {"nodeId": "KE", "kid": new.kid, "iat": iat},
        key=stranger,
        did=DID,
        typ="key-possession+jwt",
    )
    payload = {"nodeId": "KE", "newKey": new.public_key.to_jwk(), "iat": iat, "newKeyProof": proof}
    token = sign_jws(payload, key=old, did=DID, typ=KEY_ROTATION_TYP)
    with pytest.raises(PossessionNotProven, match="not signed by the new key"):
        KeyRotation.from_jws(token, did=DID, active_keys=[old.public_key], now=NOW)
    missing = sign_jws({**payload, "newKeyProof": ""}, key=old, did=DID, typ=KEY_ROTATION_TYP)
    with pytest.raises(OnboardingError, match="newKeyProof must be"):
        KeyRotation.from_jws(missing, did=DID, active_keys=[old.public_key], now=NOW)


def test_a_rotation_whose_kids_name_another_did_is_refused() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    as_ghana = KeyRotation.sign(
        node_id="KE", did="did:web:gh.example.org", current_key=old, new_key=new, now=NOW
    )
    with pytest.raises(PossessionNotProven, match="kid names another DID than the key's node"):
        KeyRotation.from_jws(as_ghana, did=DID, active_keys=[old.public_key], now=NOW)
    # The rotation's own kid is right; the new key's proof names another DID.
    honest = KeyRotation.sign(node_id="KE", did=DID, current_key=old, new_key=new, now=NOW)
    payload = JwsToken.parse(honest, typ=KEY_ROTATION_TYP).verify(old.public_key)
    payload["newKeyProof"] = sign_jws(
        {"nodeId": "KE", "kid": new.kid, "iat": payload["iat"]},
        key=new,
        did="did:web:gh.example.org",
        typ="key-possession+jwt",
    )
    token = sign_jws(payload, key=old, did=DID, typ=KEY_ROTATION_TYP)
    with pytest.raises(PossessionNotProven, match="new-key proof: the kid names another DID"):
        KeyRotation.from_jws(token, did=DID, active_keys=[old.public_key], now=NOW)


def _member_list(key: SigningKey, *, status: NodeStatus = NodeStatus.ACTIVE) -> TrustList:
    node = TrustedNode(
        id="KE",
        did="did:web:ke.example.org",
        name="Kenya",
        base_url=BASE,
        status=status,
        status_since=NOW,
        keys=(KeyPeriod(key.public_key, KeyStatus.ACTIVE, NOW),),
    )
    return TrustList(
        issuer="did:web:global.example.org",
        sequence=1,
        issued_at=NOW,
        next_update=NOW + timedelta(days=1),
        nodes=(node,),
    )


def test_endorsement_request_from_a_member() -> None:
    key = SigningKey.generate()
    token = EndorsementRequest.sign(
        node_id="KE", did=DID, framework=REF, document="{}", key=key, now=NOW
    )
    request = EndorsementRequest.from_jws(token, trust_list=_member_list(key), now=NOW)
    assert (request.node_id, request.framework) == ("KE", REF)


def test_endorsement_request_refusals() -> None:
    key = SigningKey.generate()
    token = EndorsementRequest.sign(
        node_id="KE", did=DID, framework=REF, document="{}", key=key, now=NOW
    )
    with pytest.raises(PossessionNotProven, match="not signed by a key on the trust list"):
        EndorsementRequest.from_jws(token, trust_list=_member_list(SigningKey.generate()), now=NOW)
    suspended = _member_list(key, status=NodeStatus.SUSPENDED)
    with pytest.raises(PossessionNotProven, match="is not active"):
        EndorsementRequest.from_jws(token, trust_list=suspended, now=NOW)
    other = EndorsementRequest.sign(
        node_id="UG", did=DID, framework=REF, document="{}", key=key, now=NOW
    )
    with pytest.raises(PossessionNotProven, match="names node UG but KE signed it"):
        EndorsementRequest.from_jws(other, trust_list=_member_list(key), now=NOW)
    with pytest.raises(RequestStale):
        EndorsementRequest.from_jws(
            token, trust_list=_member_list(key), now=NOW + timedelta(hours=1)
        )
    # KE's real key, the kid naming another node's DID.
    as_ghana = EndorsementRequest.sign(
        node_id="KE", did="did:web:gh.example.org", framework=REF, document="{}", key=key, now=NOW
    )
    with pytest.raises(PossessionNotProven, match="kid names another DID than the key's node"):
        EndorsementRequest.from_jws(as_ghana, trust_list=_member_list(key), now=NOW)
