"""Client filenames become safe metadata and a safe attachment header."""

from __future__ import annotations

import unicodedata
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdgcities.node.evidence import content_disposition, sanitise_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\report.pdf", "report.pdf"),
        ("..\\..\\windows\\system32\\evil.exe", "evil.exe"),
        ("/var/www/", "www"),
        (".htaccess", "htaccess"),
        ("...hidden..pdf", "hidden.pdf"),
        ("re\x00po\x1brt\x7f.pdf", "report.pdf"),
        ("line\nbreak\r\n.txt", "line break.txt"),
        ("budget\u202egpj.exe", "budgetgpj.exe"),
        ('quote" and; semicolon.pdf', "quote and semicolon.pdf"),
        ("  spaced \t  out  .txt", "spaced out.txt"),
        ("report (final) v2+notes_2024-03.docx", "report (final) v2+notes_2024-03.docx"),
        ("📊 Budget 2024 🎉.xlsx", "Budget 2024.xlsx"),
        ("e\u0301tude.odt", "\u00e9tude.odt"),
        ("Informe de gestión.pdf", "Informe de gestión.pdf"),
        ("रिपोर्ट.pdf", "रिपोर्ट.pdf"),
        ("報告書.csv", "報告書.csv"),
        (None, "evidence"),
        ("", "evidence"),
        ("....", "evidence"),
        ("///", "evidence"),
        ("🎉🎉.pdf", "evidence.pdf"),
        ("report.", "report"),
        ("notes. txt", "notes.txt"),
        ("a .. b.pdf", "a.b.pdf"),
        ("🎉. 🎉 .pdf", "evidence.pdf"),
        ("archive.tar.gz", "archive.tar.gz"),
        (".config.json", "config.json"),
    ],
)
def test_sanitise_filename(name: str | None, expected: str) -> None:
    assert sanitise_filename(name) == expected


def test_long_name_is_cut_keeping_its_extension() -> None:
    name = sanitise_filename("a" * 500 + ".pdf")
    assert name == "a" * 116 + ".pdf"


def test_long_name_without_extension_is_cut() -> None:
    assert sanitise_filename("b" * 500) == "b" * 120


def test_long_suffix_is_not_treated_as_an_extension() -> None:
    name = sanitise_filename("c" * 200 + "." + "d" * 40)
    assert len(name) == 120
    assert name == "c" * 120


ALLOWED_PUNCTUATION = set(" ._-()+")


@given(st.one_of(st.none(), st.text()))
def test_sanitised_names_are_safe_and_stable(name: str | None) -> None:
    result = sanitise_filename(name)

    assert result
    assert len(result) <= 120
    assert not result.startswith(".")
    assert result == result.strip()
    assert "  " not in result
    assert all(
        char in ALLOWED_PUNCTUATION or unicodedata.category(char)[0] in "LMN" for char in result
    )
    assert sanitise_filename(result) == result


def test_content_disposition_for_a_non_ascii_name() -> None:
    assert content_disposition("Informe de gestión.pdf") == (
        'attachment; filename="Informe de gestion.pdf"; '
        "filename*=UTF-8''Informe%20de%20gesti%C3%B3n.pdf"
    )


def test_content_disposition_when_nothing_is_ascii() -> None:
    assert content_disposition("報告書.pdf") == (
        "attachment; filename=\"evidence.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.pdf"
    )


def test_content_disposition_sanitises_again() -> None:
    value = content_disposition('evil"\r\nSet-Cookie: x=1.pdf')
    assert value == (
        'attachment; filename="evil Set-Cookie x1.pdf"; '
        "filename*=UTF-8''evil%20Set-Cookie%20x1.pdf"
    )


@given(st.text())
def test_content_disposition_is_a_safe_header_value(name: str) -> None:
    value = content_disposition(name)

    assert value.isascii()
    assert "\r" not in value
    assert "\n" not in value
    prefix, fallback, encoded = value.split("; ")
    assert prefix == "attachment"
    assert fallback.startswith('filename="')
    assert fallback.endswith('"')
    assert '"' not in fallback[len('filename="') : -1]
    assert "\\" not in fallback
    assert encoded.startswith("filename*=UTF-8''")
    assert urllib.parse.unquote(encoded.removeprefix("filename*=UTF-8''")) == sanitise_filename(
        name
    )
