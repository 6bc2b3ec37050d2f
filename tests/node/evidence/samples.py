"""Small real files of every allowed type and of the kinds that must be refused.

Built in code rather than checked in, so each test shows exactly which bytes decide the type.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
    b"trailer <</Root 1 0 R>>\n"
    b"%%EOF\n"
)

JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"  # SOI, APP0
    b"\xff\xd9"  # EOI
)

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(40)
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"

CSV_COMMA = b"city,country,population\nNairobi,KE,4397073\nQuito,EC,2800388\nPune,IN,7276000\n"
CSV_SEMICOLON = b"ville;pays;population\nDakar;SN;1438725\nLyon;FR;522250\n"
CSV_TAB = b"indicator\tbaseline\ttarget\n11.1.1\t34\t20\n11.6.1\t52\t80\n"
TEXT = b"Self-assessment notes\n\nThe municipal budget was approved in March.\n"
TEXT_UNICODE = "Informe de gestión 2024 — São Paulo, Zürich, 北京\r\n".encode()
TEXT_WITH_BOM = b"\xef\xbb\xbf" + TEXT

HTML = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n"


def png() -> bytes:
    """A valid 1x1 red PNG: signature, IHDR, IDAT and IEND with real CRCs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def zip_archive(members: list[tuple[str, bytes]], *, stored: set[str] | None = None) -> bytes:
    """A ZIP archive of `members` in order; names in `stored` are not compressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            method = zipfile.ZIP_STORED if name in (stored or set()) else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


def docx(*extra: tuple[str, bytes]) -> bytes:
    return zip_archive(
        [
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
            *extra,
        ]
    )


def xlsx(*extra: tuple[str, bytes]) -> bytes:
    return zip_archive(
        [
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", b"<Relationships/>"),
            ("xl/workbook.xml", b"<workbook/>"),
            *extra,
        ]
    )


def odt(
    mimetype: bytes = b"application/vnd.oasis.opendocument.text", *, stored: bool = True
) -> bytes:
    return zip_archive(
        [
            ("mimetype", mimetype),
            ("META-INF/manifest.xml", b"<manifest:manifest/>"),
            ("content.xml", b"<office:document-content/>"),
        ],
        stored={"mimetype"} if stored else set(),
    )


def zip_with_zip64_count(entries: int) -> bytes:
    """A small archive whose ZIP64 end record claims `entries` entries.

    `zipfile` trusts a ZIP64 locator wherever it finds one, so a sniffer that only looked at
    the classic end record would miss the claim.
    """
    data = docx()
    end = data.rfind(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack_from("<LL", data, end + 12)
    record = struct.pack(
        "<4sQ2H2L4Q",
        b"PK\x06\x06",
        44,
        45,
        45,
        0,
        0,
        entries,
        entries,
        directory_size,
        directory_offset,
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    return data[:end] + record + locator + data[end:]


def zip_understating_its_count(entries: int) -> bytes:
    """An archive of `entries` empty members whose end record claims just one."""
    data = zip_archive([(f"f{index}", b"") for index in range(entries)])
    end = data.rfind(b"PK\x05\x06")
    return data[: end + 8] + struct.pack("<HH", 1, 1) + data[end + 12 :]
