"""Compact JWS: strict base64url and JSON, the strict header, and the two-step verification."""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm

from sdgcities.credentials import (
    Algorithm,
    JwsToken,
    MalformedError,
    SignatureInvalid,
    SigningKey,
    sign_jws,
)
from sdgcities.credentials._strict import MAX_JSON_DEPTH, b64url_decode, b64url_encode, parse_json
from sdgcities.credentials.jws import P256_ORDER

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
DID = "did:web:ke.sdgcities.example"


# base64url.


@given(st.binary(max_size=200))
def test_b64url_round_trip(data):
    encoded = b64url_encode(data)

    assert "=" not in encoded
    assert b64url_decode(encoded) == data
    assert encoded == base64.urlsafe_b64encode(data).decode().rstrip("=")


@given(st.text(alphabet=ALPHABET + "=+/ \n.", max_size=40))
def test_b64url_has_one_spelling_per_value(segment):
    # Whatever is accepted re-encodes to exactly itself: no padding, whitespace, other alphabet
    # or stray low bits give a second spelling of the same bytes.
    try:
        decoded = b64url_decode(segment)
    except MalformedError:
        return
    assert b64url_encode(decoded) == segment


@pytest.mark.parametrize("segment", ["QQ==", "QQ=", "Q", "QR", "Q Q", "QQ\n", "+/8", "QQé"])
def test_b64url_refusals(segment):
    with pytest.raises(MalformedError):
        b64url_decode(segment)


# JSON.


def test_json_depth_limit_is_exact():
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    with pytest.raises(MalformedError, match="nested deeper"):
        parse_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_brackets_inside_strings_are_not_nesting():
    text = json.dumps({"note": "[" * 1000 + '\\"{' * 100})

    assert parse_json(text) == json.loads(text)


def test_many_shallow_containers_are_not_nesting():
    text = json.dumps([{"events": [i, [i]]} for i in range(1000)])

    assert parse_json(text) == json.loads(text)


def test_a_string_ending_in_an_escaped_backslash_does_not_hide_nesting_after_it():
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(MalformedError, match="nested deeper"):
        parse_json('{"a":"\\\\","b":' + deep + "}")


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    # Brackets, quotes, backslashes, escapes and bytes beyond ASCII inside strings.
    | st.text(st.sampled_from('[]{}"\\/bfnrtu:,é€😀\n\x01 ')),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.sampled_from('[{"\\u é'), max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


def _nesting(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    return 0


@given(_JSON_VALUES, st.booleans(), st.integers(0, 6))
def test_the_depth_limit_holds_for_any_json_and_limit(value, ascii_only, limit):
    text = json.dumps(value, ensure_ascii=ascii_only)

    if _nesting(value) > limit:
        with pytest.raises(MalformedError, match="nested deeper"):
            parse_json(text, max_depth=limit)
        with pytest.raises(MalformedError, match="nested deeper"):
            parse_json(text.encode("utf-8"), max_depth=limit)
    else:
        assert parse_json(text, max_depth=limit) == value
        assert parse_json(text.encode("utf-8"), max_depth=limit) == value


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_refused_quickly_without_recursion_error(opener):
    closer = "]" if opener == "[" else "}"
    text = opener * 200_000 + closer * 200_000
    started = time.perf_counter()

    with pytest.raises(MalformedError, match="nested deeper"):
        parse_json(text)

    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a":1,"a":1}', "duplicate"),
        ('{"a":{"b":1,"b":2}}', "duplicate"),
        ('{"a":NaN}', "NaN"),
        ('{"a":Infinity}', "Infinity"),
        ('{"a":-Infinity}', "Infinity"),
        ('{"a":1e400}', "out of range"),
        ('{"a":-1e400}', "out of range"),
        ('{"a":' + "9" * 5000 + "}", "invalid JSON"),
        (b'{"a":"\xff"}', "UTF-8"),
        ('{"a":1', "invalid JSON"),
        ("", "invalid JSON"),
    ],
)
def test_json_refusals(text, message):
    with pytest.raises(MalformedError, match=message):
        parse_json(text)


# Signing and the two-step verification.


@pytest.fixture(params=[Algorithm.EDDSA, Algorithm.ES256])
def key(request) -> SigningKey:
    return SigningKey.generate(request.param)


def test_sign_jws_header_and_canonical_payload(key):
    token = sign_jws({"b": 1, "a": [True, None]}, key=key, did=DID, typ="example+jwt")

    parsed = JwsToken.parse(token, typ="example+jwt")

    kid = f"{DID}#{key.kid}"
    assert parsed.header == {"alg": key.algorithm.value, "typ": "example+jwt", "kid": kid}
    assert parsed.payload_bytes == b'{"a":[true,null],"b":1}'
    assert (parsed.kid, parsed.kid_did, parsed.thumbprint) == (kid, DID, key.kid)
    assert parsed.algorithm is key.algorithm
    assert parsed.verify(key.public_key) == {"a": [True, None], "b": 1}


