"""Content-addressed storage for evidence files, streamed and bounded.

A city's upload is streamed to a temporary file while it is hashed and counted, so no file is
ever held in memory whole: the per-file cap and the city's quota are enforced chunk by chunk,
and an oversized body is refused as soon as it crosses the line. A complete upload is synced to
disk, its type is judged from its bytes (`detect_media_type`), and it is renamed atomically to
a path derived from its SHA-256 digest:

    root/
    ├── tmp/                          uploads in progress (same filesystem, so rename is atomic)
    └── sha256/ab/cd/abcd…            one immutable file per digest; identical uploads share it

The digest is the file's identity everywhere else (database rows, signed payloads); the
original filename is kept only as sanitised metadata (`sanitise_filename`) and returned to
browsers in an attachment header (`content_disposition`). Before a file is served its digest
is checked again (`EvidenceStore.open_verified`), so a file changed on disk is reported rather
than handed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import tempfile
import threading
import unicodedata
import urllib.parse
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import (
    EvidenceCorrupted,
    EvidenceEmpty,
    EvidenceMissing,
    EvidenceTooLarge,
    InvalidDigest,
    QuotaExceeded,
)
from .sniff import MediaType, detect_media_type

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EvidenceStore",
    "StoredEvidence",
    "content_disposition",
    "sanitise_filename",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024

# Incoming chunks are gathered into blocks of this size before each hand-off to a worker
# thread. Hashing and writing 1 MiB takes a few milliseconds, which must not stall the event
# loop (nor must a slow disk); a thread hop costs tens of microseconds, which would dominate if
# paid for every small multipart chunk. At most one block plus one chunk is in memory per upload.
_WRITE_BLOCK = 1024 * 1024
_READ_BLOCK = 1024 * 1024

_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    """A stored evidence file: its identity, size in bytes and content-judged type."""

    digest: str
    size: int
    media_type: MediaType


class EvidenceStore:
    """Evidence files on the local filesystem, addressed by their SHA-256 digest.

    Directories are created on first use, so constructing a store touches nothing.
    """

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.root = root
        self.max_bytes = max_bytes

    @property
    def _tmp_dir(self) -> Path:
        return self.root / "tmp"

    async def store(
        self,
        chunks: AsyncIterable[bytes],
        *,
        declared_length: int | None = None,
        quota_remaining: int | None = None,
    ) -> StoredEvidence:
        """Stream `chunks` into the store and return what was stored.

        `declared_length` is the size the client announced for the file, if any: a value over
        the cap or the quota is refused before a byte is read. The actual byte count is
        enforced either way, so a client that understates its size gains nothing.
        `quota_remaining` is what the uploading city may still store, or None for no quota.

        Raises `EvidenceTooLarge`, `QuotaExceeded`, `EvidenceEmpty` or
        `EvidenceTypeNotAllowed`; nothing is left on disk after a refusal or a cancellation.
        Uploading a file that is already stored returns the same digest and stores no copy.
        """
        if declared_length is not None:
            self._check_size(declared_length, quota_remaining)

        # Created on the event loop, not in a thread: an empty file is cheap to make, and a
        # cancellation that arrived while a worker made it would leave a file nobody deletes.
        upload = _TempUpload.create(self._tmp_dir)
        try:
            size = 0
            block = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                self._check_size(size, quota_remaining)
                if len(block) + len(chunk) < _WRITE_BLOCK:
                    block += chunk
                    continue
                # The chunk goes along as it is: a large one is written, not copied into the block.
                await asyncio.to_thread(upload.write, block, chunk)
                block.clear()
            if size == 0:
                raise EvidenceEmpty()
            if block:
                await asyncio.to_thread(upload.write, block)
            hex_digest = await asyncio.to_thread(upload.finish)
            media_type = await asyncio.to_thread(detect_media_type, upload.path)
            await asyncio.to_thread(upload.commit, self._path_for_hex(hex_digest))
        except BaseException:
            # Also on cancellation (a client that disconnects): the partial file must not stay.
            upload.discard()
            raise
        return StoredEvidence(digest=f"sha256:{hex_digest}", size=size, media_type=media_type)

    def _check_size(self, size: int, quota_remaining: int | None) -> None:
        if size > self.max_bytes:
            raise EvidenceTooLarge(max_bytes=self.max_bytes)
        if quota_remaining is not None and size > quota_remaining:
            raise QuotaExceeded(quota_remaining=max(quota_remaining, 0))

    def path_for(self, digest: str) -> Path:
        """Return where the file with `digest` is (or would be) stored.

        Only ``sha256:`` and 64 lowercase hex digits is accepted, so no digest can point
        outside the store; anything else raises `InvalidDigest`.
        """
        match = _DIGEST.fullmatch(digest)
        if match is None:
            raise InvalidDigest(digest)
        return self._path_for_hex(match.group(1))

    def _path_for_hex(self, hex_digest: str) -> Path:
        return self.root / "sha256" / hex_digest[:2] / hex_digest[2:4] / hex_digest

    def open_verified(self, digest: str) -> Path:
        """Check the stored file against its digest and return its path for serving.

        Raises `EvidenceMissing` if no file is stored under `digest` and `EvidenceCorrupted`
        if its bytes no longer match. Reads the whole file (in 1 MiB blocks, so memory stays
        flat): blocking, so async callers run it in a worker thread.
        """
        path = self.path_for(digest)
        try:
            with path.open("rb") as file:
                actual = _sha256_of(file)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise EvidenceMissing(digest) from exc
        if f"sha256:{actual}" != digest:
            logger.error("evidence %s fails its digest check (now sha256:%s)", digest, actual)
            raise EvidenceCorrupted(digest)
        return path


class _TempUpload:
    """One upload's temporary file and running hash.

    `write`, `finish` and `commit` run in worker threads. A cancelled
    `await asyncio.to_thread(...)` does not stop its thread, so `discard` (called on the event
    loop) takes the same lock as the workers: it waits for the step in flight (one block write,
    or a commit) instead of closing the file under it, and it cannot undo a commit that already
    happened.
    """

    def __init__(self, path: Path, file: BinaryIO) -> None:
        self.path = path
        self._file: BinaryIO | None = file
        self._hash = hashlib.sha256()
        self._lock = threading.Lock()
        self._committed = False

    @classmethod
    def create(cls, tmp_dir: Path) -> _TempUpload:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-", suffix=".part")
        return cls(Path(name), os.fdopen(fd, "wb"))

    def write(self, *parts: bytes | bytearray) -> None:
        with self._lock:
            if self._file is None:
                return
            for part in parts:
                self._hash.update(part)
                self._file.write(part)

    def finish(self) -> str:
        """Flush and sync the file to disk, close it and return the hex digest."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
            return self._hash.hexdigest()

    def commit(self, target: Path) -> None:
        """Move the file to `target`, or drop it if an intact copy is already there."""
        with self._lock:
            if self._committed:
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            if _is_intact(target):
                self.path.unlink()
            else:
                # Stored files are never modified; read-only makes an accidental write fail.
                self.path.chmod(0o400)
                # A copy that is missing or damaged is replaced: re-uploading repairs it.
                os.replace(self.path, target)
                _fsync_directory(target.parent)
            self._committed = True

    def discard(self) -> None:
        """Close and delete the temporary file unless it was committed; safe to repeat."""
        with self._lock:
            if self._file is not None:
                # Closing flushes, which fails on a full disk; the file is going anyway, and
                # the error that brought us here is the one to report.
                with contextlib.suppress(OSError):
                    self._file.close()
                self._file = None
            if self._committed:
                return
            try:
                self.path.unlink(missing_ok=True)
            except OSError:
                logger.warning("could not delete the partial upload %s", self.path, exc_info=True)


