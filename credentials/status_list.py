"""The bitstring behind a W3C Bitstring Status List v1.0, and the allocator of its indices.

A certificate's `credentialStatus` points at one two-bit entry of a published list (DESIGN §4):
the issuer sets its bits to revoke or suspend, and a verifier reads them. This module holds the
part of the spec that is pure data, with no signing and no network:

- `StatusBitstring`, the list itself, and its `encodedList` form: the GZIP-compressed bitstring,
  base64url without padding, behind the multibase prefix ``u``. Bit 0 is the most significant bit
  of byte 0, as the spec says. An entry of ``statusSize`` bits starts at bit
  ``index * statusSize`` and is read most significant bit first (`get_entry`, `set_entry`).
  `StatusBitstring.decode` reads what a stranger published, so it is strict about the encoding
  and caps how far the list may inflate (a gzip bomb costs a verifier a bounded amount of memory
  and time, not all of it).
- `IndexAllocator`, which hands out indices in an order that looks random to anyone without its
  key and never repeats one. Random indices give herd privacy: a holder's index tells nobody when
  the certificate was issued or which certificates came before it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import re
import zlib
from typing import Final

from .errors import DecompressionLimitExceeded, MalformedError, StatusListFull

__all__ = [
    "MAX_DECODED_BYTES",
    "MIN_ENTRIES",
    "IndexAllocator",
    "StatusBitstring",
]

MIN_ENTRIES: Final = 131_072
"""The spec's minimum list length (16 KiB of bits): smaller lists give too small a herd."""

MAX_DECODED_BYTES: Final = 2 * 1024 * 1024
"""The default cap on a decoded list: 8,388,608 two-bit entries, 64 times a node's list.

A node publishes lists of 131,072 two-bit entries (32 KiB); the cap leaves room for far larger
lists while a gzip bomb costs a verifier at most 2 MiB of memory per list."""

_MULTIBASE_BASE64URL: Final = "u"
_BASE64URL_NO_PAD: Final = re.compile(r"[A-Za-z0-9_-]*")
_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS


def _max_encoded_length(max_bytes: int) -> int:
    """The longest `encodedList` body whose gzip could honestly inflate to `max_bytes` or less.

    Deflate never grows its input by more than a few bytes per stored block (zlib's
    `deflateBound`), so anything longer than this is refused before it is even base64-decoded.
    """
    gzip_bound = max_bytes + max_bytes // 8 + 1024
    return (gzip_bound * 4 + 2) // 3


