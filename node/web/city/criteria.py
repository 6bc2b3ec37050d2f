"""A criterion in the reader's language, by the rules of `frameworks.translations`.

A framework's own translation first (official); then, for a criterion still worded as the global
baseline, the baseline's packaged translation (unofficial); otherwise the framework's own text,
marked with its language.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdgcities.node.frameworks import Criterion
from sdgcities.node.frameworks.translations import phrasebook


@dataclass(frozen=True)
class CriterionText:
    text: str
    evidence_expected: tuple[str, ...]
    # True when the words are an unofficial translation of the baseline (the page says so).
    unofficial: bool = False
    # The language they are in, when it is not the one asked for (the page marks the passage).
    written_in: str | None = None


def criterion_in(
    criterion: Criterion, language: str, *, framework_language: str = "en"
) -> CriterionText:
    """`criterion`'s text and evidence expected in `language`, as well as the framework allows."""
    if language == framework_language:
        return CriterionText(text=criterion.text, evidence_expected=criterion.evidence_expected)
    own = criterion.translations.get(language)
    if own is not None:
        return CriterionText(text=own.text, evidence_expected=own.evidence_expected)
    # The packaged translations are of the baseline's English, text for text.
    words = phrasebook(language) if framework_language == "en" else {}
    text = words.get(criterion.text)
    evidence = tuple(words.get(item) for item in criterion.evidence_expected)
    if text is not None and all(item is not None for item in evidence):
        return CriterionText(
            text=text,
            evidence_expected=tuple(item for item in evidence if item is not None),
            unofficial=True,
        )
    return CriterionText(
        text=criterion.text,
        evidence_expected=criterion.evidence_expected,
        written_in=framework_language,
    )
