"""The criteria framework as data: immutable pydantic models for a framework document.

A framework document is what a node certifies against (DESIGN §2): the global baseline built from
§20 to §23 of the source report, or a national adaptation of it (§26a). Every certificate names the
framework's id, version and content digest, so a document never changes once built (adapting one
returns a new document, see `adapt`), and its digest is the SHA-256 of its RFC 8785 canonical JSON:
two nodes holding the same document compute the same digest whatever the key order or layout of
the file each one read.

The JSON form is camelCase (the models' aliases) and closed (`extra="forbid"`), so a misspelt key
is refused instead of silently dropped from what the digest covers. A field's Python name is also
read (`populate_by_name`, for building models in code), but never beside its camelCase key: the
twin counts as an extra field. Booleans, integers and dates are strict: `"national": "yes"` or a
number for a date is an error, not a coercion.

Shape checked here: exactly the four stages of DESIGN §2, in order, with their letters and levels;
criterion codes unique (ignoring case) and prefixed by their stage letter; language tags such as
`en` or `pt-BR`; a national framework published by its country (ISO 3166-1 alpha-2) and naming
the framework it adapts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from sdgcities.credentials.canonical import content_digest
from sdgcities.node.countries import is_country_code

from .errors import InvalidFramework, UnknownCriterion, UnknownStage

StageKey = Literal["qualification", "evidence-based-processes", "enabling-environment", "impact"]
Level = Literal["silver", "gold", "platinum", "diamond"]
StageLetter = Literal["A", "B", "C", "D"]

STAGE_ORDER: Final[tuple[StageKey, ...]] = (
    "qualification",
    "evidence-based-processes",
    "enabling-environment",
    "impact",
)
LEVEL_BY_STAGE: Final[Mapping[StageKey, Level]] = MappingProxyType(
    {
        "qualification": "silver",
        "evidence-based-processes": "gold",
        "enabling-environment": "platinum",
        "impact": "diamond",
    }
)
LETTER_BY_STAGE: Final[Mapping[StageKey, StageLetter]] = MappingProxyType(
    {
        "qualification": "A",
        "evidence-based-processes": "B",
        "enabling-environment": "C",
        "impact": "D",
    }
)
GLOBAL_PUBLISHER: Final = "global"

LANGUAGE_TAG: Final = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")
# Stage letter, a dot, then a short local part: `B.c` in the baseline, `B.f` or `B.KE1` nationally.
CRITERION_CODE: Final = re.compile(r"[A-D]\.[A-Za-z0-9][A-Za-z0-9-]{0,15}")

# A document is shown in full on web pages and in review reports; the caps only keep a hostile
# upload from growing without bound.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
FrameworkId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=1, max_length=64)
]
Version = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Za-z]+([.-][0-9A-Za-z]+)*$", max_length=32)
]
Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
IndicatorCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]


def check_language(value: str) -> str:
    """`value` if it is a short language tag (`en`, `sw`, `pt-BR`), else `ValueError`."""
    if not LANGUAGE_TAG.fullmatch(value):
        raise ValueError(f"{value!r} is not a language tag such as 'en', 'sw' or 'pt-BR'")
    return value


def check_country(value: str) -> str:
    """`value` if it is an ISO 3166-1 alpha-2 country code (`KE`), else `ValueError`."""
    if not is_country_code(value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as 'KE'")
    return value


def check_criterion_code(value: str) -> str:
    """`value` if it is shaped like a criterion code (`B.c`, `B.KE1`), else `ValueError`."""
    if not CRITERION_CODE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a criterion code: a stage letter A-D, a dot and up to 16 letters, "
            "digits or hyphens, such as 'B.c' or 'B.KE1'"
        )
    return value


def _check_publisher(value: str) -> str:
    if value != GLOBAL_PUBLISHER and not is_country_code(value):
        raise ValueError(
            f"publisher {value!r} is neither 'global' nor an ISO 3166-1 alpha-2 country code"
        )
    return value


LanguageTag = Annotated[str, AfterValidator(check_language)]
CountryCode = Annotated[str, AfterValidator(check_country)]
CriterionCode = Annotated[str, AfterValidator(check_criterion_code)]
Publisher = Annotated[str, AfterValidator(_check_publisher)]
StrictDate = Annotated[date, Strict()]
StrictBool = Annotated[bool, Strict()]


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, alias_generator=to_camel
    )

    def __hash__(self) -> int:
        # pydantic's frozen hash hashes the field values, and a translations mapping is not
        # hashable; the sorted JSON form is equal exactly when the models are.
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))


class Indicator(_Frozen):
    """An indicator a criterion is measured with, named with the framework that defines it."""

    code: IndicatorCode
    name: ShortText
    source: ShortText


class Translation(_Frozen):
    """A criterion in another language: its text and, item for item, its evidence expected."""

    text: Text
    evidence_expected: tuple[ShortText, ...] = Field(min_length=1)


def _freeze(value: Mapping[str, Translation]) -> Mapping[str, Translation]:
    # Read-only so that a document cannot change under a digest already computed over it;
    # sorted so that equal documents also write their translations in the same order.
    return MappingProxyType(dict(sorted(value.items())))


def _thaw(value: Mapping[str, Translation]) -> dict[str, Translation]:
    return dict(value)


def _no_translations() -> Mapping[str, Translation]:
    return MappingProxyType({})


Translations = Annotated[
    Mapping[LanguageTag, Translation],
    AfterValidator(_freeze),
    PlainSerializer(_thaw, return_type=dict[str, Translation]),
]


class Criterion(_Frozen):
    """One criterion of a stage: what the city must show and what a reviewer expects to see.

    `national` marks a criterion a national node added to the baseline (§26a); a baseline
    criterion names the paragraph of the report it quotes in `source`.
    """

    code: CriterionCode
    source: ShortText | None = None
    text: Text
    evidence_expected: tuple[ShortText, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = ()
    national: StrictBool = False
    translations: Translations = Field(default_factory=_no_translations)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.national and self.source is None:
            raise ValueError(
                f"criterion {self.code} is a baseline criterion and must name its source, "
                "such as '§21(c)'"
            )
        seen: set[str] = set()
        for indicator in self.indicators:
            if indicator.code in seen:
                raise ValueError(f"criterion {self.code} lists indicator {indicator.code!r} twice")
            seen.add(indicator.code)
        for language, translation in self.translations.items():
            # Item for item, so that a reviewer's checklist lines up in every language.
            if len(translation.evidence_expected) != len(self.evidence_expected):
                raise ValueError(
                    f"criterion {self.code}: the {language!r} translation has "
                    f"{len(translation.evidence_expected)} evidence items and the criterion has "
                    f"{len(self.evidence_expected)}; translate each item"
                )
        return self

    def in_language(self, language: str) -> Translation:
        """The criterion's text and evidence in `language`, or as written if not translated."""
        translation = self.translations.get(language)
        if translation is not None:
            return translation
        return Translation(text=self.text, evidence_expected=self.evidence_expected)


