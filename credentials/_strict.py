"""Strict decoding of untrusted JOSE input: base64url segments and JSON.

These run before any signature is checked, so they are written to refuse, cheaply and in bounded
memory, anything a lenient parser would accept: padding, whitespace, duplicate members, deep
nesting, non-finite numbers.

The usual input is decoded by two C libraries, `pybase64` and `orjson`; what `orjson` cannot
vouch for is decided by the standard library's scanner with strict hooks (`parse_json`).
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable
from typing import Any, Final

import orjson
import pybase64

from .errors import MalformedError

MAX_JSON_DEPTH = 32

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Bits of the last character that carry no data, by the segment's length modulo 4.
_UNUSED_LOW_BITS = {2: 0b1111, 3: 0b11}


def split_compact(token: str, *, max_bytes: int) -> tuple[str, str, str]:
    """Exactly three non-empty segments within `max_bytes`; `b64url_decode` checks each one."""
    if not isinstance(token, str):
        raise MalformedError("a token must be text")
    if len(token) > max_bytes:
        raise MalformedError(f"token is larger than {max_bytes} bytes")
    if not token.isascii():  # else the signing input cannot even be encoded
        raise MalformedError("a compact JWS is ASCII: base64url segments and dots")
    # Three `find`s (memchr) rather than a count and a split, which walk the token a character
    # at a time: a certificate is a few KiB and this runs on every verification.
    first = token.find(".")
    second = token.find(".", first + 1)
    if first < 0 or second < 0 or token.find(".", second + 1) >= 0:
        raise MalformedError("a compact JWS has exactly three segments separated by dots")
    header, payload, signature = token[:first], token[first + 1 : second], token[second + 1 :]
    if not (header and payload and signature):
        raise MalformedError("a compact JWS has no empty segment")
    return header, payload, signature


def b64url_decode(segment: str) -> bytes:
    """Strict unpadded base64url: no padding, whitespace or other alphabets, one spelling only."""
    # pybase64's C decoder refuses, with `validate`, every byte outside the base64url alphabet
    # (the standard alphabet's + and / too), padding with `padded=False`, and with `canonical`
    # stray low bits in the last character, which would give the same bytes a second spelling.
    # Its pure-Python fallback (no compiled wheel for the platform) only warns about + and /,
    # so they and the padding are refused here first: three memchr scans, 0.1 µs.
    # `_refusal` says why a segment is refused, off the path of a valid one.
    if "+" in segment or "/" in segment or "=" in segment:
        raise _refusal(segment, len(segment) % 4)
    try:
        return pybase64.b64decode(
            segment, altchars=b"-_", validate=True, padded=False, canonical=True
        )
    except (binascii.Error, ValueError) as exc:  # ValueError: text beyond ASCII
        raise _refusal(segment, len(segment) % 4) from exc


def _refusal(segment: str, remainder: int) -> MalformedError:
    """Why `segment` is refused, the first reason in the order the checks are documented."""
    if "+" in segment or "/" in segment or "=" in segment or not segment.isascii():
        return MalformedError("segment is not unpadded base64url")
    if remainder == 1:
        return MalformedError("segment has an impossible base64url length")
    if remainder and _ALPHABET.find(segment[-1]) & _UNUSED_LOW_BITS[remainder]:
        return MalformedError("segment is not canonical base64url")
    return MalformedError("segment is not valid base64url")


def b64url_encode(data: bytes) -> str:
    return pybase64.b64encode_as_string(data, altchars=b"-_", padded=False)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise MalformedError(f"duplicate JSON member {duplicate!r}")
    return result


def _reject_constant(name: str) -> Any:
    raise MalformedError(f"JSON contains the non-standard number {name}")


def _max_depth_exceeded(data: bytes | str, limit: int) -> bool:
    """Whether the JSON text `data` (UTF-8 bytes, or text) nests deeper than `limit`."""
    # Counting brackets is an upper bound on nesting, at C speed. Past the limit (a report of a
    # hundred events is), the nesting is measured at C speed too, on a skeleton of the bytes
    # (`bytes.translate`): the quotes, the backslashes, every byte an escape can put after a
    # backslash, and the brackets. So the skeleton's strings are the text's strings (`\"` and
    # `\\` stay escapes; what follows `\u` is string content either way): outside strings JSON
    # has no other quote or backslash, and UTF-8's multi-byte characters (bytes above 0x7F) are
    # dropped. Strings are then removed (brackets inside them do not nest), then all but the
    # brackets. Walking the brackets in Python, as this did, cost more than parsing the report.
    if isinstance(data, bytes):
        if data.count(b"{") + data.count(b"[") <= limit:
            return False
        raw = data
    else:
        if data.count("{") + data.count("[") <= limit:
            return False
        raw = data.encode("utf-8", "surrogatepass")
    skeleton = raw.translate(None, _NOT_IN_SKELETON)
    brackets = _STRINGS.sub(b"", skeleton).translate(None, _NOT_A_BRACKET)
    # Each pass drops the containers that hold no container, so balanced brackets are gone
    # after as many passes as they nest deep, each at C speed. Anything else (too deep, or
    # brackets that do not pair up: invalid JSON) is walked bracket by bracket, as before.
    for _ in range(limit):
        if not brackets:
            return False
        shorter = _INNERMOST.sub(b"", brackets)
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    if not brackets:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", skeleton)):
        if bracket in b"{[":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


# A JSON string, escapes included (the unrolled form: linear, no backtracking).
_STRINGS: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS: Final = re.compile(rb"[\[\]{}]")
_SKELETON: Final = frozenset(b'"\\/bfnrtu[]{}')
_NOT_IN_SKELETON: Final = bytes(byte for byte in range(256) if byte not in _SKELETON)
_NOT_A_BRACKET: Final = bytes(byte for byte in range(256) if byte not in b"[]{}")
_INNERMOST: Final = re.compile(rb"\{\}|\[\]")


def parse_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON refusing duplicate members, NaN/Infinity, huge numbers and deep nesting."""
    # orjson reads JSON four times faster than the standard library's scanner with our hooks,
    # but keeps the last of duplicate members and reads integers beyond 64 bits as floats. So its
    # value is taken only when writing it back gives the very bytes read: those bytes are then
    # orjson's own serialisation of a value, which holds no duplicate member (a dict's keys are
    # unique), no NaN or Infinity, no number out of range (it writes finite doubles and 64-bit
    # integers only, each as the shortest text that reads back as itself, a double always with
    # a `.` or an exponent), no whitespace, no lone surrogate (the bytes are valid UTF-8) and
    # only escapes that the standard library reads alike; so the standard library reads the
    # same value from them (tests/credentials/test_strict.py checks it on generated texts).
    # Our signers write RFC 8785 JSON, which for the values they sign (no doubles) is orjson's
    # output byte for byte, so a payload takes this path. Any other text (whitespace, `\u`
    # escapes of printable characters, a duplicate, a large integer, an error) is decided by
    # the standard library's strict path below, exactly as before.
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    try:
        value = orjson.loads(raw)
        if orjson.dumps(value) == raw and not _max_depth_exceeded(raw, max_depth):
            return value
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return _parse_json_stdlib(data, max_depth=max_depth)


