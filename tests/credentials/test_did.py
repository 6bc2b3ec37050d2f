"""did:web identifiers, DID documents and the published JWKS."""

from __future__ import annotations

import json

import pytest

from sdgcities.credentials import (
    Algorithm,
    MalformedError,
    PublicKey,
    SigningKey,
    did_document,
    did_web_from_base_url,
    jwks,
    normalise_base_url,
)


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("https://registry.example.org", "did:web:registry.example.org"),
        ("https://registry.example.org/", "did:web:registry.example.org"),
        ("https://Registry.Example.ORG", "did:web:registry.example.org"),
        # did:web: a port is percent-encoded, path segments become colon-separated.
        ("https://registry.example.org:8443", "did:web:registry.example.org%3A8443"),
        ("https://example.org/nodes/ke", "did:web:example.org:nodes:ke"),
        ("https://example.org:8443/nodes/ke/", "did:web:example.org%3A8443:nodes:ke"),
        # Plain http for loopback development only (the demo federation).
        ("http://127.0.0.1:8001", "did:web:127.0.0.1%3A8001"),
        ("http://127.1.2.3:8001", "did:web:127.1.2.3%3A8001"),
        ("http://localhost:8000", "did:web:localhost%3A8000"),
        ("http://[::1]:8000", "did:web:%5B%3A%3A1%5D%3A8000"),
    ],
)
def test_did_web_from_base_url(base_url, did):
    assert did_web_from_base_url(base_url) == did


@pytest.mark.parametrize(
    "base_url",
    [
        "http://registry.example.org",
        "http://10.0.0.1:8000",
        "http://[2001:db8::1]:8000",
        # Looks like loopback, is a public name.
        "http://127.evil.example",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
    ],
)
def test_plain_http_is_refused_off_loopback(base_url):
    with pytest.raises(MalformedError, match="plain http"):
        did_web_from_base_url(base_url)


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://registry.example.org",
        "registry.example.org",
        "https://",
        "https://registry.example.org/?node=ke",
        "https://registry.example.org/#ke",
        "https://user:secret@registry.example.org",
    ],
)
def test_other_base_urls_are_refused(base_url):
    with pytest.raises(MalformedError):
        normalise_base_url(base_url)


def test_normalise_base_url_is_idempotent():
    once = normalise_base_url("https://Example.org:8443/Nodes/KE/")

    assert once == "https://example.org:8443/Nodes/KE"
    assert normalise_base_url(once) == once


def test_did_document_lists_each_key_as_a_json_web_key():
    did = did_web_from_base_url("https://ke.example.org")
    keys = [SigningKey.generate().public_key, SigningKey.generate(Algorithm.ES256).public_key]

    document = json.loads(json.dumps(did_document(did, keys)))

    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["id"] == did
    methods = document["verificationMethod"]
    assert [m["id"] for m in methods] == [f"{did}#{key.kid}" for key in keys]
    for method, key in zip(methods, keys, strict=True):
        assert method["type"] == "JsonWebKey"
        assert method["controller"] == did
        assert "d" not in method["publicKeyJwk"]
        assert PublicKey.from_jwk(method["publicKeyJwk"]) == key
    assert document["assertionMethod"] == [m["id"] for m in methods]
    assert document["authentication"] == [m["id"] for m in methods]


def test_jwks_holds_public_keys_only():
    keys = [SigningKey.generate(), SigningKey.generate(Algorithm.ES256)]

    published = json.loads(json.dumps(jwks(k.public_key for k in keys)))

    assert [jwk["kid"] for jwk in published["keys"]] == [k.kid for k in keys]
    assert [jwk["alg"] for jwk in published["keys"]] == ["EdDSA", "ES256"]
    assert all("d" not in jwk for jwk in published["keys"])
    assert [PublicKey.from_jwk(jwk) for jwk in published["keys"]] == [k.public_key for k in keys]
