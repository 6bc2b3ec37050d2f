"""Every message the pages show is translated into the five other UN languages."""

from __future__ import annotations

import pytest

from sdgcities.node.web.i18n import LANGUAGES, SOURCE_LANGUAGE, read_catalogue
from sdgcities.node.web.messages import marked_messages, missing

TRANSLATED = [language for language in LANGUAGES if language is not SOURCE_LANGUAGE]


def test_the_site_marks_messages() -> None:
    # Guards against an extraction that finds nothing and lets the tests below pass vacuously.
    assert "Verify a certificate" in marked_messages()


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_no_message_is_missing_untranslated_or_fuzzy(language) -> None:  # type: ignore[no-untyped-def]
    lacking = missing(language.code)
    assert lacking == [], (
        f"{len(lacking)} message(s) lack a {language.code} translation; run "
        "`python -m sdgcities.node.web.messages add AREA` and translate them"
    )


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_translations_keep_their_placeholders(language) -> None:  # type: ignore[no-untyped-def]
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in read_catalogue(language.code).check()
        for error in errors
    ]
    assert problems == []
