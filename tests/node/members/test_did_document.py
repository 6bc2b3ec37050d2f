"""The global node's DID document lists the root key it holds, so that a generic did:web resolver
finds the key behind the trust list's and the endorsements' kids."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sdgcities.credentials import JwsToken, PublicKey, TrustList

from ..conftest import ROOT_KEY, Backend


def test_the_root_key_serves_assertions_under_the_global_nodes_did(
    client: TestClient, backend: Backend
) -> None:
    did = backend.settings.did
    document = client.get("/.well-known/did.json").json()

    node_key = backend.app.state.node.signing_key
    node_id, root_id = f"{did}#{node_key.kid}", f"{did}#{ROOT_KEY.kid}"
    assert [m["id"] for m in document["verificationMethod"]] == [node_id, root_id]
    root_method = document["verificationMethod"][1]
    assert root_method["controller"] == did
    assert root_method["type"] == "JsonWebKey"
    assert PublicKey.from_jwk(root_method["publicKeyJwk"]) == ROOT_KEY.public_key
    assert document["assertionMethod"] == [node_id, root_id]
    assert document["authentication"] == [node_id]


def test_the_trust_list_kid_is_a_method_of_the_global_nodes_did_document(
    client: TestClient, backend: Backend
) -> None:
    token = client.get("/federation/trust-list").text
    document = client.get("/.well-known/did.json").json()

    parsed = JwsToken.parse(
        token, typ="trust-list+jwt", allowed_headers={"alg", "typ", "kid", "jwk"}
    )
    (method,) = (m for m in document["verificationMethod"] if m["id"] == parsed.kid)
    assert parsed.kid_did == backend.settings.did
    assert parsed.verify(PublicKey.from_jwk(method["publicKeyJwk"]))
    accepted = TrustList.from_jws(token, pinned_thumbprints=[ROOT_KEY.kid])
    assert accepted.issuer == backend.settings.did
