"""RFC 8785 canonical JSON: the bytes that digests, hash chains and signatures cover."""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from sdgcities.credentials import MalformedError, canonical_json, content_digest

# I-JSON values: integers within ±(2**53 - 1), finite doubles, text without lone surrogates.
SAFE_INTEGER = 2**53 - 1
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]))
)
keys = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_deterministic(value):
    assert canonical_json(value) == canonical_json(value)


@given(json_values)
def test_canonical_json_is_idempotent_through_json_loads(value):
    canonical = canonical_json(value)

    assert canonical_json(json.loads(canonical)) == canonical


@given(json_values)
def test_canonical_json_is_valid_compact_json(value):
    text = canonical_json(value).decode("utf-8")

    # The same JSON value, numbers compared as the doubles JCS takes them to be.
    assert json.loads(text, parse_int=float) == json.loads(json.dumps(value), parse_int=float)
    assert "\n" not in text


def reordered(value, random):
    """`value` with the members of every object, at every depth, in a shuffled order."""
    if isinstance(value, dict):
        items = [(name, reordered(member, random)) for name, member in value.items()]
        random.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [reordered(item, random) for item in value]
    return value


@settings(max_examples=60)
@given(json_values, st.randoms(use_true_random=False))
def test_member_order_does_not_matter_at_any_depth(value, random):
    assert canonical_json(reordered(value, random)) == canonical_json(value)


@given(json_values)
def test_content_digest_is_sha256_of_the_canonical_bytes(value):
    digest = content_digest(value)

    assert digest == "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()
    assert len(digest) == len("sha256:") + 64


def test_rfc8785_sorts_members_by_utf16_code_units():
    # RFC 8785 §3.2.3: U+1F600 (UTF-16 D83D DE00) sorts before U+FB33, unlike code-point order.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }

    order = [name for name, _ in json.loads(canonical_json(value), object_pairs_hook=list)]

    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": [1, 2], "a": {"d": True, "c": None}}, b'{"a":{"c":null,"d":true},"b":[1,2]}'),
        (1e21, b"1e+21"),
        (1e-7, b"1e-7"),
        (5.0, b"5"),
        (-0.0, b"0"),
        (0.1, b"0.1"),
        ("\u00e9\u2028\n\u001f", '"\u00e9\u2028\\n\\u001f"'.encode()),
    ],
)
def test_rfc8785_serialisation(value, expected):
    assert canonical_json(value) == expected


def test_a_large_double_read_back_as_an_integer_canonicalises_the_same():
    canonical = canonical_json({"population": 1e20, "ratio": 6.987841346072662e16})

    assert canonical == b'{"population":100000000000000000000,"ratio":69878413460726620}'
    assert canonical_json(json.loads(canonical)) == canonical


@pytest.mark.parametrize("value", [2**53 + 1, -(2**60) - 1, 10**400])
def test_an_integer_no_double_spells_exactly_is_refused(value):
    with pytest.raises(MalformedError):
        canonical_json({"n": value})


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), {"a": float("-inf")}, {1: "non-string key"}, {"a"}, b"bytes"],
)
def test_values_outside_json_are_refused_with_the_librarys_error(value):
    with pytest.raises(MalformedError):
        canonical_json(value)


# Values of the shapes the fast path takes (no doubles), keys and text from all of Unicode.
plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300)
@given(plain_values | json_values)
def test_the_fast_path_writes_what_the_reference_library_writes(value):
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\ufb33": 2},  # a key beyond the BMP: UTF-16 order differs
        {"a": [1, {"b": 0.5}]},  # a double, deep inside
        {"a": 2**53},  # an integer beyond what a double holds exactly
        {"a": True, "b": False, "c": None, "d": '\x7f\u2028\x00"\\'},
    ],
)
def test_values_off_the_fast_path_still_give_the_reference_bytes(value):
    assert canonical_json(value) == rfc8785.dumps(_as_doubles_where_large(value))


def _as_doubles_where_large(value):
    if isinstance(value, dict):
        return {name: _as_doubles_where_large(member) for name, member in value.items()}
    if isinstance(value, list):
        return [_as_doubles_where_large(item) for item in value]
    return float(value) if type(value) is int and abs(value) > SAFE_INTEGER else value


def test_a_lone_surrogate_is_refused_on_either_path():
    with pytest.raises(MalformedError, match="non-UTF-8"):
        canonical_json({"a": "\ud800"})
    with pytest.raises(MalformedError, match="non-UTF-8"):
        canonical_json({"a": ["\udfff", 1.5]})
