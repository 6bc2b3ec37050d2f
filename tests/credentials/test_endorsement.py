"""Framework endorsements: signed by the global root, checked against the pinned root only."""

from __future__ import annotations

import pytest

from sdgcities.credentials import (
    ENDORSEMENT_TYP,
    Endorsement,
    MalformedError,
    SignatureInvalid,
    UntrustedIssuer,
    sign_jws,
)
from tests.vectors.builders import (
    GLOBAL_DID,
    KEYS_VALID_FROM,
    b64url,
    certificate,
    header_of,
    json_bytes,
    payload_of,
    segments,
)


@pytest.fixture
def endorsement(fed) -> Endorsement:
    return Endorsement.sign(
        framework=fed.node("KE").framework,
        node_id="KE",
        root_key=fed.root,
        issuer_did=GLOBAL_DID,
        endorsed_at=KEYS_VALID_FROM,
    )


def test_sign_and_verify_round_trip(fed, endorsement):
    verified = Endorsement.verify(endorsement.token, root_keys=(fed.root.public_key,))

    assert verified == endorsement
    assert verified.framework == fed.node("KE").framework
    assert (verified.node_id, verified.endorsed_at) == ("KE", KEYS_VALID_FROM)


def test_the_token_says_what_it_endorses(fed, endorsement):
    payload = payload_of(endorsement.token)

    assert payload["iss"] == GLOBAL_DID
    assert payload["sub"] == "KE"
    assert payload["framework"] == fed.node("KE").framework.to_json()


def test_any_of_several_pinned_roots_may_have_signed(fed, endorsement):
    roots = (fed.other_root.public_key, fed.root.public_key)

    assert Endorsement.verify(endorsement.token, root_keys=roots) == endorsement


def test_another_root_is_refused(fed, endorsement):
    with pytest.raises(UntrustedIssuer):
        Endorsement.verify(endorsement.token, root_keys=(fed.other_root.public_key,))


def test_signed_by_another_root_is_refused(fed):
    forged = Endorsement.sign(
        framework=fed.node("KE").framework,
        node_id="KE",
        root_key=fed.other_root,
        issuer_did=GLOBAL_DID,
        endorsed_at=KEYS_VALID_FROM,
    )

    with pytest.raises(UntrustedIssuer):
        Endorsement.verify(forged.token, root_keys=(fed.root.public_key,))


def test_a_changed_digest_breaks_the_signature(fed, endorsement):
    header, _, signature = segments(endorsement.token)
    payload = payload_of(endorsement.token)
    payload["framework"]["digest"] = "sha256:" + "00" * 32
    tampered = f"{header}.{b64url(json_bytes(payload))}.{signature}"

    with pytest.raises(SignatureInvalid):
        Endorsement.verify(tampered, root_keys=(fed.root.public_key,))


def test_the_kid_names_the_global_node(fed, endorsement):
    header = {"alg": "EdDSA", "typ": ENDORSEMENT_TYP, "kid": f"{GLOBAL_DID}#{fed.root.kid}"}

    assert header_of(endorsement.token) == header
    assert Endorsement.verify(
        endorsement.token, root_keys=(fed.root.public_key,), root_did=GLOBAL_DID
    )


def test_a_kid_naming_another_did_than_the_issuer_is_refused(fed, endorsement):
    # Signed by the real root key, `iss` the global node, but the kid names KE's DID.
    ke_did = fed.node("KE").did
    token = sign_jws(payload_of(endorsement.token), key=fed.root, did=ke_did, typ=ENDORSEMENT_TYP)

    with pytest.raises(UntrustedIssuer, match="kid names another DID"):
        Endorsement.verify(token, root_keys=(fed.root.public_key,))


def test_a_kid_naming_another_did_than_the_global_nodes_is_refused(fed):
    # Self-consistent (kid DID = iss), but not the DID of the node the caller knows holds the
    # root key (the trust list's issuer).
    forged = Endorsement.sign(
        framework=fed.node("KE").framework,
        node_id="KE",
        root_key=fed.root,
        issuer_did=fed.node("KE").did,
        endorsed_at=KEYS_VALID_FROM,
    )

    assert Endorsement.verify(forged.token, root_keys=(fed.root.public_key,))
    with pytest.raises(UntrustedIssuer, match="kid names another DID"):
        Endorsement.verify(forged.token, root_keys=(fed.root.public_key,), root_did=GLOBAL_DID)


def test_another_token_kind_signed_by_the_root_is_refused(fed):
    token = certificate(key=fed.root)

    with pytest.raises(MalformedError, match="typ"):
        Endorsement.verify(token, root_keys=(fed.root.public_key,))


@pytest.mark.parametrize(
    "changes",
    [
        {"iat": True},
        {"iat": 1.5},
        {"iat": 10**20},  # out of range for a date: once escaped as OverflowError
        {"iat": -(10**20)},
        {"sub": 7},
        {"framework": "ke-national"},
        {"framework": {"id": "ke-national", "version": 1, "digest": "sha256:00"}},
        {"iss": None},
        {"iss": 7},
    ],
)
def test_a_root_signed_but_malformed_endorsement_is_refused(fed, endorsement, changes):
    payload = {**payload_of(endorsement.token), **changes}
    token = sign_jws(payload, key=fed.root, did=GLOBAL_DID, typ=ENDORSEMENT_TYP)

    with pytest.raises(MalformedError):
        Endorsement.verify(token, root_keys=(fed.root.public_key,))
