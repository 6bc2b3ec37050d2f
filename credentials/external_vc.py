"""Verifiable credentials that other bodies issue to a city (report §30e), checked offline.

§30e: "Sustainable Development Goals Cities certification should also be compatible with existing
city certifications, programmes and initiatives with a thematic focus, and the certification
process should allow the results achieved and reports generated in such processes to contribute".
A city may prove such a result (an ISO 37120 certification through WCCD, a national scheme) with
a W3C Verifiable Credential from its issuer, secured as VC-JOSE-COSE does (`typ: vc+jwt`, the JWT
payload is the credential). This module decides whether one is *verified*:

1. shape and header first (at most `MAX_TOKEN_BYTES`; `alg` EdDSA or ES256 only, `typ` `vc+jwt`,
   a `kid` that is a DID URL; no other header member);
2. the issuer's key from the `kid`'s DID, without the network (`IssuerKeys`): a `did:key`
   (Ed25519 or P-256) or `did:jwk` DID carries its key, and any other DID (a `did:web`, say) only
   through keys the node's operator pinned for it; an issuer we cannot resolve is
   `UntrustedIssuer`, and nothing of the payload is read;
3. the signature (`jws.check_signature`), and only then the payload;
4. the credential: VCDM 2.0 context first, type `VerifiableCredential`, its `issuer` (and `iss`
   when present) the `kid`'s DID, its subject (and `sub`) the expected city id;
5. its validity covering now (`validFrom`/`validUntil`, `nbf`/`exp` when present).

The issuer's status list (`credentialStatus`) is not fetched: that needs the network, which this
check never uses. `verify` raises the first failure; errors are the package's own tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ._strict import b64url_decode, parse_json_object, split_compact
from .errors import Expired, MalformedError, NotYetValid, SignatureInvalid, UntrustedIssuer
from .jws import MAX_TOKEN_BYTES, check_signature
from .keys import Algorithm, PublicKey
from .vc import VC_JWT_TYP, parse_datetime

__all__ = [
    "VCDM2_CONTEXT",
    "ExternalCredential",
    "IssuerKeys",
    "VerifiedExternalCredential",
    "did_key_of",
]

VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MAX_KID_LENGTH = 2048  # a did:jwk of a P-256 key is about 200 characters
DEFAULT_LEEWAY = timedelta(seconds=60)
_HEADER_NAMES = frozenset({"alg", "typ", "kid"})
_ALGORITHMS = {a.value: a for a in Algorithm}
# Multicodec prefixes (varint) of the public keys did:key carries, and their raw sizes.
_ED25519_PUB = b"\xed\x01"
_P256_PUB = b"\x80\x24"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58)}


def _base58_decode(text: str) -> bytes:
    if not text or any(c not in _BASE58_INDEX for c in text):
        raise MalformedError("a did:key identifier is base58btc ('z' then base58 characters)")
    number = 0
    for char in text:
        number = number * 58 + _BASE58_INDEX[char]
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_zeros + body


def _base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = _BASE58[remainder] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def _did_key_public_key(method_id: str) -> PublicKey:
    if not method_id.startswith("z") or len(method_id) > 64:
        raise MalformedError("a did:key identifier is a multibase base58btc key ('z...')")
    raw = _base58_decode(method_id[1:])
    try:
        if raw[:2] == _ED25519_PUB and len(raw) == 34:
            return PublicKey.from_key_object(ed25519.Ed25519PublicKey.from_public_bytes(raw[2:]))
        if raw[:2] == _P256_PUB and len(raw) == 35:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
            return PublicKey.from_key_object(point)
    except ValueError as exc:
        raise MalformedError(f"the did:key does not hold a valid public key: {exc}") from exc
    raise MalformedError("a did:key here holds an Ed25519 or P-256 public key")


def did_key_of(key: PublicKey) -> str:
    """The did:key DID of an Ed25519 or P-256 public key (P-256 compressed, as did:key has it)."""
    if isinstance(key.key, ed25519.Ed25519PublicKey):
        raw = _ED25519_PUB + key.key.public_bytes_raw()
    else:
        from cryptography.hazmat.primitives import serialization  # see `keys.SigningKey`

        raw = _P256_PUB + key.key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
    return "did:key:z" + _base58_encode(raw)


def _did_jwk_public_key(method_id: str) -> PublicKey:
    return _key_of_jwk(parse_json_object(b64url_decode(method_id), what="did:jwk key"))


def _key_of_jwk(jwk: Any) -> PublicKey:
    if not isinstance(jwk, dict):
        raise MalformedError("an issuer key is a public JWK (a JSON object)")
    # An issuer's own `kid` (say "key-1") need not be the RFC 7638 thumbprint we would insist on.
    return PublicKey.from_jwk({name: value for name, value in jwk.items() if name != "kid"})


@dataclass(frozen=True, slots=True)
class IssuerKeys:
    """Where an issuer's key comes from without the network: the DID itself (`did:key`,
    `did:jwk`), or the keys the operator pinned for a DID (`pinned`)."""

    pinned: Mapping[str, Sequence[PublicKey]]

    @classmethod
    def from_settings(cls, issuers: Iterable[Mapping[str, Any]]) -> Self:
        """From `[{"did": ..., "keys": [JWK, ...]}, ...]` (the node setting's shape)."""
        pinned: dict[str, list[PublicKey]] = {}
        for issuer in issuers:
            keys = [_key_of_jwk(jwk) for jwk in issuer["keys"]]
            pinned.setdefault(str(issuer["did"]), []).extend(keys)
        return cls(pinned={did: tuple(keys) for did, keys in pinned.items()})

    def candidates(self, did: str, fragment: str, algorithm: Algorithm) -> list[PublicKey]:
        """The keys that may have signed for `did`'s `#fragment` with `algorithm`."""
        if did in self.pinned:
            return [key for key in self.pinned[did] if key.algorithm is algorithm]
        if did.startswith("did:key:"):
            method_id = did.removeprefix("did:key:")
            if fragment != method_id:
                raise MalformedError("a did:key kid is <did>#<the same multibase key>")
            return [_did_key_public_key(method_id)]
        if did.startswith("did:jwk:"):
            if fragment != "0":
                raise MalformedError("a did:jwk kid is <did>#0")
            return [_did_jwk_public_key(did.removeprefix("did:jwk:"))]
        raise UntrustedIssuer(
            f"the issuer {did[:120]} cannot be resolved without the network: only did:key, "
            "did:jwk and DIDs whose keys the node's operator pinned are checked"
        )


@dataclass(frozen=True, slots=True)
class VerifiedExternalCredential:
    """What a verified credential states that the node shows: its issuer and validity."""

    issuer: str
    issuer_name: str | None
    types: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None


class ExternalCredential:
    """A `vc+jwt` whose shape and header passed the strict checks; nothing else is trusted."""

    __slots__ = ("algorithm", "did", "fragment", "signature", "signing_input", "token")

    def __init__(
        self,
        *,
        token: str,
        algorithm: Algorithm,
        did: str,
        fragment: str,
        signing_input: bytes,
        signature: bytes,
    ) -> None:
        self.token = token
        self.algorithm = algorithm
        self.did = did
        self.fragment = fragment
        self.signing_input = signing_input
        self.signature = signature

    @classmethod
    def parse(cls, token: str) -> Self:
        header_segment, payload_segment, signature_segment = split_compact(
            token, max_bytes=MAX_TOKEN_BYTES
        )
        header = parse_json_object(b64url_decode(header_segment), what="JOSE header")
        unexpected = header.keys() - _HEADER_NAMES
        if unexpected:
            raise MalformedError(
                f"JOSE header member(s) not allowed: {', '.join(sorted(unexpected))}"
            )
        if header.get("typ") != VC_JWT_TYP:
            raise MalformedError(f"JOSE header typ must be {VC_JWT_TYP!r} (VC-JOSE-COSE)")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in _ALGORITHMS:
            raise MalformedError(f"algorithm {str(alg)[:20]!r} is not accepted (EdDSA or ES256)")
        kid = header.get("kid")
        if not isinstance(kid, str) or len(kid) > MAX_KID_LENGTH or not kid.isascii():
            raise MalformedError("kid must be the issuer's DID URL, <did>#<key>")
        did, hash_sign, fragment = kid.partition("#")
        if not hash_sign or not fragment or not did.startswith("did:") or did.count(":") < 2:
            raise MalformedError("kid must be the issuer's DID URL, <did>#<key>")
        signature = b64url_decode(signature_segment)
        if not signature.strip(b"\0"):
            raise MalformedError("the signature is empty or all zero")
        b64url_decode(payload_segment)  # refused now if malformed; read only once checked
        return cls(
            token=token,
            algorithm=_ALGORITHMS[alg],
            did=did,
            fragment=fragment,
            signing_input=f"{header_segment}.{payload_segment}".encode("ascii"),
            signature=signature,
        )

    def verify(
        self,
        *,
        keys: IssuerKeys,
        subject_id: str,
        now: datetime,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> VerifiedExternalCredential:
        """The issuer's key, the signature, then the credential (see the module's steps)."""
        candidates = keys.candidates(self.did, self.fragment, self.algorithm)
        if not candidates:
            raise UntrustedIssuer(f"no pinned key of {self.did[:120]} is {self.algorithm.value}")
        failure = SignatureInvalid("signature verification failed")
        for key in candidates:
            try:
                check_signature(
                    key,
                    algorithm=self.algorithm,
                    signing_input=self.signing_input,
                    signature=self.signature,
                )
                break
            except SignatureInvalid as exc:  # an operator may pin several keys of one issuer
                failure = exc
        else:
            raise failure
        payload_segment = self.token.split(".")[1]
        credential = parse_json_object(b64url_decode(payload_segment), what="payload")
        return _checked_credential(
            credential, did=self.did, subject_id=subject_id, now=now, leeway=leeway
        )


def _checked_credential(
    credential: dict[str, Any], *, did: str, subject_id: str, now: datetime, leeway: timedelta
) -> VerifiedExternalCredential:
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VCDM2_CONTEXT:
        raise MalformedError(f"a credential's @context begins with {VCDM2_CONTEXT}")
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise MalformedError("a credential's type lists VerifiableCredential")
    issuer = credential.get("issuer")
    issuer_name = None
    if isinstance(issuer, dict):
        name = issuer.get("name")
        issuer_name = name[:200] if isinstance(name, str) else None
        issuer = issuer.get("id")
    if issuer != did or credential.get("iss", did) != did:
        raise MalformedError("the credential's issuer is not the DID that signed it")
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, dict) or subject.get("id") != subject_id:
        raise MalformedError(
            f"the credential is not about this city: its subject is not {subject_id}"
        )
    if credential.get("sub", subject_id) != subject_id:
        raise MalformedError(f"the credential's sub is not {subject_id}")
    valid_from = _moment(credential, "validFrom")
    valid_until = _moment(credential, "validUntil")
    starts = [m for m in (valid_from, _epoch(credential, "nbf")) if m is not None]
    ends = [m for m in (valid_until, _epoch(credential, "exp")) if m is not None]
    if starts and now + leeway < max(starts):
        raise NotYetValid(f"the credential is valid from {max(starts).isoformat()}")
    if ends and now - leeway >= min(ends):
        raise Expired(f"the credential expired at {min(ends).isoformat()}")
    return VerifiedExternalCredential(
        issuer=did,
        issuer_name=issuer_name,
        types=tuple(str(t)[:100] for t in types[:10]),
        valid_from=max(starts) if starts else None,
        valid_until=min(ends) if ends else None,
    )


def _moment(credential: dict[str, Any], name: str) -> datetime | None:
    value = credential.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedError(f"{name} must be an XML Schema dateTimeStamp")
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise MalformedError(f"{name} is not a date-time with a time zone") from exc


def _epoch(credential: dict[str, Any], name: str) -> datetime | None:
    value = credential.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**40:
        raise MalformedError(f"{name} must be a NumericDate")
    return datetime.fromtimestamp(value, UTC)