class Stage(_Frozen):
    """A certification stage (DESIGN §2): its place in the sequence, level and criteria."""

    key: StageKey
    letter: StageLetter
    name: ShortText
    level: Level
    paragraph: Annotated[int, Strict(), Field(ge=1)]
    lead: Text
    validity_years: Annotated[int, Strict(), Field(ge=1, le=10)]
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        letter, level = LETTER_BY_STAGE[self.key], LEVEL_BY_STAGE[self.key]
        if self.letter != letter:
            raise ValueError(f"stage {self.key} has the letter {letter}, not {self.letter}")
        if self.level != level:
            raise ValueError(f"stage {self.key} certifies the level {level}, not {self.level}")
        for criterion in self.criteria:
            if not criterion.code.startswith(f"{letter}."):
                raise ValueError(
                    f"criterion {criterion.code} is in stage {self.key}, whose criterion codes "
                    f"start with '{letter}.'"
                )
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        """The stage's criterion codes, in order."""
        return tuple(criterion.code for criterion in self.criteria)


class FrameworkRef(_Frozen):
    """What a certificate and an endorsement name: a framework's id, version and digest."""

    id: FrameworkId
    version: Version
    digest: Digest


class GlossaryEntry(_Frozen):
    """A term the criteria use, with its definition and where the definition comes from."""

    term: ShortText
    definition: Text
    source: ShortText


