"""Another body's `vc+jwt` about a city, signed as VC-JOSE-COSE says (for the tests of §30e)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from jwt.api_jws import PyJWS

from sdgcities.credentials import Algorithm, SigningKey, did_key_of
from sdgcities.credentials.jws import low_s

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def did_jwk_of(key: SigningKey) -> str:
    jwk = {k: v for k, v in key.public_key.to_jwk().items() if k in ("kty", "crv", "x", "y")}
    return "did:jwk:" + _b64(json.dumps(jwk, separators=(",", ":")).encode())


def credential(
    *,
    issuer: str,
    subject: str = "urn:sdgcities:city:KE-NBO",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start = valid_from or NOW - timedelta(days=30)
    end = valid_until or NOW + timedelta(days=335)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "CityCertification"],
        "issuer": {"id": issuer, "name": "World Council on City Data"},
        "validFrom": start.isoformat().replace("+00:00", "Z"),
        "validUntil": end.isoformat().replace("+00:00", "Z"),
        "credentialSubject": {"id": subject, "standard": "ISO 37120", "level": "Platinum"},
        **extra,
    }


def sign_external(
    payload: dict[str, Any],
    key: SigningKey,
    *,
    kid: str | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """Sign `payload` as `vc+jwt`; the kid defaults to the key's did:key DID URL."""
    if kid is None:
        did = did_key_of(key.public_key)
        kid = f"{did}#{did.removeprefix('did:key:')}"
    token = PyJWS().encode(
        json.dumps(payload).encode(),
        key.key_object,
        algorithm=key.algorithm.value,
        headers={"typ": "vc+jwt", "kid": kid, **(headers or {})},
    )
    if key.algorithm is Algorithm.ES256:
        signing_input, _, signature = token.rpartition(".")
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        token = f"{signing_input}.{_b64(low_s(raw))}"
    return token


def did_key_token(key: SigningKey, **claims: Any) -> str:
    """A valid credential about Nairobi from the did:key issuer of `key`."""
    return sign_external(credential(issuer=did_key_of(key.public_key), **claims), key)
