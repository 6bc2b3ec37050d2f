"""Signing keys, public JWKs, RFC 7638 thumbprints and key status.

A node signs with one private key at a time (Ed25519 by default, P-256 allowed). A key's `kid` here
is its RFC 7638 thumbprint, so a key names itself and a trust list can pin it; the JOSE headers a
node signs (and its JWKS) name it by the DID URL `<node DID>#<thumbprint>` (`did.key_id`).
Private keys are kept on disk only as passphrase-encrypted PKCS#8.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ._strict import b64url_decode, b64url_encode
from .errors import KeyStoreError, MalformedError

PublicKeyObject = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKeyObject = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class Algorithm(StrEnum):
    EDDSA = "EdDSA"
    ES256 = "ES256"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    COMPROMISED = "compromised"


_P256_COORDINATE_BYTES = 32


def _thumbprint(members: dict[str, str]) -> str:
    # RFC 7638: the required members only, sorted, no whitespace, SHA-256, base64url.
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public key with its algorithm; `kid` is its RFC 7638 thumbprint."""

    algorithm: Algorithm
    key: PublicKeyObject = field(repr=False, compare=False)
    kid: str

    @classmethod
    def from_key_object(cls, key: PublicKeyObject) -> Self:
        if isinstance(key, ed25519.Ed25519PublicKey):
            return cls(Algorithm.EDDSA, key, _thumbprint(_okp_members(key)))
        if isinstance(key.curve, ec.SECP256R1):
            return cls(Algorithm.ES256, key, _thumbprint(_ec_members(key)))
        raise MalformedError(f"unsupported curve {key.curve.name}")

    @classmethod
    def from_jwk(cls, jwk: Any) -> Self:
        """Parse a public JWK (OKP/Ed25519 or EC/P-256); private members are refused."""
        if not isinstance(jwk, dict):
            raise MalformedError("a JWK must be a JSON object")
        if "d" in jwk:
            raise MalformedError("a public JWK must not contain the private member 'd'")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        try:
            if kty == "OKP" and crv == "Ed25519":
                raw = b64url_decode(_member(jwk, "x"))
                key: PublicKeyObject = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            elif kty == "EC" and crv == "P-256":
                x, y = (b64url_decode(_member(jwk, name)) for name in ("x", "y"))
                if len(x) != _P256_COORDINATE_BYTES or len(y) != _P256_COORDINATE_BYTES:
                    raise MalformedError("P-256 coordinates must be 32 bytes")
                numbers = ec.EllipticCurvePublicNumbers(
                    int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
                )
                key = numbers.public_key()
            else:
                raise MalformedError(f"unsupported JWK type {kty!r}/{crv!r}")
        except ValueError as exc:
            raise MalformedError(f"invalid public key: {exc}") from exc
        public = cls.from_key_object(key)
        declared_alg = jwk.get("alg")
        if declared_alg is not None and declared_alg != public.algorithm:
            raise MalformedError(f"JWK alg {declared_alg!r} does not match its key type")
        declared_kid = jwk.get("kid")
        if declared_kid is not None and declared_kid != public.kid:
            raise MalformedError("JWK kid is not the key's RFC 7638 thumbprint")
        return public

    def to_jwk(self) -> dict[str, str]:
        members = (
            _okp_members(self.key)
            if isinstance(self.key, ed25519.Ed25519PublicKey)
            else _ec_members(self.key)
        )
        return {**members, "kid": self.kid, "alg": self.algorithm.value, "use": "sig"}


def _member(jwk: dict[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise MalformedError(f"JWK member {name!r} must be a string")
    return value


def _okp_members(key: ed25519.Ed25519PublicKey) -> dict[str, str]:
    return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(key.public_bytes_raw())}


def _ec_members(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url_encode(numbers.x.to_bytes(_P256_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_P256_COORDINATE_BYTES, "big")),
    }


class SigningKey:
    """A private signing key. Never logged: its repr shows only the public `kid`."""

    __slots__ = ("_private", "public_key")

    def __init__(self, private: PrivateKeyObject) -> None:
        if isinstance(private, ec.EllipticCurvePrivateKey) and not isinstance(
            private.curve, ec.SECP256R1
        ):
            raise MalformedError("only the P-256 curve is supported for ECDSA keys")
        self._private = private
        self.public_key = PublicKey.from_key_object(private.public_key())

    @classmethod
    def generate(cls, algorithm: Algorithm = Algorithm.EDDSA) -> Self:
        if algorithm is Algorithm.EDDSA:
            return cls(ed25519.Ed25519PrivateKey.generate())
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def kid(self) -> str:
        return self.public_key.kid

    @property
    def algorithm(self) -> Algorithm:
        return self.public_key.algorithm

    @property
    def key_object(self) -> PrivateKeyObject:
        """The `cryptography` key, for PyJWT; callers must not serialise it."""
        return self._private

    def to_encrypted_pem(self, passphrase: str) -> bytes:
        if not passphrase:
            raise KeyStoreError("a non-empty passphrase is required to store a private key")
        # Imported where a key is stored or loaded: it brings SSH, RSA and cipher modules that
        # a verifier (every `sdgcities verify` start-up) never uses.
        from cryptography.hazmat.primitives import serialization

        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )

    @classmethod
    def from_encrypted_pem(cls, data: bytes, passphrase: str) -> Self:
        from cryptography.hazmat.primitives import serialization

        try:
            private = serialization.load_pem_private_key(data, password=passphrase.encode())
        except (ValueError, TypeError) as exc:
            raise KeyStoreError("cannot decrypt the key: wrong passphrase or damaged file") from exc
        if not isinstance(private, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyStoreError("the key file holds an unsupported key type")
        return cls(private)

    def save(self, path: Path, passphrase: str) -> None:
        """Write the encrypted key, readable by its owner only."""
        # Encrypt first: a refused passphrase must leave no temporary file behind.
        data = self.to_encrypted_pem(passphrase)
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A leftover of an interrupted save would otherwise block every later save.
            tmp.unlink(missing_ok=True)
            tmp.touch(mode=0o600, exist_ok=False)
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:
            raise KeyStoreError(f"cannot write the key file {path}: {exc.strerror}") from exc

    @classmethod
    def load(cls, path: Path, passphrase: str) -> Self:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyStoreError(f"cannot read the key file {path}: {exc.strerror}") from exc
        return cls.from_encrypted_pem(data, passphrase)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, algorithm={self.algorithm.value})"


@dataclass(frozen=True, slots=True)
class KeyPeriod:
    """A published key with its status and validity, as the trust list carries it.

    `status_since` is when the key became retired or compromised. A retired key still verifies
    what it signed before `status_since` (and inside its validity). Whoever holds a compromised
    key can back-date a signature, so it verifies only the certificates whose ids are in
    `received_before_cutoff`: those the global node received, in a signed report, before
    `status_since` (DESIGN §3, "Cut-offs"); never a status list.
    """

    public_key: PublicKey
    status: KeyStatus
    valid_from: datetime
    valid_until: datetime | None = None
    status_since: datetime | None = None
    received_before_cutoff: frozenset[str] = frozenset()