class StatusBitstring:
    """A mutable list of status bits, one per credential, stored as bytes in the spec's order."""

    __slots__ = ("_bits", "_size")

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        if type(size) is not int or size < MIN_ENTRIES or size % 8:
            raise ValueError(f"size must be a multiple of 8 and at least {MIN_ENTRIES}")
        self._bits = bytearray(size // 8)
        self._size = size

    @classmethod
    def from_bytes(cls, data: bytes, *, min_entries: int = MIN_ENTRIES) -> StatusBitstring:
        """The list whose raw (decompressed) bitstring is `data`."""
        if min_entries < 1:
            raise ValueError("min_entries must be positive")
        if len(data) * 8 < min_entries:
            raise MalformedError(
                f"status list too short: {len(data) * 8} entries, at least {min_entries} required"
            )
        # Bypass __init__: a list read from elsewhere may be shorter than our own minimum when
        # the caller lowers `min_entries`, and it must keep the length it was published with.
        bitstring = cls.__new__(cls)
        bitstring._bits = bytearray(data)
        bitstring._size = len(data) * 8
        return bitstring

    @classmethod
    def decode(
        cls,
        encoded: str,
        *,
        min_entries: int = MIN_ENTRIES,
        max_bytes: int = MAX_DECODED_BYTES,
    ) -> StatusBitstring:
        """Parse an `encodedList`, refusing anything but the one encoding the spec allows.

        Raises `MalformedError` for a bad prefix, alphabet, padding, gzip stream or a list
        shorter than `min_entries`, and `DecompressionLimitExceeded` when the list would inflate
        beyond `max_bytes`; memory use stays near `max_bytes` whatever the input.
        """
        if min_entries < 1 or max_bytes < 1 or min_entries > max_bytes * 8:
            raise ValueError("need 1 <= min_entries <= 8 * max_bytes")
        if not isinstance(encoded, str):
            raise MalformedError("encodedList must be a string")
        if not encoded.startswith(_MULTIBASE_BASE64URL):
            raise MalformedError("encodedList must start with the multibase prefix 'u'")
        body = encoded[len(_MULTIBASE_BASE64URL) :]
        if len(body) > _max_encoded_length(max_bytes):
            raise MalformedError("encodedList is longer than any list within the size cap")
        if not _BASE64URL_NO_PAD.fullmatch(body):
            raise MalformedError("encodedList must be base64url without padding or whitespace")
        try:
            compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except binascii.Error as exc:
            raise MalformedError(f"encodedList is not valid base64url: {exc}") from exc
        # Unused low bits in the last character would give one list several encodings.
        if base64.urlsafe_b64encode(compressed).rstrip(b"=") != body.encode("ascii"):
            raise MalformedError("encodedList is not canonical base64url")

        inflater = zlib.decompressobj(wbits=_GZIP_WBITS)
        try:
            # One byte past the cap is enough to know the cap is exceeded, and never more than
            # that is held in memory however much the stream would inflate.
            bits = inflater.decompress(compressed, max_bytes + 1)
        except zlib.error as exc:
            raise MalformedError(f"encodedList is not a valid gzip stream: {exc}") from exc
        if len(bits) > max_bytes:
            raise DecompressionLimitExceeded(f"status list inflates beyond {max_bytes} bytes")
        if not inflater.eof:
            raise MalformedError("encodedList gzip stream is truncated")
        if inflater.unused_data:
            raise MalformedError("encodedList has data after the end of its gzip stream")
        return cls.from_bytes(bits, min_entries=min_entries)

    @property
    def size(self) -> int:
        """The number of entries (bits) in the list."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self._size})"

    def get(self, index: int) -> bool:
        """Whether the bit at `index` is set.

        `index` comes from a credential, which is untrusted input: an index outside the list
        is a malformed credential (`MalformedError`), not a bug in the caller.
        """
        # The type check also refuses bool and keeps a non-int from raising TypeError.
        if type(index) is not int or not 0 <= index < self._size:
            # The index itself stays out of the message: str() of a huge int raises ValueError.
            raise MalformedError(f"status list index is outside a list of {self._size} entries")
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        """Set the bit at `index` to `value`.

        Raises `IndexError` out of range: the issuer's own index is wrong, which is a bug on the
        caller's side and not a malformed credential.
        """
        self._check_own_index(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def clear(self, index: int) -> None:
        """Unset the bit at `index` (a lifted suspension, for instance)."""
        self.set(index, False)

    def entries(self, status_size: int) -> int:
        """How many entries of `status_size` bits the list holds; `MalformedError` if the list
        is not a whole number of them."""
        _check_status_size(status_size)
        if self._size % status_size:
            raise MalformedError(
                f"a list of {self._size} bits is not a whole number of {status_size}-bit entries"
            )
        return self._size // status_size

    def get_entry(self, index: int, *, status_size: int) -> int:
        """The value of entry `index`: `status_size` bits from bit ``index * status_size``,
        most significant first (the spec's Bitstring Generation Algorithm).

        `index` comes from a credential: outside the list it is a `MalformedError`.
        """
        count = self.entries(status_size)
        if type(index) is not int or not 0 <= index < count:
            raise MalformedError(f"status list index is outside a list of {count} entries")
        first = index * status_size
        if 8 % status_size == 0:  # 1, 2, 4 or 8 bits: an entry never spans two bytes
            shift = 8 - status_size - (first & 7)
            return (self._bits[first >> 3] >> shift) & ((1 << status_size) - 1)
        value = 0
        for bit in range(first, first + status_size):
            value = (value << 1) | ((self._bits[bit >> 3] >> (7 - (bit & 7))) & 1)
        return value

    def set_entry(self, index: int, value: int, *, status_size: int) -> None:
        """Set entry `index` to `value`; `IndexError` or `ValueError` is the issuer's mistake."""
        count = self.entries(status_size)
        if type(index) is not int or not 0 <= index < count:
            raise IndexError(f"status list index is outside a list of {count} entries")
        if type(value) is not int or not 0 <= value < 1 << status_size:
            raise ValueError(f"a {status_size}-bit entry holds 0 to {(1 << status_size) - 1}")
        first = index * status_size
        for offset in range(status_size):
            self.set(first + offset, bool(value >> (status_size - 1 - offset) & 1))

    def to_bytes(self) -> bytes:
        """The raw bitstring, before compression."""
        return bytes(self._bits)

    def encode(self) -> str:
        """The spec's `encodedList`: ``u`` + base64url (no padding) of the gzip of the bits."""
        # mtime=0 makes the output depend on the bits alone, so an unchanged list re-signed
        # later has the same encodedList (and a stable ETag).
        compressed = gzip.compress(self._bits, compresslevel=9, mtime=0)
        body = base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")
        return _MULTIBASE_BASE64URL + body

    def _check_own_index(self, index: int) -> None:
        if type(index) is not int or not 0 <= index < self._size:
            raise IndexError(f"status list index is outside a list of {self._size} entries")


def _check_status_size(status_size: int) -> None:
    if type(status_size) is not int or not 1 <= status_size <= 8:
        raise ValueError("status_size must be an integer from 1 to 8")


class IndexAllocator:
    """A keyed permutation of ``[0, size)``, read in order: indices look random and never repeat.

    Position ``p`` maps to `index_at(p)`; `allocate` returns the index at `next_position` and
    moves on. The permutation is a Feistel network over the smallest power of two that holds
    ``size`` (halves of unequal width when the bit count is odd), with HMAC-SHA256 under `key`
    as round function, and cycle-walking to bring a result back inside ``[0, size)``.

    The allocator keeps no other state: persist `next_position` with the list (in the same
    transaction that records the credential) and rebuild the allocator from it, with the same
    key and size, or indices will repeat. Instances are not safe to share between threads.
    """

    ROUNDS: Final = 8
    """Luby-Rackoff asks for 4; the halves here are small (9 bits for 131,072 entries)."""

    _DOMAIN: Final = b"sdgcities/status-list-index/v1\x00"

    __slots__ = ("_key", "_next", "_prefix", "_rounds", "_size", "_widths")

    def __init__(self, *, key: bytes, size: int = MIN_ENTRIES, next_position: int = 0) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("key must be at least 16 bytes")
        if type(size) is not int or size < 1:
            raise ValueError("size must be a positive integer")
        if type(next_position) is not int or not 0 <= next_position <= size:
            raise ValueError(f"next_position must be within [0, {size}]")
        self._key = key
        self._size = size
        self._next = next_position
        self._prefix = self._DOMAIN + size.to_bytes(8, "big")
        # At least two bits, so that both halves are non-empty; cycle-walking absorbs the slack.
        bits = max(2, (size - 1).bit_length())
        # (high, low) widths per round; each round makes the old low half the new high half.
        low = bits // 2
        self._widths: tuple[tuple[int, int], ...] = tuple(
            (bits - low, low) if r % 2 == 0 else (low, bits - low) for r in range(self.ROUNDS)
        )
        # Round values depend only on (round, low half), so there are few of them (512 per round
        # for 131,072 entries); keeping them makes a full walk of the list cheap.
        self._rounds: tuple[dict[int, int], ...] = tuple({} for _ in range(self.ROUNDS))

    @property
    def size(self) -> int:
        """How many indices the permutation covers."""
        return self._size

    @property
    def next_position(self) -> int:
        """How many indices have been handed out; persist it to resume without repeats."""
        return self._next

    def allocate(self) -> int:
        """The next unused index; `StatusListFull` once every index has been handed out."""
        if self._next >= self._size:
            raise StatusListFull(f"all {self._size} status list indices are allocated")
        index = self.index_at(self._next)
        self._next += 1
        return index

    def index_at(self, position: int) -> int:
        """The index at `position` of the permutation (pure: it does not allocate)."""
        if type(position) is not int or not 0 <= position < self._size:
            raise ValueError(f"position must be within [0, {self._size})")
        # The permutation of the power-of-two domain is a bijection, so following its cycle
        # from a point inside [0, size) comes back inside [0, size) before repeating.
        value = self._permute(position)
        while value >= self._size:
            value = self._permute(value)
        return value

    def _permute(self, value: int) -> int:
        for round_number, (high_bits, low_bits) in enumerate(self._widths):
            high, low = value >> low_bits, value & ((1 << low_bits) - 1)
            mixed = high ^ (self._round_value(round_number, low) & ((1 << high_bits) - 1))
            value = (low << high_bits) | mixed
        return value

    def _round_value(self, round_number: int, low: int) -> int:
        cache = self._rounds[round_number]
        result = cache.get(low)
        if result is None:
            message = self._prefix + bytes((round_number,)) + low.to_bytes(8, "big")
            digest = hmac.digest(self._key, message, hashlib.sha256)
            result = cache[low] = int.from_bytes(digest[:8], "big")
        return result
