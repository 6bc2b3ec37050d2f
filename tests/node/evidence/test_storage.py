"""`EvidenceStore`: streaming, limits, content addressing, deduplication and integrity."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from sdgcities.node.evidence import (
    DEFAULT_MAX_BYTES,
    EvidenceCorrupted,
    EvidenceEmpty,
    EvidenceMissing,
    EvidenceStore,
    EvidenceTooLarge,
    EvidenceTypeNotAllowed,
    InvalidDigest,
    MediaType,
    QuotaExceeded,
    StoredEvidence,
)

from . import samples

MIB = 1024 * 1024


async def chunked(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def store_bytes(store: EvidenceStore, data: bytes, **kwargs: int | None) -> StoredEvidence:
    return asyncio.run(store.store(chunked(data), **kwargs))


def leftovers(store: EvidenceStore) -> list[Path]:
    """Files in the temporary directory: a refused or cancelled upload must leave none."""
    tmp = store.root / "tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


def stored_files(store: EvidenceStore) -> list[Path]:
    return [path for path in (store.root / "sha256").rglob("*") if path.is_file()]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class CountingSource:
    """An endless source of 1 MiB chunks (a PDF, so only the size can stop it)."""

    def __init__(self) -> None:
        self.chunks_read = 0
        self._chunk = samples.PDF + b"0" * (MIB - len(samples.PDF))

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.chunks_read += 1
            yield self._chunk


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


def test_constructing_a_store_creates_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    assert store.max_bytes == DEFAULT_MAX_BYTES == 25 * MIB
    assert not (tmp_path / "evidence").exists()


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        pytest.param(samples.PDF, MediaType.PDF, id="pdf"),
        pytest.param(samples.png(), MediaType.PNG, id="png"),
        pytest.param(samples.xlsx(), MediaType.XLSX, id="xlsx"),
        pytest.param(samples.CSV_COMMA, MediaType.CSV, id="csv"),
    ],
)
def test_store_is_content_addressed(
    store: EvidenceStore, content: bytes, media_type: MediaType
) -> None:
    stored = store_bytes(store, content)

    assert stored == StoredEvidence(
        digest=sha256(content), size=len(content), media_type=media_type
    )
    hex_digest = stored.digest.removeprefix("sha256:")
    path = store.root / "sha256" / hex_digest[:2] / hex_digest[2:4] / hex_digest
    assert store.path_for(stored.digest) == path
    assert path.read_bytes() == content
    assert leftovers(store) == []


def test_file_of_exactly_the_cap_is_accepted(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=len(samples.PDF))
    assert store_bytes(store, samples.PDF).size == len(samples.PDF)


def test_cap_stops_an_endless_stream(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=3 * MIB)
    source = CountingSource()

    with pytest.raises(EvidenceTooLarge, match="at most 3 MiB"):
        asyncio.run(store.store(source))

    # Three chunks fit; the fourth crosses the cap and is refused before it is written.
    assert source.chunks_read == 4
    assert leftovers(store) == []
    assert not (tmp_path / "sha256").exists()


def test_one_byte_over_the_cap_is_refused(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=len(samples.PDF) - 1)
    with pytest.raises(EvidenceTooLarge):
        store_bytes(store, samples.PDF)
    assert leftovers(store) == []


def test_declared_length_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=3 * MIB)
    source = CountingSource()

    with pytest.raises(EvidenceTooLarge):
        asyncio.run(store.store(source, declared_length=3 * MIB + 1))

    assert source.chunks_read == 0
    assert not tmp_path.joinpath("tmp").exists()


def test_declared_length_over_the_quota_is_refused_before_reading(store: EvidenceStore) -> None:
    source = CountingSource()

    with pytest.raises(QuotaExceeded):
        asyncio.run(store.store(source, declared_length=2 * MIB, quota_remaining=MIB))

    assert source.chunks_read == 0


def test_understated_declared_length_does_not_lift_the_cap(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=2 * MIB)
    with pytest.raises(EvidenceTooLarge):
        asyncio.run(store.store(CountingSource(), declared_length=10))
    assert leftovers(store) == []


def test_quota_is_enforced_while_streaming(store: EvidenceStore) -> None:
    content = samples.CSV_COMMA * 100
    with pytest.raises(QuotaExceeded, match="quota"):
        store_bytes(store, content, quota_remaining=len(content) - 1)
    assert leftovers(store) == []


def test_file_of_exactly_the_remaining_quota_is_accepted(store: EvidenceStore) -> None:
    stored = store_bytes(store, samples.PDF, quota_remaining=len(samples.PDF))
    assert stored.size == len(samples.PDF)


def test_exhausted_quota_refuses_any_file(store: EvidenceStore) -> None:
    with pytest.raises(QuotaExceeded, match="0 MiB remaining"):
        store_bytes(store, samples.PDF, quota_remaining=0)


def test_cap_is_reported_before_quota(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=10)
    with pytest.raises(EvidenceTooLarge):
        store_bytes(store, samples.PDF, quota_remaining=5)


@pytest.mark.parametrize("chunks", [[], [b"", b""]], ids=["no-chunks", "empty-chunks"])
def test_empty_upload_is_refused(store: EvidenceStore, chunks: list[bytes]) -> None:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    with pytest.raises(EvidenceEmpty):
        asyncio.run(store.store(source()))
    assert leftovers(store) == []


@pytest.mark.parametrize(
    "content", [samples.ELF, samples.HTML, samples.zip_archive([("a.txt", b"a")])]
)
def test_disallowed_type_is_refused_and_not_kept(store: EvidenceStore, content: bytes) -> None:
    with pytest.raises(EvidenceTypeNotAllowed):
        store_bytes(store, content)
    assert leftovers(store) == []
    assert not (store.root / "sha256").exists()


def test_identical_uploads_are_stored_once(store: EvidenceStore) -> None:
    first = store_bytes(store, samples.PDF)
    second = store_bytes(store, samples.PDF, quota_remaining=len(samples.PDF))

    assert first == second
    assert stored_files(store) == [store.path_for(first.digest)]
    assert leftovers(store) == []


def test_concurrent_identical_uploads(store: EvidenceStore) -> None:
    async def upload_twice() -> list[StoredEvidence]:
        return list(
            await asyncio.gather(
                store.store(chunked(samples.docx(), 100)),
                store.store(chunked(samples.docx(), 100)),
            )
        )

    first, second = asyncio.run(upload_twice())
    assert first == second
    assert len(stored_files(store)) == 1
    assert leftovers(store) == []


def test_cancelled_upload_leaves_nothing(store: EvidenceStore) -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield samples.PDF
        yield b"0" * (2 * MIB)  # a full block, so a write reaches the worker thread
        await asyncio.Event().wait()
        yield b"never"

    async def cancel_midway() -> None:
        task = asyncio.create_task(store.store(stalled()))
        while not leftovers(store):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert leftovers(store) == []


def test_stored_files_are_read_only(store: EvidenceStore) -> None:
    stored = store_bytes(store, samples.PDF)
    assert store.path_for(stored.digest).stat().st_mode & 0o777 == 0o400


def test_open_verified_returns_the_path(store: EvidenceStore) -> None:
    stored = store_bytes(store, samples.PDF)
    path = store.open_verified(stored.digest)
    assert path.read_bytes() == samples.PDF


def flip_a_byte(path: Path, offset: int = 10) -> None:
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_changed_file_is_reported_not_served(store: EvidenceStore) -> None:
    stored = store_bytes(store, samples.PDF)
    flip_a_byte(store.path_for(stored.digest))

    with pytest.raises(EvidenceCorrupted, match="integrity check") as caught:
        store.open_verified(stored.digest)
    assert caught.value.digest == stored.digest


def test_truncated_file_is_reported(store: EvidenceStore) -> None:
    stored = store_bytes(store, samples.PDF)
    path = store.path_for(stored.digest)
    path.chmod(0o600)
    path.write_bytes(samples.PDF[:-1])

    with pytest.raises(EvidenceCorrupted):
        store.open_verified(stored.digest)


def test_reupload_repairs_a_damaged_copy(store: EvidenceStore) -> None:
    stored = store_bytes(store, samples.PDF)
    flip_a_byte(store.path_for(stored.digest))

    assert store_bytes(store, samples.PDF) == stored
    assert store.open_verified(stored.digest).read_bytes() == samples.PDF
    assert leftovers(store) == []


def test_missing_file(store: EvidenceStore) -> None:
    digest = sha256(b"never uploaded")
    with pytest.raises(EvidenceMissing, match="no evidence file"):
        store.open_verified(digest)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:../../../../etc/passwd",
        "sha256:" + "0" * 62 + "/..",
        "sha256:" + "0" * 64 + "/../../x",
        "sha256:" + "A" * 64,
        "sha256:" + "0" * 63,
        "sha256:" + "0" * 65,
        "sha256:" + "0" * 64 + "\n",
        "SHA256:" + "0" * 64,
        "sha512:" + "0" * 128,
        "0" * 64,
        "/etc/passwd",
        "",
    ],
)
def test_malformed_digest_is_refused(store: EvidenceStore, digest: str) -> None:
    with pytest.raises(InvalidDigest):
        store.path_for(digest)
    with pytest.raises(EvidenceMissing):
        store.open_verified(digest)


def test_upload_at_the_cap_stays_small_in_memory(store: EvidenceStore) -> None:
    """A 25 MiB upload in 64 KiB chunks keeps a small, constant amount of memory.

    Python allocations are traced in every thread; the source yields one reused chunk, so what
    is measured is the store's own buffering.
    """
    chunk_size = 64 * 1024
    head = samples.PDF
    body = b"0123456789abcde\n" * (chunk_size // 16)

    def source_chunks() -> Iterable[bytes]:
        yield head
        remaining = DEFAULT_MAX_BYTES - len(head)
        while remaining >= chunk_size:
            yield body
            remaining -= chunk_size
        yield body[:remaining]

    async def source() -> AsyncIterator[bytes]:
        for chunk in source_chunks():
            yield chunk

    tracemalloc.start()
    try:
        stored = asyncio.run(store.store(source()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.size == DEFAULT_MAX_BYTES
    assert stored.media_type is MediaType.PDF
    assert peak < 4 * MIB, f"peak {peak / MIB:.1f} MiB"
    assert os.path.getsize(store.path_for(stored.digest)) == DEFAULT_MAX_BYTES
    assert store.open_verified(stored.digest)


def test_event_loop_keeps_running_during_an_upload(store: EvidenceStore) -> None:
    """Hashing and writing happen in worker threads, so other tasks run meanwhile."""
    chunk = samples.PDF + b"0" * (64 * 1024 - len(samples.PDF))

    async def source() -> AsyncIterator[bytes]:
        for _ in range(16 * 8):  # 8 MiB in 64 KiB chunks, none of which awaits
            yield chunk

    async def upload_while_ticking() -> int:
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        await store.store(source())
        done = True
        await ticking
        return ticks

    # One or more ticks per worker-thread hand-off: eight blocks, then sync, sniff and rename.
    assert asyncio.run(upload_while_ticking()) >= 8