def _parse_json_stdlib(data: bytes | str, *, max_depth: int) -> Any:
    """`parse_json` by the standard library's C scanner with strict hooks, for any text."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise MalformedError("JSON is not UTF-8") from exc
    if _max_depth_exceeded(data, max_depth):
        raise MalformedError(f"JSON is nested deeper than {max_depth} levels")
    # The usual text, one value from its first character to its last, is scanned directly:
    # `decode` would first match whitespace at both ends with a regular expression. Anything
    # else (surrounding whitespace, extra data, an error) is decoded again by `decode`, which
    # accepts or refuses it exactly as it always has (a hook's refusal is the same either way).
    try:
        value, end = _SCAN_ONCE(text, 0)
        if end == len(text):
            return value
    except MalformedError:
        raise
    except (StopIteration, ValueError, RecursionError):
        pass
    try:
        return _DECODER.decode(text)
    except MalformedError:
        raise
    except (ValueError, RecursionError) as exc:
        raise MalformedError(f"invalid JSON: {exc}") from exc


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise MalformedError(f"JSON number {literal[:20]} is out of range")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
)
# The decoder's own scanner (C), set by its constructor; typeshed does not declare it.
_SCAN_ONCE: Final[Callable[[str, int], tuple[Any, int]]] = _DECODER.scan_once  # type: ignore[attr-defined]


def parse_json_object(data: bytes | str, *, what: str) -> dict[str, Any]:
    value = parse_json(data)
    if not isinstance(value, dict):
        raise MalformedError(f"{what} must be a JSON object")
    return value
