"""The global node's technical teams, one per United Nations language (§26b).

A reviewer's teams are the UN languages among the languages of their account, by primary
subtag (`fr-CA` is in the French team): the administrator who records what a reviewer works in
also places them in the teams, with nothing else to keep in step. A national node reads the same
field as advice only (reviewers who share a language with the city come first).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

UnLanguage = Literal["ar", "zh", "en", "fr", "ru", "es"]
# Arabic, Chinese, English, French, Russian, Spanish: the order the UN lists them in.
UN_LANGUAGES: Final[tuple[str, ...]] = get_args(UnLanguage)


def primary_subtag(tag: str) -> str:
    return tag.split("-")[0].lower()


def teams_of(languages: Iterable[str]) -> list[str]:
    """The UN language teams of someone working in `languages`, in the UN's order."""
    spoken = {primary_subtag(tag) for tag in languages}
    return [language for language in UN_LANGUAGES if language in spoken]


def first_un_language(languages: Iterable[str]) -> str | None:
    """The first of `languages` (in their own order: a city lists its main language first)
    that is a UN language, or None."""
    for tag in languages:
        if primary_subtag(tag) in UN_LANGUAGES:
            return primary_subtag(tag)
    return None
