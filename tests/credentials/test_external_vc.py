"""Another body's credential about a city: verified only offline, signature before claims."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from sdgcities.credentials import (
    Algorithm,
    Expired,
    ExternalCredential,
    IssuerKeys,
    MalformedError,
    NotYetValid,
    PublicKey,
    SignatureInvalid,
    SigningKey,
    UntrustedIssuer,
    did_key_of,
)

from .external_issuer import NOW, credential, did_jwk_of, did_key_token, sign_external

NAIROBI = "urn:sdgcities:city:KE-NBO"
NO_PINS = IssuerKeys(pinned={})


def verify(token: str, keys: IssuerKeys = NO_PINS, subject: str = NAIROBI) -> object:
    return ExternalCredential.parse(token).verify(keys=keys, subject_id=subject, now=NOW)


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_a_did_key_issuer_is_verified_offline(algorithm: Algorithm) -> None:
    key = SigningKey.generate(algorithm)
    result = verify(did_key_token(key))
    assert result.issuer == did_key_of(key.public_key)  # type: ignore[attr-defined]
    assert result.issuer_name == "World Council on City Data"  # type: ignore[attr-defined]
    assert result.valid_until == NOW + timedelta(days=335)  # type: ignore[attr-defined]


def test_did_key_of_a_known_ed25519_key() -> None:
    # The did:key specification's example key (its publicKeyJwk and its DID).
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "Lm_M42cB3HkUiODQsXRcweM6TByfzEHGO9ND274JcOY"}
    assert (
        did_key_of(PublicKey.from_jwk(jwk))
        == "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    )


def test_a_did_jwk_issuer_is_verified_offline() -> None:
    key = SigningKey.generate(Algorithm.ES256)
    did = did_jwk_of(key)
    token = sign_external(credential(issuer=did), key, kid=f"{did}#0")
    assert verify(token).issuer == did  # type: ignore[attr-defined]


def test_a_did_web_issuer_is_verified_only_with_a_pinned_key() -> None:
    key = SigningKey.generate()
    did = "did:web:wccd.example.org"
    token = sign_external(credential(issuer=did), key, kid=f"{did}#key-1")
    with pytest.raises(UntrustedIssuer, match="without the network"):
        verify(token)
    pins = IssuerKeys.from_settings([{"did": did, "keys": [key.public_key.to_jwk()]}])
    assert verify(token, pins).issuer == did  # type: ignore[attr-defined]
    other = IssuerKeys.from_settings(
        [{"did": did, "keys": [SigningKey.generate().public_key.to_jwk()]}]
    )
    with pytest.raises(SignatureInvalid):
        verify(token, other)
    p256_only = IssuerKeys.from_settings(
        [{"did": did, "keys": [SigningKey.generate(Algorithm.ES256).public_key.to_jwk()]}]
    )
    with pytest.raises(UntrustedIssuer, match="no pinned key"):
        verify(token, p256_only)


def test_a_forged_signature_is_refused_before_any_claim_is_read() -> None:
    key, forger = SigningKey.generate(), SigningKey.generate()
    did = did_key_of(key.public_key)
    # The payload is not even JSON: had it been read first, the error would be malformed.
    header = {"typ": "vc+jwt", "alg": "EdDSA", "kid": f"{did}#{did[8:]}"}
    token = sign_external(credential(issuer=did), forger, kid=header["kid"])
    with pytest.raises(SignatureInvalid):
        verify(token)
    garbage = base64.urlsafe_b64encode(b"not json").rstrip(b"=").decode()
    head, _, signature = token.split(".")
    with pytest.raises(SignatureInvalid):
        verify(f"{head}.{garbage}.{signature}")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"alg": "HS256"}, "not accepted"),
        ({"alg": "none"}, "not accepted"),
        ({"typ": "JWT"}, "typ must be"),
        ({"jku": "https://evil.example/keys"}, "not allowed"),
        ({"kid": "no-did-here"}, "DID URL"),
        ({"kid": "did:key:z6Mk"}, "DID URL"),
    ],
)
def test_headers_outside_the_allow_list_are_malformed(
    headers: dict[str, str], message: str
) -> None:
    key = SigningKey.generate()
    token = did_key_token(key)
    head, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(head + "=="))
    decoded.update(headers)
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    with pytest.raises(MalformedError, match=message):
        ExternalCredential.parse(f"{forged}.{payload}.{signature}")


def test_a_token_over_64_kib_is_refused_unread() -> None:
    with pytest.raises(MalformedError, match="larger than"):
        ExternalCredential.parse("a" * (64 * 1024 + 1))


def test_a_did_key_kid_must_name_its_own_key() -> None:
    key = SigningKey.generate()
    did = did_key_of(key.public_key)
    token = sign_external(credential(issuer=did), key, kid=f"{did}#other")
    with pytest.raises(MalformedError, match="same multibase"):
        verify(token)


def test_a_credential_about_another_city_is_refused() -> None:
    key = SigningKey.generate()
    with pytest.raises(MalformedError, match="not about this city"):
        verify(did_key_token(key, subject="urn:sdgcities:city:KE-MBA"))


def test_an_issuer_other_than_the_signer_is_refused() -> None:
    key = SigningKey.generate()
    token = sign_external(credential(issuer="did:web:someone-else.example"), key)
    with pytest.raises(MalformedError, match="issuer is not the DID"):
        verify(token)


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"valid_from": NOW + timedelta(days=2)}, NotYetValid),
        ({"valid_until": NOW - timedelta(days=1)}, Expired),
    ],
)
def test_validity_must_cover_now(claims: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        verify(did_key_token(SigningKey.generate(), **claims))  # type: ignore[arg-type]


def test_an_exp_claim_before_valid_until_wins() -> None:
    key = SigningKey.generate()
    expired = int((NOW - timedelta(hours=1)).timestamp())
    token = sign_external(credential(issuer=did_key_of(key.public_key), exp=expired), key)
    with pytest.raises(Expired):
        verify(token)


def test_a_credential_without_the_v2_context_is_malformed() -> None:
    key = SigningKey.generate()
    payload = credential(issuer=did_key_of(key.public_key))
    payload["@context"] = ["https://www.w3.org/2018/credentials/v1"]
    with pytest.raises(MalformedError, match="@context"):
        verify(sign_external(payload, key))
