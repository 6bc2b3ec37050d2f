"""Compact JWS: signing, and verification in two steps (read the header, then check the signature).

Verification is split because the key is found by the header's `kid`: `JwsToken.parse` checks
shape and header strictly and trusts nothing else; `JwsToken.verify` checks the signature for
that key's one algorithm (Ed25519 by the key object itself, ES256 with PyJWT's algorithm object,
which converts the raw signature to DER), and only then parses the payload.

The `kid` is a DID URL, `<signer's did:web>#<RFC 7638 thumbprint>` (DESIGN §3): `sign_jws` writes
it from the signer's DID and key, and `JwsToken.parse` refuses any other form. The thumbprint
finds the key in the trust list; whoever looks it up checks that the DID is that key's node's
(`TrustList.signer_of`).

We check signatures ourselves rather than through `PyJWS.decode`: our parser has already refused
every non-canonical segment, and PyJWS re-validates each segment with a per-character Python loop
that costs more than the signature check itself (measured: 250 µs against 180 µs for a 2 KB token).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ._strict import b64url_decode, b64url_encode, parse_json_object, split_compact
from .canonical import canonical_json
from .did import is_did_web, key_id, split_key_id
from .errors import MalformedError, SignatureInvalid
from .keys import Algorithm, PublicKey, PublicKeyObject, SigningKey

MAX_TOKEN_BYTES = 64 * 1024
HEADER_NAMES = frozenset({"alg", "typ", "kid"})
_REQUIRED_HEADERS = HEADER_NAMES
_ALGORITHMS = frozenset(a.value for a in Algorithm)
# Why a token whose kid's DID is not the DID of the key's node is refused (`UntrustedIssuer`).
KID_NAMES_ANOTHER_DID = "the kid names another DID than the key's node"
# The order of P-256's base point. An ECDSA signature (r, s) is equally valid as (r, n - s); only
# the low half (s <= n / 2) is accepted, so that every signature has one spelling.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_HALF_ORDER = P256_ORDER // 2


def sign_jws(
    payload: Mapping[str, Any],
    *,
    key: SigningKey,
    did: str,
    typ: str,
    extra_headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign `payload` (serialised as RFC 8785 canonical JSON) with `typ` and `kid` in the header.

    `did` is the DID of the node that holds `key`: the `kid` is `<did>#<thumbprint>`.
    """
    if not is_did_web(did):
        raise ValueError(f"the signer's DID must be a did:web DID, not {did[:80]!r}")
    headers = {"typ": typ, "kid": key_id(did, key.kid), **(extra_headers or {})}
    from jwt.api_jws import PyJWS  # here: verifying alone never needs PyJWT (see `_es256`)

    token = PyJWS().encode(
        canonical_json(dict(payload)),
        key.key_object,
        algorithm=key.algorithm.value,
        headers=headers,
    )
    if key.algorithm is not Algorithm.ES256:
        return token
    signing_input, _, signature = token.rpartition(".")
    return f"{signing_input}.{b64url_encode(low_s(b64url_decode(signature)))}"


def low_s(signature: bytes) -> bytes:
    """The low-S spelling of a raw ES256 signature r || s (the one `JwsToken.verify` accepts)."""
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    if s <= _P256_HALF_ORDER:
        return signature
    return r + (P256_ORDER - s).to_bytes(32, "big")


class _CheckedHeader(NamedTuple):
    """A JOSE header that passed every check, with what the token reads from it."""

    header: dict[str, Any]
    algorithm: Algorithm
    kid: str
    kid_did: str
    thumbprint: str


class JwsToken:
    """A compact JWS whose shape and header passed the strict checks; nothing else is trusted.

    `kid` is the header's DID URL; `kid_did` and `thumbprint` are its two parts.
    """

    # A plain slotted class rather than a frozen dataclass: this is built once per verification,
    # and frozen dataclasses pay for object.__setattr__ on every field.
    __slots__ = (
        "algorithm",
        "header",
        "kid",
        "kid_did",
        "payload_bytes",
        "signature",
        "signing_input",
        "thumbprint",
        "token",
    )

    def __init__(
        self,
        *,
        token: str,
        header: _CheckedHeader,
        signing_input: bytes,
        signature: bytes,
        payload_bytes: bytes,
    ) -> None:
        self.token = token
        self.header, self.algorithm, self.kid, self.kid_did, self.thumbprint = header
        self.signing_input = signing_input
        self.signature = signature
        self.payload_bytes = payload_bytes

    @classmethod
    def parse(
        cls,
        token: str,
        *,
        typ: str,
        allowed_headers: Collection[str] = HEADER_NAMES,
        max_bytes: int = MAX_TOKEN_BYTES,
    ) -> Self:
        header_segment, payload_segment, signature_segment = split_compact(
            token, max_bytes=max_bytes
        )
        # frozenset() of a frozenset is the same object: free for the usual call.
        header = _checked_header(
            header_segment, typ=typ, allowed_headers=frozenset(allowed_headers)
        )
        signature = b64url_decode(signature_segment)
        if not signature.strip(b"\0"):
            raise SignatureInvalid("the signature is empty or all zero")
        return cls(
            token=token,
            header=header,
            signing_input=f"{header_segment}.{payload_segment}".encode("ascii"),
            signature=signature,
            # Decoded now so that a malformed payload is refused before any key is looked up;
            # it is parsed as JSON only after the signature is checked.
            payload_bytes=b64url_decode(payload_segment),
        )

    def verify(self, key: PublicKey) -> dict[str, Any]:
        """Check the signature with `key` and its one algorithm, then parse the payload."""
        if key.kid != self.thumbprint:
            raise SignatureInvalid("the token names another key")
        check_signature(
            key,
            algorithm=self.algorithm,
            signing_input=self.signing_input,
            signature=self.signature,
        )
        return parse_json_object(self.payload_bytes, what="payload")