def _sha256_of(file: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := file.read(_READ_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def _is_intact(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return _sha256_of(file) == path.name
    except FileNotFoundError:
        return False


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. POSIX only: Windows cannot open a directory this way.
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Filenames ------------------------------------------------------------------------------------

_FALLBACK_FILENAME = "evidence"
_MAX_FILENAME_LENGTH = 120
_MAX_EXTENSION_LENGTH = 16
_FILENAME_PUNCTUATION = frozenset(" ._-()+")
_ASCII_FILENAME = re.compile(r"[A-Za-z0-9 ._()+-]")
_DOT_RUN = re.compile(r"[ .]*\.[ .]*")


def sanitise_filename(name: str | None) -> str:
    """Reduce a client-supplied filename to safe, displayable metadata.

    Keeps the last path component (``/`` and ``\\`` both count as separators), NFC-normalised,
    with only letters, combining marks, digits, spaces and ``._-()+``. Whitespace runs become
    one space, a run of dots and spaces becomes one dot, and the name neither starts nor ends
    with a dot or space. The result is at most 120 characters, keeps a short extension when it
    must be shortened, and is never empty (``"evidence"``, or ``"evidence.pdf"`` when only the
    extension survives). Applying it twice changes nothing. The name is never used as a path on
    the server.
    """
    parts = [part for part in re.split(r"[/\\]", name or "") if part]
    base = unicodedata.normalize("NFC", parts[-1] if parts else "")

    # A stem made only of dropped characters ("🎉.pdf") keeps its extension; a name that starts
    # with a dot (".htaccess") has no stem and is cleaned whole.
    raw_stem, _, raw_extension = base.rpartition(".")
    if raw_stem and not _clean_filename(raw_stem):
        extension = _clean_filename(raw_extension)
        if _is_extension(extension):
            return f"{_FALLBACK_FILENAME}.{extension}"

    stem, suffix = _split_extension(_clean_filename(base))
    stem = stem[: _MAX_FILENAME_LENGTH - len(suffix)].rstrip(". ")
    return (stem or _FALLBACK_FILENAME) + suffix


def _clean_filename(text: str) -> str:
    kept = "".join(_filename_char(char) for char in text)
    # Dropping a character can bring two others together that NFC composes.
    collapsed = " ".join(unicodedata.normalize("NFC", kept).split())
    # With no space or second dot beside any dot, every split at a dot gives a clean stem and
    # extension, which is what makes `sanitise_filename` idempotent.
    return _DOT_RUN.sub(".", collapsed).strip(". ")


def _is_extension(text: str) -> bool:
    return 0 < len(text) <= _MAX_EXTENSION_LENGTH and " " not in text


def _split_extension(name: str) -> tuple[str, str]:
    """Split a clean ``"a.b.pdf"`` into ``("a.b", ".pdf")``; a long or spaced tail is not one."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not _is_extension(extension):
        return name, ""
    return stem, f".{extension}"


def _filename_char(char: str) -> str:
    if char in _FILENAME_PUNCTUATION:
        return char
    if char.isspace():
        return " "
    category = unicodedata.category(char)
    # Letters, combining marks (scripts such as Devanagari need them) and decimal digits;
    # this also drops control and format characters (e.g. U+202E, which reverses display).
    if category[0] in "LM" or category == "Nd":
        return char
    return ""


def content_disposition(filename: str) -> str:
    """Build an ``attachment`` Content-Disposition value for `filename` (RFC 6266, RFC 5987).

    The name is sanitised again, so no quote or line break can reach the header. ``filename``
    carries an ASCII approximation for old clients; ``filename*`` the exact UTF-8 name.
    """
    name = sanitise_filename(filename)
    stem, suffix = _split_extension(name)
    ascii_stem = _clean_filename(_to_ascii(stem)) or _FALLBACK_FILENAME
    fallback = sanitise_filename(ascii_stem + _to_ascii(suffix))
    encoded = urllib.parse.quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _to_ascii(text: str) -> str:
    # NFKD splits accented letters into base letter and mark, so "é" falls back to "e".
    return "".join(c for c in unicodedata.normalize("NFKD", text) if _ASCII_FILENAME.fullmatch(c))
