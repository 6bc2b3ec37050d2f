"""RFC 8785 canonical JSON and the content digests built on it.

The `rfc8785` library is the reference; it is pure Python and writes a string a character class
at a time. For the values nodes exchange (objects, arrays, strings, booleans, null and integers a
double holds exactly) JCS and the standard library's compact, key-sorted, non-ASCII encoding give
the same bytes: the same escapes (the short forms and lowercase `\\u00xx`), integers in decimal,
and, for keys within the Basic Multilingual Plane, the same member order (code points and UTF-16
code units sort alike there). Such values go through the standard library's C encoder, five
times faster; anything else (a double, a key beyond the BMP, a large integer, a type other than
the plain ones) goes through `rfc8785`. The tests check the two agree on generated values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from .errors import MalformedError

DIGEST_PREFIX = "sha256:"


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) serialisation of `value`: the bytes that digests and hashes cover."""
    if _is_plain(value):
        try:
            return _PLAIN_ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: refused below, with the library's reason
    # Imported here: the plain values nodes exchange never need it, nor does a verifier.
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError:
        # JCS numbers are doubles, so a large double is written as an integer ("1e+20" is
        # "100000000000000000000") which `json.loads` reads back as an int that `rfc8785`
        # refuses. Retry with such ints as doubles, so that canonical JSON read back
        # canonicalises to the same bytes; an int no double spells exactly stays refused.
        converted = _large_integers_as_doubles(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"value cannot be canonicalised: {exc}") from exc
    try:
        return rfc8785.dumps(converted)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"value cannot be canonicalised: {exc}") from exc


_SAFE_INTEGER = 2**53 - 1
_PLAIN_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)
_BEYOND_BMP: Final = "\U00010000"


def _is_plain(value: Any) -> bool:
    """Whether the standard library's encoder writes `value` exactly as JCS does."""
    # Loops, not `all()` over generators, and strings checked in the loop rather than by a
    # call: this walk ran on every event ingested and cost as much as the encoding.
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INTEGER <= value <= _SAFE_INTEGER)
    if kind is dict:
        for name, member in value.items():
            if type(name) is not str or not (name.isascii() or max(name) < _BEYOND_BMP):
                return False
            if type(member) is not str and not _is_plain(member):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) is not str and not _is_plain(item):
                return False
        return True
    return False


def _large_integers_as_doubles(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _large_integers_as_doubles(member) for name, member in value.items()}
    if isinstance(value, list | tuple):
        return [_large_integers_as_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
        import rfc8785

        try:
            double = float(value)
        except OverflowError as exc:
            raise MalformedError("integer is beyond the range of a JSON number") from exc
        if rfc8785.dumps(double) != str(value).encode("ascii"):
            raise MalformedError(f"integer {value} has no exact JSON number (I-JSON) spelling")
        return double
    return value


def content_digest(value: Any) -> str:
    """`sha256:<hex>` over the canonical JSON of `value`."""
    return DIGEST_PREFIX + hashlib.sha256(canonical_json(value)).hexdigest()