@pytest.mark.parametrize("did", ["", "ke.sdgcities.example", "did:key:z6Mk", "did:web:a b"])
def test_sign_jws_refuses_a_signer_did_that_is_not_did_web(key, did):
    with pytest.raises(ValueError, match="did:web"):
        sign_jws({"a": 1}, key=key, did=did, typ="x")


def header_segment(kid):
    return b64url_encode(json.dumps({"alg": "EdDSA", "typ": "x", "kid": kid}).encode())


@pytest.mark.parametrize(
    ("kid", "message"),
    [
        # Before DID URLs, a kid was the bare thumbprint: such tokens no longer parse.
        pytest.param(SigningKey.generate().kid, "DID URL", id="bare-thumbprint"),
        pytest.param(
            f"https://ke.sdgcities.example/#{SigningKey.generate().kid}", "did:web", id="https-url"
        ),
        pytest.param("did:web:ke.sdgcities.example#key-1", "thumbprint", id="not-a-thumbprint"),
        pytest.param(7, "DID URL", id="integer"),
        pytest.param(["did:web:ke.sdgcities.example"], "DID URL", id="array"),
    ],
)
def test_a_kid_that_is_not_a_did_url_is_malformed(kid, message):
    token = f"{header_segment(kid)}.{b64url_encode(b'{}')}.{b64url_encode(b'x' * 64)}"

    with pytest.raises(MalformedError, match=message):
        JwsToken.parse(token, typ="x")


def test_a_checked_header_is_remembered_with_its_kid_parts(key):
    first = JwsToken.parse(sign_jws({"a": 1}, key=key, did=DID, typ="x"), typ="x")
    second = JwsToken.parse(sign_jws({"a": 2}, key=key, did=DID, typ="x"), typ="x")

    assert second.header is first.header  # the cache answered
    assert (second.kid_did, second.thumbprint) == (DID, key.kid)


def test_a_refused_kid_is_not_remembered():
    token = f"{header_segment('bare')}.{b64url_encode(b'{}')}.{b64url_encode(b'x' * 64)}"

    for _ in range(2):
        with pytest.raises(MalformedError, match="DID URL"):
            JwsToken.parse(token, typ="x")


def test_ed25519_signatures_are_deterministic():
    key = SigningKey.generate()

    assert sign_jws({"a": 1}, key=key, did=DID, typ="x") == sign_jws(
        {"a": 1}, key=key, did=DID, typ="x"
    )


def test_verify_refuses_a_key_other_than_the_named_one(key):
    token = sign_jws({"a": 1}, key=key, did=DID, typ="x")
    other = SigningKey.generate(key.algorithm)

    with pytest.raises(SignatureInvalid, match="another key"):
        JwsToken.parse(token, typ="x").verify(other.public_key)


def test_allowed_headers_can_be_widened_per_token_kind(key):
    token = sign_jws(
        {"a": 1}, key=key, did=DID, typ="x", extra_headers={"jwk": key.public_key.to_jwk()}
    )

    with pytest.raises(MalformedError, match="not allowed: jwk"):
        JwsToken.parse(token, typ="x")
    assert JwsToken.parse(token, typ="x", allowed_headers={"alg", "typ", "kid", "jwk"})


def test_the_payload_is_parsed_only_after_the_signature(key):
    header = b64url_encode(
        json.dumps({"alg": key.algorithm.value, "typ": "x", "kid": f"{DID}#{key.kid}"}).encode()
    )
    payload = b64url_encode(b'{"a":1,"a":2}')
    token = f"{header}.{payload}.{b64url_encode(b'x' * 64)}"

    parsed = JwsToken.parse(token, typ="x")  # shape only: the payload is not read yet

    with pytest.raises(SignatureInvalid):  # not MalformedError: the signature comes first
        parsed.verify(key.public_key)


def test_size_cap_is_a_parameter(key):
    token = sign_jws({"a": "x" * 2000}, key=key, did=DID, typ="x")

    with pytest.raises(MalformedError, match="larger than"):
        JwsToken.parse(token, typ="x", max_bytes=1000)
    assert JwsToken.parse(token, typ="x", max_bytes=len(token))


def test_es256_signatures_are_signed_low_s_and_high_s_is_refused():
    key = SigningKey.generate(Algorithm.ES256)
    for n in range(8):  # ECDSA nonces are random: about half of raw signatures are high-S
        token = sign_jws({"n": n}, key=key, did=DID, typ="x")
        parsed = JwsToken.parse(token, typ="x")
        s = int.from_bytes(parsed.signature[32:], "big")
        assert s <= P256_ORDER // 2
        high = parsed.signature[:32] + (P256_ORDER - s).to_bytes(32, "big")
        # The other spelling is a valid ECDSA signature for PyJWT: only our check refuses it.
        assert ECAlgorithm(ECAlgorithm.SHA256).verify(
            parsed.signing_input, key.public_key.key, high
        )
        forged = token.rpartition(".")[0] + "." + b64url_encode(high)

        with pytest.raises(SignatureInvalid, match="low-S"):
            JwsToken.parse(forged, typ="x").verify(key.public_key)
