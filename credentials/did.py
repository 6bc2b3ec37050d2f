"""`did:web` identifiers and DID documents with `JsonWebKey` verification methods.

Verifiers in this federation find keys through the trust list, never by resolving a DID over the
network (DESIGN §3); the DID document is published so that generic W3C tooling can too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import MalformedError
from .keys import PublicKey

DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1")


def is_loopback_host(host: str | None) -> bool:
    # An IP literal in 127.0.0.0/8 or ::1, or `localhost`; a name such as `127.evil.example`
    # starts like a loopback address but is not one.
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(base_url: str) -> str:
    """A node's base URL: https (http only on loopback), no query, no trailing slash."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise MalformedError(f"base URL {base_url!r} must be an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise MalformedError("plain http is accepted only for loopback development nodes")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise MalformedError("a base URL carries no query, fragment or credentials")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def did_web_from_base_url(base_url: str) -> str:
    """`https://registry.example.org:8443/ke` -> `did:web:registry.example.org%3A8443:ke`."""
    parts = urlsplit(normalise_base_url(base_url))
    host = parts.netloc  # a port becomes %3A, as did:web requires
    segments = [quote(host, safe="")]
    segments += [quote(s, safe="") for s in parts.path.split("/") if s]
    return "did:web:" + ":".join(segments)


def did_document(did: str, keys: Iterable[PublicKey]) -> dict[str, Any]:
    """The DID document: one `JsonWebKey` verification method per key, usable for assertions."""
    methods = [
        {
            "id": f"{did}#{key.kid}",
            "type": "JsonWebKey",
            "controller": did,
            "publicKeyJwk": key.to_jwk(),
        }
        for key in keys
    ]
    references = [m["id"] for m in methods]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": references,
        "authentication": references,
    }


def jwks(keys: Iterable[PublicKey]) -> dict[str, Any]:
    return {"keys": [key.to_jwk() for key in keys]}
