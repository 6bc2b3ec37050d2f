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
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"value cannot be canonicalised: {exc}") from exc


def content_digest(value: Any) -> str:
    """`sha256:<hex>` over the canonical JSON of `value`."""
    return DIGEST_PREFIX + hashlib.sha256(canonical_json(value)).hexdigest()
