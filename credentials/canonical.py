"""RFC 8785 canonical JSON and the content digests built on it."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from .errors import MalformedError

DIGEST_PREFIX = "sha256:"


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) serialisation of `value`: the bytes that digests and hashes cover."""
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


def _large_integers_as_doubles(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _large_integers_as_doubles(member) for name, member in value.items()}
    if isinstance(value, list | tuple):
        return [_large_integers_as_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INTEGER:
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
