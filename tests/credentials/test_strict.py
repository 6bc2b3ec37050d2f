"""The C fast paths of `_strict` decide exactly as the strict standard-library paths.

`parse_json` takes orjson's value only when orjson writes it back byte for byte, and leaves every
other text to `_parse_json_stdlib`; `b64url_decode` is pybase64's strict decoder. Here both are
held against the standard library on generated and adversarial input: the same value (the same
types, member order and signs, compared by `repr`), or the same refusal with the same message.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math

import orjson
import pybase64
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pybase64 import _fallback

from sdgcities.credentials import MalformedError, _strict, canonical_json
from sdgcities.credentials._strict import MAX_JSON_DEPTH, b64url_decode, b64url_encode, parse_json
from tests.vectors.builders import certificate, federation, segments, status_list_token


def outcome(parse, data, **options):
    try:
        return "value", repr(parse(data, **options))
    except MalformedError as exc:
        return "refused", str(exc)


def assert_decided_alike(data, max_depth=MAX_JSON_DEPTH):
    expected = outcome(_strict._parse_json_stdlib, data, max_depth=max_depth)

    assert outcome(parse_json, data, max_depth=max_depth) == expected


# Texts whose every character JSON gives a meaning to, and then some: numbers, constants,
# escapes (lone surrogates among them), brackets, whitespace, a byte-order mark and non-ASCII.
JSON_PIECES = [
    *'{}[]":,-+.eE0123456789 \n\t',
    "true", "false", "null", "NaN", "Infinity", "1e400", "-0.0", "1.0", "18446744073709551616",
    '"a"', '"a":1', '"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"\\u0041"', '"\\/"', '"\\u00e9"',
    '"é"', '"😀"', '"\x01"', '"\x7f"', '"\\u001f"', "\ufeff", "\u2028",
]  # fmt: skip
json_like_texts = st.lists(st.sampled_from(JSON_PIECES), max_size=24).map("".join)

# Any JSON value the standard library can write: integers beyond 64 bits, every finite double,
# text with lone surrogates, control characters and characters beyond the BMP.
any_text = st.text(st.characters(exclude_categories=[]), max_size=8)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1.0, 1e16, 1e21, 1e-7, 5e-324, 1.7976931348623157e308])
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=24,
)


def written(value, how):
    """`value` as orjson, the standard library or RFC 8785 writes it, or None if it cannot."""
    try:
        if how == "orjson":
            return orjson.dumps(value)
        if how == "canonical":
            return canonical_json(value)
        ensure_ascii, separators = how
        text = json.dumps(value, ensure_ascii=ensure_ascii, separators=separators)
        return text.encode("utf-8", "surrogatepass")
    except (orjson.JSONEncodeError, MalformedError):
        return None


WRITERS = st.sampled_from(
    ["orjson", "canonical", (True, (",", ":")), (False, (",", ":")), (False, (", ", ": "))]
)


@settings(max_examples=500)
@given(json_values, WRITERS, st.integers(0, MAX_JSON_DEPTH))
@example({"a": [1, {"b": -0.0}]}, "orjson", 1)
def test_written_json_is_decided_as_the_standard_library_decides(value, how, max_depth):
    data = written(value, how)
    if data is None:
        return
    assert_decided_alike(data, max_depth)
    assert_decided_alike(data.decode("utf-8", "surrogatepass"), max_depth)


@settings(max_examples=500)
@given(json_like_texts)
@example('{"a":1,"a":1}')
@example('{"a":{"b":1,"b":2}}')
@example('{"a":1e400}')
@example("[18446744073709551615,18446744073709551616,-9223372036854775809]")
@example('["\\ud800"]')
@example('{"a":1}\n')
def test_json_like_text_is_decided_as_the_standard_library_decides(text):
    assert_decided_alike(text)
    assert_decided_alike(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=500)
@given(st.binary(max_size=40))
@example(b'{"a":"\xff"}')
@example(b'"\xed\xa0\x80"')
@example(b'\xef\xbb\xbf{"a":1}')
def test_any_bytes_are_decided_as_the_standard_library_decides(data):
    assert_decided_alike(data)


@given(st.dictionaries(any_text, json_values, min_size=1, max_size=4), json_values, st.data())
def test_a_duplicate_member_is_refused_wherever_orjson_wrote_the_rest(value, member, data):
    written_value = written(value, "orjson")
    name = data.draw(st.sampled_from(sorted(value)))
    duplicate = written({name: member}, "orjson")
    if written_value is None or duplicate is None:
        return
    # First or last (orjson keeps the last), at the top or nested in an array or an object.
    for text in (
        duplicate[:-1] + b"," + written_value[1:],
        written_value[:-1] + b"," + duplicate[1:],
    ):
        for nested in (text, b"[" + text + b"]", b'{"a":' + text + b"}"):
            assert_decided_alike(nested)
            with pytest.raises(MalformedError, match="duplicate JSON member"):
                parse_json(nested)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 254, 255, 1024, 1025])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_nesting_is_bounded_on_both_paths(depth, opener):
    closer = "]" if opener == "[" else "}"
    text = (opener * depth + closer * depth).encode()

    assert_decided_alike(text)
    if depth > MAX_JSON_DEPTH:
        with pytest.raises(MalformedError, match="nested deeper"):
            parse_json(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"-0.0", -0.0),
        (b"1.0", 1.0),
        (b"1", 1),
        (b"1e+16", 1e16),
        (b"5e-324", 5e-324),
        (b"18446744073709551615", 2**64 - 1),
        (b"-9223372036854775808", -(2**63)),
    ],
)
def test_numbers_keep_their_type_and_sign(text, value):
    parsed = parse_json(text)

    assert type(parsed) is type(value)
    assert parsed == value
    assert math.copysign(1, parsed) == math.copysign(1, value)


def refuse_the_slow_path(data, **_options):
    raise AssertionError(f"{data[:40]!r} left the fast path")


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
        | st.text(st.characters(exclude_categories=["Cs"])),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), inner, max_size=4)
        ),
        max_leaves=24,
    )
)
def test_what_our_signers_write_takes_the_fast_path(value):
    # RFC 8785 output of the values our signers sign (no doubles) is orjson's own output.
    data = canonical_json(value)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_strict, "_parse_json_stdlib", refuse_the_slow_path)
        assert repr(parse_json(data, max_depth=1000)) == repr(json.loads(data))


def test_signed_certificates_status_lists_and_trust_lists_take_the_fast_path(monkeypatch):
    fed = federation()
    tokens = (certificate(), status_list_token("KE"), fed.trust_list().sign(fed.root))
    monkeypatch.setattr(_strict, "_parse_json_stdlib", refuse_the_slow_path)

    for token in tokens:
        for segment in segments(token)[:2]:
            data = b64url_decode(segment)
            assert parse_json(data) == json.loads(data)


# base64url.

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
NOT_BASE64URL = "+/=. \n\0é"


def accepted_by_the_rules(segment):
    """The bytes of `segment` as RFC 4648 §5 base64url without padding, in its one canonical
    spelling, decoded by the standard library; None if it is not that."""
    if not segment.isascii() or any(character not in ALPHABET for character in segment):
        return None
    if len(segment) % 4 == 1:
        return None
    decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(decoded).decode().rstrip("=") != segment:
        return None
    return decoded


def decoded_or_refusal(segment):
    try:
        return b64url_decode(segment)
    except MalformedError as exc:
        return str(exc)


@contextlib.contextmanager
def decoder(name):
    """pybase64 as installed ("C"), or with its pure-Python fallback, which decodes + and / as
    the standard alphabet (with a warning) where the C decoder refuses them."""
    with pytest.MonkeyPatch.context() as patch:
        if name == "fallback":
            patch.setattr(pybase64, "b64decode", _fallback.b64decode)
        yield


@pytest.mark.parametrize("name", ["C", "fallback"])
def test_every_short_ending_is_decided_by_the_rules(name):
    # Every pair of characters (or fewer) alone and after one to five others: each length modulo
    # 4, every last character, every character outside the alphabet in the last two places.
    characters = ALPHABET + NOT_BASE64URL
    with decoder(name):
        for length in range(3):
            for chosen in itertools.product(characters, repeat=length):
                for prefix in ("", "Q", "QUJD", "QUJDQ"):
                    segment = prefix + "".join(chosen)
                    expected = accepted_by_the_rules(segment)
                    result = decoded_or_refusal(segment)
                    if expected is None:
                        assert isinstance(result, str), segment
                    else:
                        assert result == expected, segment


@pytest.mark.parametrize("name", ["C", "fallback"])
@settings(max_examples=500)
@given(
    segment=st.text(st.sampled_from(ALPHABET + NOT_BASE64URL), max_size=60) | st.text(max_size=20)
)
def test_any_segment_is_decided_by_the_rules(name, segment):
    expected = accepted_by_the_rules(segment)
    with decoder(name):
        result = decoded_or_refusal(segment)

    assert result == expected if expected is not None else isinstance(result, str)


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        ("QQ==", "not unpadded base64url"),
        ("QQ=", "not unpadded base64url"),
        ("+/8", "not unpadded base64url"),
        ("a+bc", "not unpadded base64url"),
        ("QQé", "not unpadded base64url"),
        ("Q", "impossible base64url length"),
        ("QUJDQ", "impossible base64url length"),
        ("QR", "not canonical base64url"),
        ("QUJ", "not canonical base64url"),
        ("Q Q", "not valid base64url"),
        ("QQ\nA", "not valid base64url"),
        ("QU.D", "not valid base64url"),
    ],
)
@pytest.mark.parametrize("name", ["C", "fallback"])
def test_b64url_refusals_say_why(name, segment, message):
    with decoder(name), pytest.raises(MalformedError, match=message):
        b64url_decode(segment)


@given(st.binary(max_size=300))
def test_b64url_encode_is_unpadded_base64url(data):
    assert b64url_encode(data) == base64.urlsafe_b64encode(data).decode().rstrip("=")
