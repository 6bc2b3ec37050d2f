"""`SDGCITIES_CERTIFICATION_ISSUERS`: the issuers whose keys the operator pins, checked at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sdgcities.credentials import Algorithm, SigningKey
from sdgcities.node.config import Settings

WCCD = "did:web:wccd.example.org"


def settings(issuers: object) -> Settings:
    return Settings(_env_file=None, certification_issuers=issuers)  # type: ignore[call-arg]


def test_pinned_keys_are_read_once_per_issuer() -> None:
    eddsa, es256 = SigningKey.generate(), SigningKey.generate(Algorithm.ES256)
    jwk = {**es256.public_key.to_jwk(), "kid": "key-2"}  # an issuer's own kid is allowed
    keys = settings(
        [{"did": WCCD, "keys": [eddsa.public_key.to_jwk()]}, {"did": WCCD, "keys": [jwk]}]
    ).certification_issuer_keys
    assert [key.kid for key in keys.pinned[WCCD]] == [eddsa.kid, es256.kid]


@pytest.mark.parametrize(
    ("issuers", "message"),
    [
        ([{"did": "wccd", "keys": [{}]}], "names its DID"),
        ([{"did": WCCD, "keys": []}], "lists its public keys"),
        ([{"did": WCCD}], "lists its public keys"),
        ([{"did": WCCD, "keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}], "not a usable"),
        ([{"did": WCCD, "keys": ["not a JWK"]}], "not a usable"),
        (
            [{"did": WCCD, "keys": [{**SigningKey.generate().public_key.to_jwk(), "d": "x"}]}],
            "not a usable",
        ),
    ],
)
def test_an_unusable_pin_stops_the_node_at_start(issuers: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(issuers)
