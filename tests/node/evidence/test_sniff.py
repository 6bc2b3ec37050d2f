"""`detect_media_type` judges by bytes only: allowed types pass, everything else is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgcities.node.evidence import EvidenceTypeNotAllowed, MediaType, detect_media_type

from . import samples

ALLOWED = [
    pytest.param(samples.PDF, MediaType.PDF, id="pdf"),
    pytest.param(samples.png(), MediaType.PNG, id="png"),
    pytest.param(samples.JPEG, MediaType.JPEG, id="jpeg"),
    pytest.param(samples.docx(), MediaType.DOCX, id="docx"),
    pytest.param(samples.xlsx(), MediaType.XLSX, id="xlsx"),
    pytest.param(samples.odt(), MediaType.ODT, id="odt"),
    pytest.param(samples.CSV_COMMA, MediaType.CSV, id="csv-comma"),
    pytest.param(samples.CSV_SEMICOLON, MediaType.CSV, id="csv-semicolon"),
    pytest.param(samples.CSV_TAB, MediaType.CSV, id="csv-tab"),
    pytest.param(b'name,note\n"Lagos","a, b"\n"Accra","c"\n', MediaType.CSV, id="csv-quoted"),
    pytest.param(samples.TEXT, MediaType.TEXT, id="text"),
    pytest.param(samples.TEXT_UNICODE, MediaType.TEXT, id="text-unicode"),
    pytest.param(samples.TEXT_WITH_BOM, MediaType.TEXT, id="text-bom"),
    pytest.param(b"Page 1\x0cPage 2\n", MediaType.TEXT, id="text-form-feed"),
    pytest.param(b"a,b\n", MediaType.TEXT, id="one-csv-line-is-text"),
    pytest.param(b"Hello, world.\nNo comma here\n", MediaType.TEXT, id="prose-with-a-comma"),
    pytest.param(b"<5 years: 12%\n", MediaType.TEXT, id="text-starting-with-less-than"),
]

REFUSED = [
    pytest.param(samples.ELF, "binary content", id="elf"),
    pytest.param(samples.WINDOWS_EXE, "binary content", id="windows-exe"),
    pytest.param(samples.GIF, "binary content", id="gif"),
    pytest.param(b"abc\x00def\n", "binary content", id="text-with-nul"),
    pytest.param(b"abc\x1b[31mred\n", "binary content", id="text-with-escape"),
    pytest.param("caf\u0085\n".encode(), "binary content", id="text-with-c1-control"),
    pytest.param("Informe de gestión\n".encode("latin-1"), "binary content", id="latin-1"),
    pytest.param(b"truncated \xc3", "binary content", id="utf8-cut-at-end-of-file"),
    pytest.param(samples.HTML, "markup", id="html"),
    pytest.param(b"  \n<HTML><body>hi</body></HTML>", "markup", id="html-upper-case-indented"),
    pytest.param(b"<script>alert(1)</script>", "markup", id="script"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "markup", id="svg"),
    pytest.param(b'<?xml version="1.0"?><svg/>', "markup", id="xml-svg"),
    pytest.param(b"\xef\xbb\xbf<!-- x --><html></html>", "markup", id="html-after-bom-comment"),
    pytest.param(
        samples.zip_archive([("readme.txt", b"hello")]), "not an office document", id="zip"
    ),
    pytest.param(samples.docx(("word/vbaProject.bin", b"\x00")), "macros", id="docm"),
    pytest.param(samples.xlsx(("xl/vbaProject.bin", b"\x00")), "macros", id="xlsm"),
    pytest.param(samples.docx(("xl/workbook.xml", b"<workbook/>")), "neither", id="docx-and-xlsx"),
    pytest.param(
        samples.odt(b"application/vnd.oasis.opendocument.spreadsheet"),
        "not a text document",
        id="ods",
    ),
    pytest.param(samples.odt(stored=False), "compressed type marker", id="odt-compressed-mimetype"),
    pytest.param(b"PK\x03\x04" + bytes(100), "damaged", id="damaged-zip"),
    pytest.param(samples.docx()[:-30], "damaged", id="truncated-zip"),
]


@pytest.mark.parametrize(("content", "expected"), ALLOWED)
def test_allowed_types_are_detected(tmp_path: Path, content: bytes, expected: MediaType) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert detect_media_type(path) is expected


@pytest.mark.parametrize(("content", "reason"), REFUSED)
def test_other_content_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(EvidenceTypeNotAllowed, match=reason) as caught:
        detect_media_type(path)
    assert "PDF, PNG, JPEG, CSV, XLSX, DOCX, ODT or plain text" in str(caught.value)


def test_name_is_ignored_pdf_named_png(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(samples.PDF)
    assert detect_media_type(path) is MediaType.PDF


def test_name_is_ignored_png_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(samples.png())
    assert detect_media_type(path) is MediaType.PNG


def test_executable_named_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(samples.ELF)
    with pytest.raises(EvidenceTypeNotAllowed):
        detect_media_type(path)


def test_multibyte_character_split_by_the_text_window_is_allowed(tmp_path: Path) -> None:
    # "é" is two bytes; the 64 KiB window ends between them.
    path = tmp_path / "upload"
    path.write_bytes(b"a" * (64 * 1024 - 1) + "é and more text\n".encode())
    assert detect_media_type(path) is MediaType.TEXT


def test_only_the_first_64_kib_decide_text(tmp_path: Path) -> None:
    # Documents the bound: bytes beyond the window are not read.
    path = tmp_path / "upload"
    path.write_bytes(b"line\n" * (20 * 1024) + b"\x00\x01\x02")
    assert detect_media_type(path) is MediaType.TEXT


def test_large_csv_is_judged_on_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b"year,value\n" + b"2024,123456789\n" * 10_000)
    assert detect_media_type(path) is MediaType.CSV


def test_zip_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(samples.zip_archive([(f"f{i}", b"") for i in range(10_001)]))
    with pytest.raises(EvidenceTypeNotAllowed, match="more than 10000 entries"):
        detect_media_type(path)


def test_zip_understating_its_entry_count_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(samples.zip_understating_its_count(12_000))
    with pytest.raises(EvidenceTypeNotAllowed, match="more than 10000 entries"):
        detect_media_type(path)


def test_zip64_record_claiming_many_entries_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(samples.zip_with_zip64_count(5_000_000))
    with pytest.raises(EvidenceTypeNotAllowed, match="more than 10000 entries"):
        detect_media_type(path)


def test_zip_with_huge_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    members = [(f"{i:04d}" + "x" * 2000, b"") for i in range(600)]
    path.write_bytes(samples.zip_archive(members))
    with pytest.raises(EvidenceTypeNotAllowed, match="directory is too large"):
        detect_media_type(path)


def test_media_type_values_are_mime_types() -> None:
    assert str(MediaType.PDF) == "application/pdf"
    assert f"{MediaType.TEXT}" == "text/plain"
    assert MediaType.ODT.label == "ODT"
    assert MediaType.TEXT.label == "plain text"