def check_signature(
    key: PublicKey, *, algorithm: Algorithm, signing_input: bytes, signature: bytes
) -> None:
    """Check `signature` over `signing_input` with `key`, which must be of `algorithm`.

    Only EdDSA and ES256 (low-S) exist here; `SignatureInvalid` on any failure."""
    if key.algorithm is not algorithm:
        raise SignatureInvalid(
            f"the token says {algorithm.value} but the key is {key.algorithm.value}"
        )
    try:
        if algorithm is Algorithm.EDDSA:
            # The key's own check, as PyJWT's OKPAlgorithm.verify makes it, without the
            # wrapper's tests for private and Ed448 keys, which a PublicKey never holds.
            valid = _ed25519_verifies(key.key, signature, signing_input)
        else:
            # PyJWT and OpenSSL accept both (r, s) and (r, n - s): one is refused here.
            if len(signature) == 64 and int.from_bytes(signature[32:], "big") > _P256_HALF_ORDER:
                raise SignatureInvalid("an ES256 signature must use the low-S form")
            valid = _es256_verifies(key.key, signature, signing_input)
    except (_SignatureCheckError, ValueError, TypeError) as exc:
        raise SignatureInvalid(f"signature could not be checked: {exc}") from exc
    if not valid:
        raise SignatureInvalid("signature verification failed")


def _ed25519_verifies(key: PublicKeyObject, signature: bytes, signing_input: bytes) -> bool:
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TypeError("an EdDSA token needs an Ed25519 key")
    try:
        key.verify(signature, signing_input)
    except InvalidSignature:
        return False
    return True


class _SignatureCheckError(Exception):
    """PyJWT's own errors, raised as this while checking an ES256 signature."""


def _es256_verifies(key: PublicKeyObject, signature: bytes, signing_input: bytes) -> bool:
    # PyJWT is imported here, not with this module: it pulls in http.client and x509 (a fifth of
    # the CLI's start-up), and only ES256 (its raw-to-DER conversion) and signing need it.
    import jwt
    from jwt.algorithms import ECAlgorithm

    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise TypeError("an ES256 token needs a P-256 key")
    try:
        return bool(ECAlgorithm(ECAlgorithm.SHA256).verify(signing_input, key, signature))
    except jwt.exceptions.PyJWTError as exc:
        raise _SignatureCheckError(str(exc)) from exc


# Every token a node signs with one key has the same header segment; remembering the checked
# header by its exact text skips a base64 and JSON round per token. Only headers that passed every
# check are kept (their dicts are never handed out for mutation: callers read them), and the
# cache is bounded.
_HEADER_CACHE: dict[tuple[str, str, frozenset[str]], _CheckedHeader] = {}
_HEADER_CACHE_SIZE = 1024


def _checked_header(segment: str, *, typ: str, allowed_headers: frozenset[str]) -> _CheckedHeader:
    cache_key = (segment, typ, allowed_headers)
    cached = _HEADER_CACHE.get(cache_key)
    if cached is not None:
        return cached
    header = parse_json_object(b64url_decode(segment), what="JOSE header")
    unexpected = header.keys() - allowed_headers
    if unexpected:
        raise MalformedError(f"JOSE header member(s) not allowed: {', '.join(sorted(unexpected))}")
    missing = _REQUIRED_HEADERS - header.keys()
    if missing:
        raise MalformedError(f"JOSE header lacks {', '.join(sorted(missing))}")
    if header["typ"] != typ:
        raise MalformedError(f"JOSE header typ must be {typ!r}")
    # An array or object `alg` is unhashable: test the type before the set lookup.
    if not isinstance(header["alg"], str) or header["alg"] not in _ALGORITHMS:
        raise MalformedError(f"algorithm {str(header['alg'])[:20]!r} is not accepted")
    kid = header["kid"]
    if not isinstance(kid, str):
        raise MalformedError("kid must be a DID URL, <node did:web>#<RFC 7638 thumbprint>")
    kid_did, thumbprint = split_key_id(kid)
    checked = _CheckedHeader(header, Algorithm(header["alg"]), kid, kid_did, thumbprint)
    if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[cache_key] = checked
    return checked