class FrameworkDocument(_Frozen):
    """A versioned criteria framework: the global baseline or a national adaptation of it.

    Build one with `from_json` or `from_json_dict` (they raise `InvalidFramework`, never a
    pydantic error) and change one with the functions of `adapt`, which return new documents.
    """

    id: FrameworkId
    version: Version
    title: ShortText
    publisher: Publisher
    country: CountryCode | None = None
    language: LanguageTag
    valid_from: StrictDate
    valid_until: StrictDate
    based_on: FrameworkRef | None = None
    notes: tuple[Text, ...] = ()
    glossary: tuple[GlossaryEntry, ...] = ()
    stages: tuple[Stage, ...]

    @model_validator(mode="after")
    def _check(self) -> Self:
        keys = tuple(stage.key for stage in self.stages)
        if keys != STAGE_ORDER:
            raise ValueError(
                f"a framework has exactly the four stages {', '.join(STAGE_ORDER)}, in that "
                f"order; this one has {', '.join(keys) or 'none'}"
            )
        if self.valid_until < self.valid_from:
            raise ValueError(
                f"validUntil ({self.valid_until}) is before validFrom ({self.valid_from})"
            )
        self._check_publisher()
        self._check_criteria()
        terms = [entry.term.casefold() for entry in self.glossary]
        if len(terms) != len(set(terms)):
            raise ValueError("a glossary term is defined twice")
        return self

    def _check_publisher(self) -> None:
        if self.country is None:
            if self.publisher != GLOBAL_PUBLISHER:
                raise ValueError(
                    f"a framework without a country is published by the global node, "
                    f"so its publisher is 'global', not {self.publisher!r}"
                )
            return
        if self.publisher != self.country:
            raise ValueError(
                f"a national framework is published by its country: publisher {self.publisher!r} "
                f"is not the country {self.country!r}"
            )
        if self.based_on is None:
            raise ValueError("a national framework names the framework it adapts in basedOn")
        if self.based_on.id == self.id:
            raise ValueError(f"framework {self.id} cannot be based on itself")

    def _check_criteria(self) -> None:
        seen: dict[str, str] = {}
        for criterion in self.criteria:
            # Codes that differ only in case would be read as the same criterion by people.
            folded = criterion.code.casefold()
            if folded in seen:
                raise ValueError(
                    f"criterion code {criterion.code!r} is used more than once"
                    if seen[folded] == criterion.code
                    else f"criterion codes {seen[folded]!r} and {criterion.code!r} differ only "
                    "in case"
                )
            seen[folded] = criterion.code
            if criterion.national and self.country is None:
                raise ValueError(
                    f"criterion {criterion.code} is marked national, but only a national "
                    "framework can add criteria"
                )
            if self.language in criterion.translations:
                raise ValueError(
                    f"criterion {criterion.code} has a translation into {self.language!r}, "
                    "the framework's own language"
                )

    # Parsing and serialising.

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        """Parse and check a framework document from its JSON text."""
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise _invalid(exc) from exc

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse and check a framework document from decoded JSON (`to_json_dict`'s form).

        The data goes through JSON text so that it is read exactly as a file would be.
        """
        try:
            text = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidFramework(f"framework document is not JSON data: {exc}") from exc
        return cls.from_json(text)

    def to_json_dict(self) -> dict[str, Any]:
        """The document as JSON data with camelCase keys: what files hold and digests cover."""
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self) -> str:
        """The document as indented JSON text, for files people read and review."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=2) + "\n"

    @property
    def digest(self) -> str:
        """`sha256:<hex>` over the RFC 8785 canonical JSON of `to_json_dict()`.

        Every field is covered, defaults included, so adding a field to these models changes
        the digest of every document: that is a new format version, not a refactoring.
        """
        return content_digest(self.to_json_dict())

    @property
    def ref(self) -> FrameworkRef:
        """The id, version and digest that certificates and endorsements name."""
        return FrameworkRef(id=self.id, version=self.version, digest=self.digest)

    # Lookups.

    @property
    def label(self) -> str:
        """`<id> version <version>`, for messages."""
        return f"{self.id} version {self.version}"

    @property
    def is_national(self) -> bool:
        """True for a national adaptation, False for a framework of the global node."""
        return self.country is not None

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """Every criterion, stage by stage."""
        return tuple(criterion for stage in self.stages for criterion in stage.criteria)

    def stage(self, key: str) -> Stage:
        """The stage with `key`; `UnknownStage` if there is none."""
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise UnknownStage(key, framework=self.label, known=STAGE_ORDER)

    def stage_of(self, code: str) -> Stage:
        """The stage holding criterion `code`; `UnknownCriterion` if there is none."""
        for stage in self.stages:
            if code in stage.codes:
                return stage
        raise UnknownCriterion(code, framework=self.label)

    def criterion(self, code: str) -> Criterion:
        """The criterion with `code` (exactly, case included); `UnknownCriterion` if none."""
        for criterion in self.criteria:
            if criterion.code == code:
                return criterion
        raise UnknownCriterion(code, framework=self.label)

    def criteria_codes(self, stage_key: str) -> tuple[str, ...]:
        """The criterion codes of stage `stage_key`, in order; `UnknownStage` if none."""
        return self.stage(stage_key).codes


# The message says what is wrong in full; only the first few rules broken are spelt out in it.
_MAX_PROBLEMS_IN_MESSAGE: Final = 5


def _invalid(exc: ValidationError) -> InvalidFramework:
    problems = tuple(_describe(error) for error in exc.errors(include_url=False))
    shown = "; ".join(problems[:_MAX_PROBLEMS_IN_MESSAGE])
    more = len(problems) - _MAX_PROBLEMS_IN_MESSAGE
    if more > 0:
        shown += f"; and {more} more"
    return InvalidFramework(f"invalid framework document: {shown}", problems=problems)


def _describe(error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {message}" if location else message
