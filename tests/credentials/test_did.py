"""did:web identifiers, DID documents and the published JWKS."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from sdgcities.credentials import (
    Algorithm,
    MalformedError,
    PublicKey,
    SigningKey,
    did_document,
    did_web_from_base_url,
    is_did_web,
    jwks,
    key_id,
    normalise_base_url,
    split_key_id,
)
from sdgcities.credentials.did import MAX_DID_LENGTH


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
        # `~` is not a DID idchar: it is percent-encoded like any other.
        ("https://example.org/~ke", "did:web:example.org:%7Eke"),
    ],
)
def test_did_web_from_base_url(base_url, did):
    assert did_web_from_base_url(base_url) == did
    assert is_did_web(did)


def test_a_base_url_too_long_for_a_did_is_refused():
    with pytest.raises(MalformedError, match="too long"):
        did_web_from_base_url("https://example.org/" + "n" * MAX_DID_LENGTH)


# Key ids: `<did:web>#<RFC 7638 thumbprint>`.

# Fixed, so that the parameter ids are the same in every pytest-xdist worker.
THUMBPRINT = base64.urlsafe_b64encode(hashlib.sha256(b"a key").digest()).rstrip(b"=").decode()


def test_a_key_id_splits_into_its_did_and_thumbprint():
    did = did_web_from_base_url("https://example.org:8443/nodes/ke")

    assert split_key_id(key_id(did, THUMBPRINT)) == (did, THUMBPRINT)


@pytest.mark.parametrize(
    ("kid", "message"),
    [
        (THUMBPRINT, "no '#'"),
        ("", "no '#'"),
        (f"#{THUMBPRINT}", "did:web"),
        (f"did:key:z6Mk#{THUMBPRINT}", "did:web"),
        (f"did:web:#{THUMBPRINT}", "did:web"),
        (f"did:web:example.org:#{THUMBPRINT}", "did:web"),
        (f"did:web:example.org::ke#{THUMBPRINT}", "did:web"),
        (f"did:web:example.org/keys#{THUMBPRINT}", "did:web"),
        (f"did:web:example.org?x=1#{THUMBPRINT}", "did:web"),
        (f"did:web:example.org%3#{THUMBPRINT}", "did:web"),
        (f"did:web:exa mple.org#{THUMBPRINT}", "did:web"),
        (f"did:web:ex\u00e4mple.org#{THUMBPRINT}", "did:web"),
        (f"did:web:example.org\n#{THUMBPRINT}", "did:web"),
        (f"DID:WEB:example.org#{THUMBPRINT}", "did:web"),
        (f"did:web:{'a' * MAX_DID_LENGTH}#{THUMBPRINT}", "at most"),
        ("did:web:example.org#", "thumbprint"),
        ("did:web:example.org#key-1", "thumbprint"),
        (f"did:web:example.org#{THUMBPRINT}#{THUMBPRINT}", "thumbprint"),
        (f"did:web:example.org#{THUMBPRINT}=", "thumbprint"),
        (f"did:web:example.org#{THUMBPRINT[:-1]}", "thumbprint"),
        ("did:web:example.org#../../../../../../../../../../../../etc/pas", "thumbprint"),
    ],
)
def test_anything_but_a_did_web_key_id_is_malformed(kid, message):
    with pytest.raises(MalformedError, match=message):
        split_key_id(kid)


def test_the_longest_did_is_accepted():
    did = "did:web:" + "a" * (MAX_DID_LENGTH - len("did:web:"))

    assert split_key_id(key_id(did, THUMBPRINT)) == (did, THUMBPRINT)


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

    assert set(document) == {
        "@context",
        "id",
        "verificationMethod",
        "assertionMethod",
        "authentication",
    }

    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert document["id"] == did
    methods = document["verificationMethod"]
    assert [m["id"] for m in methods] == [f"{did}#{key.kid}" for key in keys]
    for method, key in zip(methods, keys, strict=True):
        assert split_key_id(method["id"]) == (did, key.kid)
        assert method["type"] == "JsonWebKey"
        assert method["controller"] == did
        assert "d" not in method["publicKeyJwk"]
        assert PublicKey.from_jwk(method["publicKeyJwk"]) == key
    assert document["assertionMethod"] == [m["id"] for m in methods]
    assert document["authentication"] == [m["id"] for m in methods]


def test_root_keys_in_a_did_document_serve_assertions_only():
    did = did_web_from_base_url("https://sdgcities.example")
    node_key, root_key = SigningKey.generate().public_key, SigningKey.generate().public_key

    document = did_document(did, [node_key], assertion_only=[root_key])

    node_id, root_id = key_id(did, node_key.kid), key_id(did, root_key.kid)
    assert [m["id"] for m in document["verificationMethod"]] == [node_id, root_id]
    assert document["verificationMethod"][1]["controller"] == did
    assert PublicKey.from_jwk(document["verificationMethod"][1]["publicKeyJwk"]) == root_key
    assert document["assertionMethod"] == [node_id, root_id]
    assert document["authentication"] == [node_id]


def test_jwks_holds_public_keys_only_named_by_their_did_url():
    did = did_web_from_base_url("https://ke.example.org")
    keys = [SigningKey.generate(), SigningKey.generate(Algorithm.ES256)]

    published = json.loads(json.dumps(jwks(did, (k.public_key for k in keys))))

    # The kid a JOSE header carries, so a verifier matching the header's kid in a JWKS finds it.
    assert [jwk["kid"] for jwk in published["keys"]] == [f"{did}#{k.kid}" for k in keys]
    assert [jwk["alg"] for jwk in published["keys"]] == ["EdDSA", "ES256"]
    assert all("d" not in jwk for jwk in published["keys"])
    public = [PublicKey.from_jwk({**jwk, "kid": None}) for jwk in published["keys"]]
    assert public == [k.public_key for k in keys]
