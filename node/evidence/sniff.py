"""Decide an evidence file's type from its bytes alone.

A file's name and the client's declared content type are both attacker-chosen, so neither is
consulted: a PDF renamed ``.png`` is a PDF, and an executable called ``report.pdf`` is refused.
Only types a reviewer can open safely are allowed (`MediaType`); anything else raises
`EvidenceTypeNotAllowed`.

Every check is bounded, whatever the file's size: magic numbers and text come from the first
64 KiB, and ZIP-based formats are judged from the archive's directory (entry count and size
checked from the end record before `zipfile` parses anything), never by extracting members.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from .errors import EvidenceTypeNotAllowed

__all__ = ["MediaType", "detect_media_type"]


class MediaType(StrEnum):
    """The allowed evidence types; each value is the MIME type the file is served with."""

    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    CSV = "text/csv"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ODT = "application/vnd.oasis.opendocument.text"
    TEXT = "text/plain"

    @property
    def label(self) -> str:
        """The name people know the type by, as used in error messages."""
        return "plain text" if self is MediaType.TEXT else self.name


ALLOWED_LABELS = tuple(media_type.label for media_type in MediaType)

_TEXT_WINDOW = 64 * 1024
_PDF_MAGIC = b"%PDF-"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_ZIP_LOCAL_HEADER = b"PK\x03\x04"

# A real DOCX, XLSX or ODT has tens to a few hundred entries and a directory of a few KiB. The
# limits stop an archive whose directory alone would cost the server a lot of memory: `zipfile`
# builds one object per directory entry it finds, whatever count the end record claims, so the
# directory's size is capped as well as the count (1 MiB holds 10,000 entries of ordinary names).
_MAX_ZIP_ENTRIES = 10_000
_MAX_ZIP_DIRECTORY_BYTES = 1024 * 1024

_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"

# C0 controls other than tab, LF, FF and CR; DEL; the C1 controls.
_FORBIDDEN_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Text that opens like markup (HTML, SVG, XML, script, a comment) could be rendered by a browser,
# so it is refused rather than stored as plain text.
_MARKUP_START = re.compile(r"\s*<[a-zA-Z!?/]")

_CSV_DELIMITERS = ",;\t"
_CSV_SAMPLE_LINES = 20


def _refuse(reason: str) -> EvidenceTypeNotAllowed:
    return EvidenceTypeNotAllowed(allowed=ALLOWED_LABELS, reason=reason)


def detect_media_type(path: Path) -> MediaType:
    """Return the type of the file at `path`, judged by its content only.

    Raises `EvidenceTypeNotAllowed` for anything that is not an allowed type, and `OSError`
    if the file cannot be read. Blocking: call it from a worker thread in async code.
    """
    with path.open("rb") as file:
        head = file.read(_TEXT_WINDOW)
        truncated = bool(file.read(1))
        if head.startswith(_PDF_MAGIC):
            return MediaType.PDF
        if head.startswith(_PNG_MAGIC):
            return MediaType.PNG
        if head.startswith(_JPEG_MAGIC):
            return MediaType.JPEG
        if head.startswith(_ZIP_LOCAL_HEADER):
            return _detect_zip(file)
    return _detect_text(head, truncated=truncated)


def _detect_zip(file: BinaryIO) -> MediaType:
    entries, directory_size = _zip_directory_extent(file)
    if entries > _MAX_ZIP_ENTRIES:
        raise _refuse(f"archive has more than {_MAX_ZIP_ENTRIES} entries")
    if directory_size > _MAX_ZIP_DIRECTORY_BYTES:
        raise _refuse("archive directory is too large")
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return _classify_archive(archive)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise _refuse("damaged or unsupported archive") from exc


def _zip_directory_extent(file: BinaryIO) -> tuple[int, int]:
    """Read the entry count and directory size from the archive's end records.

    `zipfile` loads the whole central directory and builds an object per entry as soon as it
    opens an archive, so these are checked first, from at most 64 KiB at the end of the file.
    """
    end_record = struct.Struct("<4s4H2LH")
    size = file.seek(0, io.SEEK_END)
    tail_start = max(0, size - (end_record.size + 0xFFFF))
    file.seek(tail_start)
    tail = file.read()
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or len(tail) - position < end_record.size:
        raise _refuse("damaged or unsupported archive")
    _, _, _, _, entries, directory_size, _, _ = end_record.unpack_from(tail, position)

    # A ZIP64 locator just before the end record overrides its figures, in `zipfile` as in the
    # format, so its record is read whenever the locator is there, not only when the end record
    # says so; the larger figures count.
    locator = struct.Struct("<4sLQL")
    locator_position = position - locator.size
    if locator_position < 0 or tail[locator_position : locator_position + 4] != b"PK\x06\x07":
        if entries == 0xFFFF or directory_size == 0xFFFFFFFF:
            raise _refuse("damaged or unsupported archive")
        return entries, directory_size
    _, _, record_offset, _ = locator.unpack_from(tail, locator_position)
    zip64_record = struct.Struct("<4sQ2H2L4Q")
    file.seek(record_offset)
    record = file.read(zip64_record.size)
    if len(record) != zip64_record.size or not record.startswith(b"PK\x06\x06"):
        raise _refuse("damaged or unsupported archive")
    fields = zip64_record.unpack(record)
    return max(entries, int(fields[7])), max(directory_size, int(fields[8]))


def _classify_archive(archive: zipfile.ZipFile) -> MediaType:
    members = archive.infolist()
    if len(members) > _MAX_ZIP_ENTRIES:
        raise _refuse(f"archive has more than {_MAX_ZIP_ENTRIES} entries")
    names = {member.filename for member in members}

    first = members[0] if members else None
    if first is not None and first.filename == "mimetype":
        # ODF requires the type to be the first member, stored uncompressed, so reading it
        # cannot inflate anything.
        if first.compress_type != zipfile.ZIP_STORED:
            raise _refuse("OpenDocument file with a compressed type marker")
        with archive.open(first) as member:
            if member.read(len(_ODT_MIMETYPE) + 1) != _ODT_MIMETYPE:
                raise _refuse("OpenDocument file that is not a text document")
        return MediaType.ODT

    if "[Content_Types].xml" not in names:
        raise _refuse("archive that is not an office document")
    # Macro-enabled variants (.docm, .xlsm) carry the same parts plus a VBA project; they are
    # not DOCX or XLSX and could run code on a reviewer's machine.
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _refuse("office document with macros")
    is_docx = "word/document.xml" in names
    is_xlsx = "xl/workbook.xml" in names
    if is_docx and not is_xlsx:
        return MediaType.DOCX
    if is_xlsx and not is_docx:
        return MediaType.XLSX
    raise _refuse("office document that is neither a DOCX nor an XLSX")


def _detect_text(head: bytes, *, truncated: bool) -> MediaType:
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    # When the window cut the file short, the last character may be split across the cut; an
    # incremental decoder that is not told the input is final keeps those bytes back instead of
    # failing. A split at the real end of the file is still an error.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        text = decoder.decode(head, final=not truncated)
    except UnicodeDecodeError as exc:
        raise _refuse("binary content") from exc
    if _FORBIDDEN_CONTROLS.search(text):
        raise _refuse("binary content")
    if _MARKUP_START.match(text):
        raise _refuse("HTML or other markup")
    return MediaType.CSV if _looks_like_csv(text, truncated=truncated) else MediaType.TEXT


def _looks_like_csv(text: str, *, truncated: bool) -> bool:
    """True when the first lines share one delimiter and one column count of at least two."""
    if truncated:
        # The last line may be cut short; judge only whole lines.
        text = text[: text.rfind("\n") + 1]
    sample = "".join(islice(io.StringIO(text), _CSV_SAMPLE_LINES))
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS)
        rows = [
            row
            for row in islice(csv.reader(io.StringIO(sample), dialect), _CSV_SAMPLE_LINES)
            if row
        ]
    except csv.Error:
        return False
    if dialect.delimiter not in _CSV_DELIMITERS or len(rows) < 2:
        return False
    columns = len(rows[0])
    return columns >= 2 and all(len(row) == columns for row in rows)
