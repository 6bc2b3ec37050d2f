"""Interoperability: what we issue is checked by an independent JOSE implementation (joserfc)
holding only the issuer's published JWKS, and our status lists decode by the W3C algorithm."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta

import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError
from joserfc.jwk import ECKey, KeySet, OKPKey
from joserfc.jwt import JWTClaimsRegistry

from sdgcities.credentials import MIN_ENTRIES, jwks
from tests.vectors.builders import NOW, b64url, certificate, federation, json_bytes, payload_of
from tests.vectors.builders import status_list_token as signed_status_list

# RFC 9864 deprecates the polymorphic "EdDSA" identifier; DESIGN §3 still names it, and joserfc
# warns about it, which this suite's filterwarnings=error would turn into a failure.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated:Warning")


def published_key_set() -> KeySet:
    """KE's keys exactly as /.well-known/jwks.json serves them, read back from JSON text."""
    fed = federation()
    keys = [fed.node("KE").key.public_key, fed.ke_es256.public_key]
    return KeySet.import_key_set(json.loads(json.dumps(jwks(fed.node("KE").did, keys))))


@pytest.fixture(params=["EdDSA", "ES256"])
def algorithm(request) -> str:
    return request.param


def issued(algorithm: str, **changes) -> str:
    key = federation().ke_es256 if algorithm == "ES256" else None
    return certificate(key=key, **changes)


def test_the_published_keys_import_as_the_right_types():
    key_set = published_key_set()

    ke = federation().node("KE")

    assert [type(k) for k in key_set.keys] == [OKPKey, ECKey]
    assert [k.kid for k in key_set.keys] == [
        f"{ke.did}#{ke.key.kid}",
        f"{ke.did}#{federation().ke_es256.kid}",
    ]


def test_joserfc_verifies_the_signature(algorithm):
    token = issued(algorithm)

    compact = jws.deserialize_compact(token, published_key_set(), algorithms=[algorithm])

    key = federation().ke_es256 if algorithm == "ES256" else federation().node("KE").key
    assert compact.headers() == {
        "alg": algorithm,
        "typ": "vc+jwt",
        "kid": f"{federation().node('KE').did}#{key.kid}",
    }
    assert json.loads(compact.payload) == payload_of(token)


def test_joserfc_checks_the_registered_claims(algorithm):
    token = issued(algorithm)
    ke = federation().node("KE")

    decoded = jwt.decode(token, published_key_set(), algorithms=[algorithm])
    JWTClaimsRegistry(
        now=int(NOW.timestamp()),
        iss={"essential": True, "value": ke.did},
        sub={"essential": True, "value": "urn:sdgcities:city:KE-NBO"},
        jti={"essential": True, "value": payload_of(token)["id"]},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(decoded.claims)

    assert decoded.claims["issuer"]["id"] == decoded.claims["iss"]


def test_joserfc_sees_an_expired_certificate_as_expired(algorithm):
    token = issued(
        algorithm, issued_at=NOW - timedelta(days=300), valid_until=NOW - timedelta(days=1)
    )
    decoded = jwt.decode(token, published_key_set(), algorithms=[algorithm])

    with pytest.raises(ExpiredTokenError):
        JWTClaimsRegistry(now=int(NOW.timestamp())).validate(decoded.claims)


def test_joserfc_refuses_a_tampered_certificate(algorithm):
    header, _, signature = issued(algorithm).split(".")
    payload = payload_of(issued(algorithm))
    payload["credentialSubject"]["level"] = "diamond"
    tampered = f"{header}.{b64url(json_bytes(payload))}.{signature}"

    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(tampered, published_key_set(), algorithms=[algorithm])


# The status list, decoded as the W3C Bitstring Status List v1.0 spec says, from scratch.


def spec_bitstring(encoded_list: str) -> bytes:
    body = encoded_list.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def spec_status(encoded_list: str, index: int, status_size: int) -> int:
    """The value at position index * statusSize, `statusSize` bits from the left-most."""
    raw, value = spec_bitstring(encoded_list), 0
    for position in range(index * status_size, (index + 1) * status_size):
        value = value << 1 | (raw[position // 8] >> (7 - position % 8)) & 1
    return value


def test_a_status_list_decodes_per_the_w3c_algorithm():
    revoked, suspended = [0, 7, 8, 70_001, MIN_ENTRIES - 1], [1, 8, 70_003]
    token = signed_status_list("KE", revoked=revoked, suspended=suspended)

    compact = jws.deserialize_compact(token, published_key_set(), algorithms=["EdDSA"])
    status_list = json.loads(compact.payload)
    encoded = status_list["credentialSubject"]["encodedList"]

    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["credentialSubject"]["type"] == "BitstringStatusList"
    assert status_list["credentialSubject"]["statusPurpose"] == "message"
    assert encoded.startswith("u")
    assert 8 * len(spec_bitstring(encoded)) // 2 >= MIN_ENTRIES
    assert [spec_status(encoded, i, 2) for i in (0, 1, 7, 8, 70_001, 70_003)] == [2, 1, 2, 3, 2, 1]
    assert [spec_status(encoded, i, 2) for i in (2, 6, 9, 70_000, 70_002, MIN_ENTRIES - 2)] == [
        0
    ] * 6
    assert spec_status(encoded, MIN_ENTRIES - 1, 2) == 2


def test_the_certificate_points_at_a_list_that_answers_for_its_index():
    token = issued("EdDSA")
    entry = payload_of(token)["credentialStatus"]
    index = int(entry["statusListIndex"])
    status_list = payload_of(signed_status_list("KE", suspended=[index]))
    message = {m["status"]: m["message"] for m in entry["statusMessage"]}

    assert status_list["id"] == entry["statusListCredential"]
    assert entry["id"] == f"{entry['statusListCredential']}#{index}"
    value = spec_status(status_list["credentialSubject"]["encodedList"], index, entry["statusSize"])
    assert message[hex(value)] == "suspended"
