"""HTTP caching helpers shared by the routes that serve cacheable documents."""

from __future__ import annotations


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (RFC 9110 §13.1.2: weak comparison; "*" matches
    any current representation)."""
    candidates = (tag.strip() for tag in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in candidates)
