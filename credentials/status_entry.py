"""A certificate's one `credentialStatus`: a Bitstring Status List v1.0 `message` entry.

OB 3.0's AchievementCredential schema allows one `credentialStatus` object, so revocation and
suspension share one entry of two bits (`statusSize` 2) in one list whose purpose is `message`,
and the entry's `statusMessage` says what each value means, so any verifier can read it from the
spec alone. The high bit is the revocation bit and the low bit the suspension bit:

    0x0 active    0x1 suspended    0x2 revoked    0x3 revoked (revocation is final and wins)

`StatusEntry.from_json` reads an entry strictly: only the exact entry this module writes is
accepted (docs/architecture.md, "Certificate status").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .errors import MalformedError

__all__ = [
    "REVOKED_BIT",
    "STATUS_MESSAGES",
    "STATUS_PURPOSE",
    "STATUS_SIZE",
    "SUSPENDED_BIT",
    "StatusEntry",
    "read_status_entry",
    "status_value",
]

STATUS_PURPOSE: Final = "message"
STATUS_SIZE: Final = 2
REVOKED_BIT: Final = 0b10
SUSPENDED_BIT: Final = 0b01
STATUS_MESSAGES: Final[tuple[Mapping[str, str], ...]] = (
    {"status": "0x0", "message": "active"},
    {"status": "0x1", "message": "suspended"},
    {"status": "0x2", "message": "revoked"},
    {"status": "0x3", "message": "revoked"},
)
ENTRY_TYPE: Final = "BitstringStatusListEntry"
# What `statusMessage` must equal once parsed from JSON: built once, compared on every read.
_MESSAGES_AS_JSON: Final = [dict(message) for message in STATUS_MESSAGES]
_MEMBERS: Final = frozenset(
    {
        "id",
        "type",
        "statusPurpose",
        "statusListIndex",
        "statusListCredential",
        "statusSize",
        "statusMessage",
    }
)
# Nine digits reach far past any list within the decoded-size cap (8,388,608 two-bit entries).
_MAX_INDEX_DIGITS: Final = 9


def status_value(*, revoked: bool, suspended: bool) -> int:
    """The two-bit value of a certificate's entry."""
    return (REVOKED_BIT if revoked else 0) | (SUSPENDED_BIT if suspended else 0)


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """The entry at `index` of the `message` status list published at `list_url`."""

    list_url: str
    index: int

    @property
    def id(self) -> str:
        return f"{self.list_url}#{self.index}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": ENTRY_TYPE,
            "statusPurpose": STATUS_PURPOSE,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
            "statusSize": STATUS_SIZE,
            "statusMessage": [dict(message) for message in STATUS_MESSAGES],  # a fresh copy
        }

    @classmethod
    def from_json(cls, entry: Any) -> StatusEntry:
        """Read a `credentialStatus` member; any departure from `to_json`'s shape is malformed."""
        return cls(*read_status_entry(entry))


def read_status_entry(entry: Any) -> tuple[str, int]:
    """`StatusEntry.from_json`'s checks, answering the list URL and the index without building
    the entry (the verifier reads one per certificate)."""
    if not isinstance(entry, dict):
        raise MalformedError("credentialStatus must be one BitstringStatusListEntry object")
    if entry.keys() != _MEMBERS:  # a keys view compares as a set, without building one
        missing, extra = sorted(_MEMBERS - set(entry)), sorted(set(entry) - _MEMBERS)
        raise MalformedError(
            f"credentialStatus members differ: missing {missing}, unexpected {extra}"
        )
    if entry["type"] != ENTRY_TYPE:
        raise MalformedError(f"credentialStatus must be a {ENTRY_TYPE}")
    if entry["statusPurpose"] != STATUS_PURPOSE:
        raise MalformedError(f"credentialStatus statusPurpose must be {STATUS_PURPOSE!r}")
    size = entry["statusSize"]
    if type(size) is not int or size != STATUS_SIZE:
        raise MalformedError(f"credentialStatus statusSize must be the integer {STATUS_SIZE}")
    if entry["statusMessage"] != _MESSAGES_AS_JSON:
        raise MalformedError("credentialStatus statusMessage is not the certificate's one")
    url, index = entry["statusListCredential"], entry["statusListIndex"]
    if not isinstance(url, str) or not url:
        raise MalformedError("credentialStatus statusListCredential must be a URL")
    if not (
        isinstance(index, str)
        and index.isascii()
        and index.isdigit()
        and len(index) <= _MAX_INDEX_DIGITS
        and str(int(index)) == index
    ):
        raise MalformedError("credentialStatus statusListIndex must be a decimal index")
    # `StatusEntry.id`, spelt out: the index is its own decimal text, checked just above.
    if entry["id"] != f"{url}#{index}":
        raise MalformedError("credentialStatus id must be the list URL, '#' and the index")
    return url, int(index)
