"""`did:web` identifiers, key ids as DID URLs, and DID documents with `JsonWebKey` methods.

Every JOSE header a node signs names its key as a DID URL, `<node DID>#<RFC 7638 thumbprint>`
(DESIGN §3): the same string is a verification method `id` in the node's DID document, so a generic
did:web resolver finds the key. Verifiers in this federation find keys through the trust list,
by the thumbprint, never by resolving a DID over the network; they check that the kid's DID is
the DID of the node the trust list gives that key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from ._strict import b64url_decode
from .errors import MalformedError
from .keys import PublicKey

DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1")
# A did:web DID of a base URL is short; the cap keeps a hostile kid from costing anything.
MAX_DID_LENGTH = 256
_THUMBPRINT_LENGTH = 43  # base64url of a SHA-256 digest
# DID Core's method-specific-id for did:web: colon-separated segments of `idchar`
# (ALPHA / DIGIT / "." / "-" / "_" / pct-encoded), none empty.
_ID_SEGMENT = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+"
_DID_WEB = re.compile(rf"did:web:{_ID_SEGMENT}(?::{_ID_SEGMENT})*")


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
    segments = [_percent_encode(host)]
    segments += [_percent_encode(s) for s in parts.path.split("/") if s]
    did = "did:web:" + ":".join(segments)
    if len(did) > MAX_DID_LENGTH:
        raise MalformedError(f"base URL {base_url[:80]!r} is too long for a DID")
    return did


def _percent_encode(segment: str) -> str:
    # `quote` leaves `~` alone, which DID Core's idchar does not allow.
    return quote(segment, safe="").replace("~", "%7E")


def is_did_web(value: str) -> bool:
    """True when `value` is a did:web DID within `MAX_DID_LENGTH` (syntax only)."""
    return len(value) <= MAX_DID_LENGTH and _DID_WEB.fullmatch(value) is not None


def key_id(did: str, thumbprint: str) -> str:
    """The DID URL that names a node's key in JOSE headers and in its DID document."""
    return f"{did}#{thumbprint}"


def split_key_id(kid: str) -> tuple[str, str]:
    """`did:web:host#<thumbprint>` -> (DID, thumbprint); anything else is `MalformedError`.

    Refused before any lookup: a bare thumbprint, another DID method, a DID URL with a path or
    query, a fragment that is not a SHA-256 thumbprint.
    """
    did, hash_sign, thumbprint = kid.partition("#")
    if not hash_sign:
        raise MalformedError(
            "kid must be a DID URL, <node did:web>#<RFC 7638 thumbprint>; it has no '#'"
        )
    if not is_did_web(did):
        raise MalformedError(
            f"kid must start with the signer's did:web DID (at most {MAX_DID_LENGTH} characters)"
        )
    if not _is_thumbprint(thumbprint):
        raise MalformedError("kid's fragment must be an RFC 7638 SHA-256 thumbprint")
    return did, thumbprint


def _is_thumbprint(value: str) -> bool:
    # 43 base64url characters that decode to 32 bytes: paths, SQL and URLs never get further.
    if len(value) != _THUMBPRINT_LENGTH:
        return False
    try:
        return len(b64url_decode(value)) == 32
    except MalformedError:
        return False


def did_document(
    did: str, keys: Iterable[PublicKey], *, assertion_only: Iterable[PublicKey] = ()
) -> dict[str, Any]:
    """The DID document: one `JsonWebKey` verification method per key (VC-JOSE-COSE), its `id`
    the kid the node writes in its JOSE headers.

    `keys` (the node's signing keys) serve for assertions and authentication; `assertion_only`
    keys (the global node's root keys, which sign the trust list and endorsements) for
    assertions only.
    """
    node_methods = [_method(did, key) for key in keys]
    root_methods = [_method(did, key) for key in assertion_only]
    node_ids = [m["id"] for m in node_methods]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": node_methods + root_methods,
        "assertionMethod": node_ids + [m["id"] for m in root_methods],
        "authentication": node_ids,
    }


def _method(did: str, key: PublicKey) -> dict[str, Any]:
    return {
        "id": key_id(did, key.kid),
        "type": "JsonWebKey",
        "controller": did,
        "publicKeyJwk": key.to_jwk(),
    }


def jwks(did: str, keys: Iterable[PublicKey]) -> dict[str, Any]:
    """The node's JWKS; each `kid` is the DID URL its JOSE headers carry, so a verifier that
    matches the header's `kid` in a JWKS (the usual JOSE way) finds the key."""
    return {"keys": [{**key.to_jwk(), "kid": key_id(did, key.kid)} for key in keys]}
