"""The site's messages: what the templates and `N_()` mark, against each language's catalogue.

    python -m sdgcities.node.web.messages missing         # what each language lacks
    python -m sdgcities.node.web.messages add AREA        # add the missing ones to AREA.po
    python -m sdgcities.node.web.messages fill AREA FILE  # translations from JSON into AREA.po

`add` appends the missing messages, with an empty translation, to `locales/<lang>/AREA.po` for
every language but English; translate them there. `fill` reads
`{"fr": {"msgid": "translation", ...}, "ar": {...}}` and writes each translation into
`locales/<lang>/AREA.po`, adding the message if it is not there yet.
`tests/node/web/test_catalogues.py` fails on any message that is missing, untranslated or fuzzy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .i18n import BY_CODE, LANGUAGES, SOURCE_LANGUAGE, read_catalogue

_METHODS: Final = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
_KEYWORDS: Final = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def site_folder() -> Path:
    return Path(__file__).parent


def marked_messages() -> dict[str, list[str]]:
    """Every message the site marks, with where (file:line)."""
    found: dict[str, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        site_folder(),
        method_map=_METHODS,
        keywords=_KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{line}")
    return found


def missing(code: str) -> list[str]:
    """Marked messages the language's catalogue lacks, leaves untranslated or marks fuzzy."""
    catalogue = read_catalogue(code)
    lacking = []
    for msgid in marked_messages():
        message = catalogue.get(msgid)
        if message is None or message.fuzzy or not message.string:
            lacking.append(msgid)
        elif isinstance(message.string, tuple) and not all(message.string):
            lacking.append(msgid)
    return lacking


def add_missing(area: str) -> None:
    for language in LANGUAGES:
        if language is SOURCE_LANGUAGE:
            continue
        path, catalogue = _area_catalogue(area, language.code)
        known = read_catalogue(language.code)
        for msgid in missing(language.code):
            if msgid not in catalogue and known.get(msgid) is None:
                catalogue.add(msgid, "")
        _write(path, catalogue)


def _area_catalogue(area: str, code: str) -> tuple[Path, Catalog]:
    language = BY_CODE[code]
    path = site_folder() / "locales" / code / f"{area}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as po:
            return path, read_po(po, locale=language.locale)
    return path, Catalog(locale=language.locale, project="SDG Cities", fuzzy=False)


def _write(path: Path, catalogue: Catalog) -> None:
    with path.open("wb") as po:
        write_po(po, catalogue, width=100, sort_output=True)


def fill(area: str, translations_by_language: dict[str, dict[str, str]]) -> None:
    for code, translated in translations_by_language.items():
        path, catalogue = _area_catalogue(area, code)
        for msgid, msgstr in translated.items():
            existing = catalogue.get(msgid)
            if existing is None:
                catalogue.add(msgid, msgstr)
            else:
                # Babel's `catalogue[msgid] = ...` keeps the old translation of a known message.
                existing.string = msgstr
                existing.flags.discard("fuzzy")
        _write(path, catalogue)


def main(argv: list[str]) -> int:
    if argv[:1] == ["missing"]:
        total = 0
        for language in LANGUAGES:
            if language is not SOURCE_LANGUAGE:
                lacking = missing(language.code)
                total += len(lacking)
                for msgid in lacking:
                    print(f"{language.code}\t{msgid}")
        return 1 if total else 0
    if len(argv) == 3 and argv[0] == "fill":
        fill(argv[1], json.loads(Path(argv[2]).read_text(encoding="utf-8")))
        return 0
    if len(argv) == 2 and argv[0] == "add":
        add_missing(argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
