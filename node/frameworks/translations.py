"""A framework document in a reader's language, for pages and reports.

Two sources of translation, in this order:
- the framework's own translations (`Criterion.translations`, stored by the API): official, the
  publisher's words;
- for the global baseline's text, the packaged translations `data/baseline-v1.<lang>.json`:
  unofficial translations of the report's English, keyed by criterion code and stage key. A
  national framework that keeps a baseline text word for word gets its translation too.
Text that neither covers is shown as written, in the framework's own language, and says so.

A translation file names the digest of the baseline it translates, so a new baseline cannot be
shown with the old one's translations (the tests check every file against the baseline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .baseline import BASELINE_FILE, load_baseline
from .document import FrameworkDocument, StageKey

_PACKAGE: Final = __name__.rpartition(".")[0]
TRANSLATED_LANGUAGES: Final = ("ar", "es", "fr", "ru", "zh")


class _Strict(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, alias_generator=to_camel
    )


class StageTranslation(_Strict):
    name: str = Field(min_length=1)
    lead: str = Field(min_length=1)


class CriterionTranslation(_Strict):
    text: str = Field(min_length=1)
    evidence_expected: tuple[str, ...] = Field(min_length=1)


class GlossaryTranslation(_Strict):
    term: str = Field(min_length=1)
    definition: str = Field(min_length=1)


class BaselineTranslation(_Strict):
    """`data/baseline-v1.<lang>.json`: the baseline's visible text in one language."""

    language: str
    framework: str
    version: str
    source_digest: str
    title: str = Field(min_length=1)
    stages: dict[StageKey, StageTranslation]
    criteria: dict[str, CriterionTranslation]
    indicators: dict[str, str]
    glossary: dict[str, GlossaryTranslation]


def translation_file(language: str) -> str:
    return BASELINE_FILE.replace(".json", f".{language}.json")


@cache
def baseline_translation(language: str) -> BaselineTranslation | None:
    """The packaged translation of the baseline into `language`, if there is one."""
    if language not in TRANSLATED_LANGUAGES:
        return None
    data = (resources.files(_PACKAGE) / "data" / translation_file(language)).read_bytes()
    return BaselineTranslation.model_validate_json(data)


@cache
def phrasebook(language: str) -> Mapping[str, str]:
    """Each text of the baseline, as written, with its translation into `language`."""
    translation = baseline_translation(language)
    baseline = load_baseline()
    if translation is None or translation.source_digest != baseline.digest:
        return {}
    pairs = {baseline.title: translation.title}
    for stage in baseline.stages:
        stage_text = translation.stages[stage.key]
        pairs[stage.name], pairs[stage.lead] = stage_text.name, stage_text.lead
        for criterion in stage.criteria:
            text = translation.criteria[criterion.code]
            pairs[criterion.text] = text.text
            pairs.update(zip(criterion.evidence_expected, text.evidence_expected, strict=True))
            for indicator in criterion.indicators:
                pairs[indicator.name] = translation.indicators[indicator.code]
    for entry in baseline.glossary:
        glossary = translation.glossary[entry.term]
        pairs[entry.term], pairs[entry.definition] = glossary.term, glossary.definition
    return pairs


@dataclass(frozen=True)
class Shown:
    """A text as shown: its words, the language they are in, and whose translation it is."""

    text: str
    language: str
    unofficial: bool = False  # a translation of the report's text by this project


@dataclass(frozen=True)
class ShownIndicator:
    code: str
    name: Shown
    source: str


@dataclass(frozen=True)
class ShownCriterion:
    code: str
    source: str | None
    national: bool
    text: Shown
    evidence_expected: tuple[Shown, ...]
    indicators: tuple[ShownIndicator, ...]


@dataclass(frozen=True)
class ShownStage:
    key: StageKey
    letter: str
    level: str
    validity_years: int
    name: Shown
    lead: Shown
    criteria: tuple[ShownCriterion, ...]


@dataclass(frozen=True)
class ShownGlossaryEntry:
    term: Shown
    definition: Shown
    source: str


@dataclass(frozen=True)
class ShownFramework:
    """A framework document in the reader's language, as far as translations go."""

    language: str  # the reader's
    own_language: str  # the framework's
    title: Shown
    stages: tuple[ShownStage, ...]
    glossary: tuple[ShownGlossaryEntry, ...]

    def _texts(self) -> list[Shown]:
        texts = [self.title]
        for stage in self.stages:
            texts += [stage.name, stage.lead]
            for criterion in stage.criteria:
                texts += [criterion.text, *criterion.evidence_expected]
                texts += [indicator.name for indicator in criterion.indicators]
        for entry in self.glossary:
            texts += [entry.term, entry.definition]
        return texts

    @property
    def has_unofficial(self) -> bool:
        """Some text is this project's translation of the report, not the publisher's."""
        return any(text.unofficial for text in self._texts())

    @property
    def has_untranslated(self) -> bool:
        """Some text is shown in the framework's own language, not the reader's."""
        return any(text.language != self.language for text in self._texts())


def in_language(document: FrameworkDocument, *, language: str) -> ShownFramework:
    """`document` as a reader of `language` sees it (see the module docstring)."""
    own = document.language
    words = phrasebook(language) if own == "en" and language != own else {}

    def show(text: str) -> Shown:
        if language == own:
            return Shown(text, own)
        translated = words.get(text)
        if translated is not None:
            return Shown(translated, language, unofficial=True)
        return Shown(text, own)

    stages = []
    for stage in document.stages:
        criteria = []
        for criterion in stage.criteria:
            official = criterion.translations.get(language)
            if official is not None and language != own:
                text = Shown(official.text, language)
                evidence = tuple(Shown(item, language) for item in official.evidence_expected)
            else:
                text = show(criterion.text)
                evidence = tuple(show(item) for item in criterion.evidence_expected)
            criteria.append(
                ShownCriterion(
                    code=criterion.code,
                    source=criterion.source,
                    national=criterion.national,
                    text=text,
                    evidence_expected=evidence,
                    indicators=tuple(
                        ShownIndicator(indicator.code, show(indicator.name), indicator.source)
                        for indicator in criterion.indicators
                    ),
                )
            )
        stages.append(
            ShownStage(
                key=stage.key,
                letter=stage.letter,
                level=stage.level,
                validity_years=stage.validity_years,
                name=show(stage.name),
                lead=show(stage.lead),
                criteria=tuple(criteria),
            )
        )
    return ShownFramework(
        language=language,
        own_language=own,
        title=show(document.title),
        stages=tuple(stages),
        glossary=tuple(
            ShownGlossaryEntry(show(entry.term), show(entry.definition), entry.source)
            for entry in document.glossary
        ),
    )
