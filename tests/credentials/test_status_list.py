"""The Bitstring Status List bitstring, its `encodedList` form, and the index allocator."""

from __future__ import annotations

import base64
import gzip
import io
import random
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdgcities.credentials.errors import (
    DecompressionLimitExceeded,
    MalformedError,
    StatusListFull,
)
from sdgcities.credentials.status_list import (
    MAX_DECODED_BYTES,
    MIN_ENTRIES,
    IndexAllocator,
    StatusBitstring,
)

LIST_BYTES = MIN_ENTRIES // 8
KEY = bytes(range(32))

# The example `encodedList` of the Bitstring Status List v1.0 spec: 131,072 unset entries.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

some_indices = st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=300)


# What the spec says, written independently of the module under test.


def spec_decode(encoded: str) -> bytes:
    body = encoded.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def spec_bit(raw: bytes, index: int) -> int:
    return (raw[index // 8] >> (7 - index % 8)) & 1


def spec_encode_gzip(compressed: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def spec_encode(raw: bytes, *, mtime: int = 0) -> str:
    return spec_encode_gzip(gzip.compress(raw, mtime=mtime))


def bitstring_with(indices: Iterable[int], size: int = MIN_ENTRIES) -> bytes:
    """The raw list with `indices` set, built as one big-endian integer (bit 0 leftmost)."""
    return sum(1 << (size - 1 - index) for index in set(indices)).to_bytes(size // 8, "big")


def status_list_with(indices: Iterable[int]) -> StatusBitstring:
    bits = StatusBitstring()
    for index in indices:
        bits.set(index)
    return bits


def gzip_of_zeros(total: int, chunk_size: int = 1 << 20) -> bytes:
    """A valid gzip of `total` zero bytes, built without ever holding them.

    After a full flush deflate forgets its history, so every further chunk of zeros compresses
    to the same bytes: two chunks are compressed and the second repeated, then the trailer
    (CRC-32 and length of the whole input) is written by hand.
    """
    chunk = bytes(chunk_size)
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = deflater.compress(chunk) + deflater.flush(zlib.Z_FULL_FLUSH)
    repeated = deflater.compress(chunk) + deflater.flush(zlib.Z_FULL_FLUSH)
    final_block = deflater.flush()[:-8]
    crc = 0
    for _ in range(total // chunk_size):
        crc = zlib.crc32(chunk, crc)
    trailer = struct.pack("<II", crc, total & 0xFFFFFFFF)
    return first + repeated * (total // chunk_size - 1) + final_block + trailer


# The bitstring.


@pytest.mark.parametrize(
    ("index", "byte_position", "byte_value"),
    [(0, 0, 0x80), (7, 0, 0x01), (8, 1, 0x80), (131_071, LIST_BYTES - 1, 0x01)],
)
def test_bit_order_follows_the_spec(index, byte_position, byte_value):
    bits = status_list_with([index])

    expected = bytearray(LIST_BYTES)
    expected[byte_position] = byte_value
    assert bits.to_bytes() == bytes(expected)


def test_from_bytes_reads_bits_in_the_spec_order():
    raw = bytearray(LIST_BYTES)
    raw[0], raw[1], raw[-1] = 0b0100_0001, 0x80, 0x01

    bits = StatusBitstring.from_bytes(bytes(raw))

    assert [i for i in range(16) if bits.get(i)] == [1, 7, 8]
    assert bits.get(MIN_ENTRIES - 1)
    assert not bits.get(MIN_ENTRIES - 2)


def test_set_clear_and_get():
    bits = StatusBitstring()
    assert not bits.get(42)

    bits.set(42)
    bits.set(42)
    bits.set(43, True)
    assert (bits.get(41), bits.get(42), bits.get(43), bits.get(44)) == (False, True, True, False)

    bits.clear(42)
    bits.set(43, False)
    assert bits.to_bytes() == bytes(LIST_BYTES)


def test_size_and_length():
    assert StatusBitstring().size == len(StatusBitstring()) == MIN_ENTRIES
    bigger = StatusBitstring(2 * MIN_ENTRIES + 8)
    assert bigger.size == len(bigger) == 2 * MIN_ENTRIES + 8
    assert len(bigger.to_bytes()) == LIST_BYTES * 2 + 1


@pytest.mark.parametrize("size", [0, -8, MIN_ENTRIES - 8, MIN_ENTRIES + 1])
def test_constructor_refuses_sizes_the_spec_does_not_allow(size):
    with pytest.raises(ValueError, match="multiple of 8"):
        StatusBitstring(size)


@pytest.mark.parametrize(
    "index", [-1, MIN_ENTRIES, pytest.param(10**5000, id="huge"), True, "5", 5.0]
)
def test_get_refuses_an_index_outside_the_list_as_malformed(index):
    bits = StatusBitstring()
    bits.set(MIN_ENTRIES - 1)
    bits.set(5)

    with pytest.raises(MalformedError, match="outside"):
        bits.get(index)


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES])
def test_set_refuses_an_index_outside_the_list(index):
    bits = StatusBitstring()

    with pytest.raises(IndexError):
        bits.set(index)
    with pytest.raises(IndexError):
        bits.clear(index)
    assert bits.to_bytes() == bytes(LIST_BYTES)


# encodedList: what we write.


@given(some_indices)
def test_encode_decode_round_trip(indices):
    decoded = StatusBitstring.decode(status_list_with(indices).encode())

    assert decoded.size == MIN_ENTRIES
    assert decoded.to_bytes() == bitstring_with(indices)


@given(some_indices)
def test_encode_is_read_correctly_by_the_spec_decoder(indices):
    encoded = status_list_with(indices).encode()

    raw = spec_decode(encoded)
    assert len(raw) == LIST_BYTES
    assert all(spec_bit(raw, index) for index in indices)
    assert sum(byte.bit_count() for byte in raw) == len(indices)


def test_encode_is_multibase_gzip_and_deterministic():
    encoded = status_list_with([3, 99_999]).encode()

    # "H4sI" is the base64 of the gzip magic number and method (1f 8b 08).
    assert encoded.startswith("uH4sI")
    assert "=" not in encoded
    assert status_list_with([99_999, 3]).encode() == encoded


# encodedList: what others write.


@given(some_indices, st.integers(min_value=0, max_value=2**32 - 1))
def test_decode_reads_what_a_spec_encoder_writes(indices, mtime):
    raw = bitstring_with(indices)

    decoded = StatusBitstring.decode(spec_encode(raw, mtime=mtime))

    assert decoded.to_bytes() == raw
    assert all(decoded.get(index) for index in indices)


def test_decode_accepts_optional_gzip_header_fields():
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="status-list.bin", mode="wb", fileobj=buffer, mtime=1) as file:
        file.write(bitstring_with([0, 17]))

    decoded = StatusBitstring.decode(spec_encode_gzip(buffer.getvalue()))

    assert [i for i in range(32) if decoded.get(i)] == [0, 17]


def test_decode_reads_the_spec_example():
    decoded = StatusBitstring.decode(SPEC_EXAMPLE)

    assert decoded.size == MIN_ENTRIES
    assert decoded.to_bytes() == bytes(LIST_BYTES)


# Entries of several bits: entry i is bits i * size to (i + 1) * size - 1, left-most first.


def spec_entry(raw: bytes, index: int, size: int) -> int:
    value = 0
    for position in range(index * size, (index + 1) * size):
        value = value << 1 | spec_bit(raw, position)
    return value


@given(
    size=st.sampled_from([1, 2, 3, 4, 8]),
    values=st.dictionaries(st.integers(0, MIN_ENTRIES - 1), st.integers(0, 255), max_size=200),
)
def test_entries_are_written_where_the_spec_reads_them(size, values):
    values = {index: value % (1 << size) for index, value in values.items()}
    bits = StatusBitstring(size * MIN_ENTRIES)
    for index, value in values.items():
        bits.set_entry(index, value, status_size=size)

    raw = spec_decode(bits.encode())

    assert all(spec_entry(raw, i, size) == value for i, value in values.items())
    assert all(bits.get_entry(i, status_size=size) == value for i, value in values.items())
    assert sum(bin(byte).count("1") for byte in raw) == sum(
        bin(value).count("1") for value in values.values()
    )


def test_entry_high_bit_comes_first():
    bits = StatusBitstring(2 * MIN_ENTRIES)
    bits.set(0)  # the left-most bit
    bits.set(2 * MIN_ENTRIES - 1)  # the right-most bit

    assert bits.get_entry(0, status_size=2) == 0b10
    assert bits.get_entry(MIN_ENTRIES - 1, status_size=2) == 0b01
    assert bits.entries(2) == MIN_ENTRIES


@pytest.mark.parametrize(
    "index", [-1, MIN_ENTRIES, True, "5", 5.0, pytest.param(10**5000, id="huge")]
)
def test_an_entry_outside_the_list_is_malformed(index):
    bits = StatusBitstring(2 * MIN_ENTRIES)

    with pytest.raises(MalformedError, match=f"outside a list of {MIN_ENTRIES} entries"):
        bits.get_entry(index, status_size=2)


def test_a_list_that_is_not_a_whole_number_of_entries_is_malformed():
    bits = StatusBitstring(MIN_ENTRIES)  # 131,072 bits: not a multiple of 3

    with pytest.raises(MalformedError, match="not a whole number of 3-bit entries"):
        bits.get_entry(0, status_size=3)


@pytest.mark.parametrize(
    ("index", "value", "error"),
    [(MIN_ENTRIES, 1, IndexError), (-1, 1, IndexError), (0, 4, ValueError), (0, -1, ValueError)],
)
def test_set_entry_refuses_the_issuers_own_mistakes(index, value, error):
    bits = StatusBitstring(2 * MIN_ENTRIES)

    with pytest.raises(error):
        bits.set_entry(index, value, status_size=2)


@pytest.mark.parametrize("status_size", [0, 9, True, 2.0])
def test_status_size_is_one_to_eight_bits(status_size):
    with pytest.raises(ValueError, match="status_size"):
        StatusBitstring().entries(status_size)


def test_decode_keeps_a_longer_list_whole():
    raw = bitstring_with([0, 4 * MIN_ENTRIES - 1], size=4 * MIN_ENTRIES)

    decoded = StatusBitstring.decode(spec_encode(raw))

    assert decoded.size == 4 * MIN_ENTRIES
    assert decoded.get(4 * MIN_ENTRIES - 1)


# encodedList: what we refuse.


@pytest.fixture(scope="module")
def gzip_bomb() -> str:
    """1 GiB of zeros, about 1.4 MB once gzipped and encoded."""
    return spec_encode_gzip(gzip_of_zeros(1 << 30))


def test_gzip_bomb_is_refused_in_bounded_memory_and_time(gzip_bomb):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(DecompressionLimitExceeded):
            StatusBitstring.decode(gzip_bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 * MAX_DECODED_BYTES
    assert peak < 8 * 1024 * 1024
    assert elapsed < 5


def test_the_default_cap_fits_real_lists_not_16_mib():
    # A node's list: 131,072 two-bit entries, 32 KiB. The cap leaves 64 times that, and no more
    # than a few MiB of memory per list a stranger publishes.
    assert 64 * MIN_ENTRIES * 2 // 8 <= MAX_DECODED_BYTES <= 4 * 1024 * 1024


def test_the_largest_list_within_the_default_cap_is_accepted():
    rng = random.Random(1)
    raw = bytearray(MAX_DECODED_BYTES)
    for position in rng.sample(range(8 * MAX_DECODED_BYTES), 8 * MAX_DECODED_BYTES // 100):
        raw[position // 8] |= 0x80 >> position % 8

    decoded = StatusBitstring.decode(spec_encode(bytes(raw)))

    assert decoded.to_bytes() == raw
    assert decoded.entries(2) == 4 * MAX_DECODED_BYTES


def test_a_list_one_byte_over_the_default_cap_is_refused():
    with pytest.raises(DecompressionLimitExceeded):
        StatusBitstring.decode(spec_encode(bytes(MAX_DECODED_BYTES + 1)))


def test_list_exactly_at_the_cap_is_accepted():
    decoded = StatusBitstring.decode(spec_encode(bytes(LIST_BYTES)), max_bytes=LIST_BYTES)

    assert decoded.size == MIN_ENTRIES


def test_list_one_byte_over_the_cap_is_refused():
    encoded = spec_encode(bytes(LIST_BYTES + 1))

    with pytest.raises(DecompressionLimitExceeded):
        StatusBitstring.decode(encoded, max_bytes=LIST_BYTES)


def test_incompressible_list_at_the_cap_is_accepted():
    raw = random.Random(0).randbytes(LIST_BYTES)

    decoded = StatusBitstring.decode(spec_encode(raw), max_bytes=LIST_BYTES)

    assert decoded.to_bytes() == raw


def test_encoded_list_too_long_for_the_cap_is_refused_before_decoding():
    raw = random.Random(0).randbytes(4 * LIST_BYTES)

    with pytest.raises(MalformedError, match="longer than any list"):
        StatusBitstring.decode(spec_encode(raw), max_bytes=LIST_BYTES)


def test_short_list_is_refused():
    with pytest.raises(MalformedError, match="too short"):
        StatusBitstring.decode(spec_encode(bytes(8 * 1024)))


def test_short_list_is_accepted_when_the_caller_lowers_the_minimum():
    decoded = StatusBitstring.decode(spec_encode(bytes(8 * 1024)), min_entries=MIN_ENTRIES // 2)

    assert decoded.size == MIN_ENTRIES // 2


def test_from_bytes_refuses_a_short_list():
    with pytest.raises(MalformedError, match="too short"):
        StatusBitstring.from_bytes(bytes(LIST_BYTES - 1))


VALID_RAW = bitstring_with([5, 1_000, 130_000])
VALID_GZIP = gzip.compress(VALID_RAW, mtime=0)
VALID = spec_encode_gzip(VALID_GZIP)


def _padded(encoded: str) -> str:
    return encoded + "=" * (-(len(encoded) - 1) % 4)


def _non_canonical(encoded: str) -> str:
    # The last character of an unpadded body carries unused low bits; set one of them.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return encoded[:-1] + alphabet[alphabet.index(encoded[-1]) | 1]


def _impossible_length(encoded: str) -> str:
    body = encoded[1:]
    return "u" + body[: len(body) - len(body) % 4 - 3]


def _with_gzip(tamper: Callable[[bytes], bytes]) -> Callable[[str], str]:
    return lambda _: spec_encode_gzip(tamper(VALID_GZIP))


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


TAMPERED = {
    "padded": _padded,
    "newline-inside": lambda s: s[:20] + "\n" + s[20:],
    "trailing-newline": lambda s: s + "\n",
    "leading-space": lambda s: " " + s,
    "no-prefix": lambda s: s[1:],
    "base64urlpad-prefix": lambda s: "U" + s[1:],
    "base58-prefix": lambda s: "z" + s[1:],
    "standard-alphabet": lambda s: s[:10] + "+" + s[11:],
    "non-ascii-digit": lambda s: s[:10] + "\uff10" + s[11:],
    "non-canonical-base64": _non_canonical,
    "impossible-base64-length": _impossible_length,
    "empty": lambda _: "",
    "prefix-only": lambda _: "u",
    "not-compressed": lambda _: spec_encode_gzip(VALID_RAW),
    "zlib-not-gzip": lambda _: spec_encode_gzip(zlib.compress(VALID_RAW)),
    "truncated-trailer": _with_gzip(lambda g: g[:-4]),
    "truncated-mid-stream": _with_gzip(lambda g: g[: len(g) // 2]),
    "trailing-garbage": _with_gzip(lambda g: g + b"\x00"),
    "second-gzip-member": _with_gzip(lambda g: g + g),
    "bad-crc": _with_gzip(lambda g: _flip(g, len(g) - 8)),
    "bad-length": _with_gzip(lambda g: _flip(g, len(g) - 1)),
}


def test_untampered_list_decodes():
    assert StatusBitstring.decode(VALID).to_bytes() == VALID_RAW


@pytest.mark.parametrize("tamper", TAMPERED.values(), ids=TAMPERED.keys())
def test_tampered_encoded_list_is_malformed(tamper):
    tampered = tamper(VALID)
    assert tampered != VALID

    with pytest.raises(MalformedError):
        StatusBitstring.decode(tampered)


def test_decode_refuses_bytes():
    with pytest.raises(MalformedError, match="string"):
        StatusBitstring.decode(VALID.encode())  # type: ignore[arg-type]


# The allocator.


@pytest.mark.parametrize("size", [1, 2, 3, 8, 1_000, 4_096, 4_097])
def test_index_at_is_a_bijection(size):
    allocator = IndexAllocator(key=KEY, size=size)

    assert sorted(allocator.index_at(p) for p in range(size)) == list(range(size))


def test_full_list_is_allocated_without_repeats_then_full():
    allocator = IndexAllocator(key=KEY)

    indices = [allocator.allocate() for _ in range(MIN_ENTRIES)]

    assert set(indices) == set(range(MIN_ENTRIES))
    assert allocator.next_position == MIN_ENTRIES
    with pytest.raises(StatusListFull):
        allocator.allocate()


def test_allocation_order_does_not_follow_issue_order():
    allocator = IndexAllocator(key=KEY)

    first = [allocator.allocate() for _ in range(1_000)]

    assert first != sorted(first)
    assert min(first) < MIN_ENTRIES // 10
    assert max(first) > MIN_ENTRIES - MIN_ENTRIES // 10
    assert sum(index == position for position, index in enumerate(first)) < 5


def test_small_list_is_exhausted():
    allocator = IndexAllocator(key=KEY, size=8)

    assert sorted(allocator.allocate() for _ in range(8)) == list(range(8))
    with pytest.raises(StatusListFull):
        allocator.allocate()
    assert allocator.next_position == 8


def test_allocator_resumes_from_a_persisted_position():
    allocator = IndexAllocator(key=KEY, size=4_096)
    issued = [allocator.allocate() for _ in range(10)]

    resumed = IndexAllocator(key=KEY, size=4_096, next_position=allocator.next_position)

    assert issued == [allocator.index_at(p) for p in range(10)]
    assert resumed.allocate() == allocator.allocate() == allocator.index_at(10)
    assert resumed.next_position == allocator.next_position == 11


def test_allocator_resumed_at_the_end_is_full():
    with pytest.raises(StatusListFull):
        IndexAllocator(key=KEY, size=8, next_position=8).allocate()


def test_same_key_gives_the_same_permutation():
    first = IndexAllocator(key=KEY, size=4_096)
    second = IndexAllocator(key=bytes(KEY), size=4_096)

    assert [first.index_at(p) for p in range(4_096)] == [second.index_at(p) for p in range(4_096)]


def test_different_keys_give_unrelated_permutations():
    first = IndexAllocator(key=KEY, size=4_096)
    second = IndexAllocator(key=KEY[:-1] + b"\xff", size=4_096)

    agreements = sum(first.index_at(p) == second.index_at(p) for p in range(4_096))
    # Two random permutations agree on one position on average.
    assert agreements < 10


@pytest.mark.parametrize(
    "arguments",
    [
        {"key": b"short key"},
        {"key": "a text key, not bytes"},
        {"key": KEY, "size": 0},
        {"key": KEY, "size": 8, "next_position": -1},
        {"key": KEY, "size": 8, "next_position": 9},
    ],
)
def test_allocator_refuses_bad_arguments(arguments):
    with pytest.raises(ValueError):  # noqa: PT011 - several messages, one misuse
        IndexAllocator(**arguments)


@pytest.mark.parametrize("position", [-1, 8])
def test_index_at_refuses_a_position_outside_the_list(position):
    with pytest.raises(ValueError, match="position"):
        IndexAllocator(key=KEY, size=8).index_at(position)
