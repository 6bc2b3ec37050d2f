"""The six UN languages of the web pages: which one a request wants, and its catalogue.

The language is the first segment of every page's path (`/fr/registry`); `/` sends a browser to
the language its `Accept-Language` prefers. Messages are gettext `.po` files under
`locales/<language>/`, one file per area of the site (`site.po`, `public.po`, ...), merged into
one catalogue per language when first used: areas are written by different people at the same
time, and separate files keep their edits apart. English is the source language (the msgids),
so it has no catalogue. `.po` files are read directly (Babel compiles them in memory), so there is
no build step and no compiled `.mo` file to forget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from io import BytesIO
from typing import Final

from babel import Locale, dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations


@dataclass(frozen=True)
class Language:
    code: str  # the URL segment and the `lang` attribute
    locale: str  # Babel's locale for dates and numbers
    name: str  # the language's own name, as the language switcher shows it
    direction: str  # "ltr" or "rtl"

    @property
    def babel_locale(self) -> Locale:
        return _babel_locale(self.locale)

    def format_date(self, value: date | datetime, *, style: str = "long") -> str:
        return dates.format_date(value, format=style, locale=self.babel_locale)

    def format_datetime(self, value: datetime, *, style: str = "medium") -> str:
        return dates.format_datetime(value, format=style, locale=self.babel_locale, tzinfo=None)

    def format_number(self, value: int | float) -> str:
        return numbers.format_decimal(value, locale=self.babel_locale)


# The six official languages of the United Nations, in the order the UN lists them.
LANGUAGES: Final = (
    Language("ar", "ar", "العربية", "rtl"),
    Language("zh", "zh_Hans_CN", "中文", "ltr"),
    Language("en", "en", "English", "ltr"),
    Language("fr", "fr", "Français", "ltr"),
    Language("ru", "ru", "Русский", "ltr"),
    Language("es", "es", "Español", "ltr"),
)
BY_CODE: Final = {language.code: language for language in LANGUAGES}
SOURCE_LANGUAGE: Final = BY_CODE["en"]
_LOCALES_PACKAGE: Final = __name__.rpartition(".")[0]


@cache
def _babel_locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


def language_of(code: str) -> Language | None:
    return BY_CODE.get(code)


def preferred_language(accept_language: str | None) -> Language:
    """The first of the `Accept-Language` header's languages (by weight) that we serve."""
    if not accept_language:
        return SOURCE_LANGUAGE
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            weighted.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(weighted):
        primary = tag.split("-")[0]
        if primary in BY_CODE:
            return BY_CODE[primary]
    return SOURCE_LANGUAGE


def catalogue_files(code: str) -> list[str]:
    folder = resources.files(_LOCALES_PACKAGE) / "locales" / code
    if not folder.is_dir():
        return []
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".po"))


def read_catalogue(code: str) -> Catalog:
    """Every area's messages for one language, as one catalogue (for the pages and the tests)."""
    merged = Catalog(locale=BY_CODE[code].locale)
    folder = resources.files(_LOCALES_PACKAGE) / "locales" / code
    for name in catalogue_files(code):
        with (folder / name).open("rb") as po:
            for message in read_po(po, locale=BY_CODE[code].locale):
                if message.id and message.id not in merged:
                    merged[message.id] = message
    return merged


@cache
def translations(code: str) -> NullTranslations:
    if code == SOURCE_LANGUAGE.code:
        return NullTranslations()
    compiled = BytesIO()
    # Fuzzy messages are left out (gettext's rule); the catalogue test fails on any anyway.
    write_mo(compiled, read_catalogue(code), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def N_(message: str) -> str:
    """Marks a message in Python code for the catalogues; a template translates it with `_()`."""
    return message
