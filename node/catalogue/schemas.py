from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Final, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from sdgcities.node.schemas import Page, RequestModel, ResponseModel

from .models import ToolKind

# The same shapes as the criteria framework's (`node.frameworks.document`), so that every code a
# national framework may add can be tagged here; kept apart so the catalogue does not depend on it.
CRITERION_CODE: Final = re.compile(r"[A-D]\.[A-Za-z0-9][A-Za-z0-9-]{0,15}")
LANGUAGE_TAG: Final = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")
MAX_QUERY_LENGTH: Final = 200
MAX_PAGE: Final = 100


def check_criterion_code(value: str) -> str:
    if not CRITERION_CODE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a criterion code: a stage letter A-D, a dot and up to 16 letters, "
            "digits or hyphens, such as 'B.a' or 'B.KE1'"
        )
    return value


def check_language(value: str) -> str:
    if not LANGUAGE_TAG.fullmatch(value):
        raise ValueError(f"{value!r} is not a language tag such as 'en', 'sw' or 'pt-BR'")
    return value


def _no_control_characters(value: str, *, allowed: str = "") -> str:
    # PostgreSQL refuses NUL in text, and the rest would garble pages and reports.
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def check_line(value: str) -> str:
    return _no_control_characters(value)


def check_paragraphs(value: str) -> str:
    return _no_control_characters(value, allowed="\n\t")


def normalise_theme(value: str) -> str:
    # One spelling per theme, so that a filter on "Climate" finds what was tagged "climate ".
    theme = " ".join(check_line(value).split()).lower()
    if not 1 <= len(theme) <= 60:
        raise ValueError("a theme is 1 to 60 characters, such as 'housing' or 'urban crisis'")
    return theme


def check_link(value: str) -> str:
    example = "such as 'https://unhabitat.org'"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError(
            f"the link must be an https URL {example}, without spaces or control characters"
        )
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"the link must be an https URL {example}") from exc
    if parts.username is not None or parts.password is not None:
        # Checked first and never echoed: the link may hold a password.
        raise ValueError("the link must not carry a user name or password")
    if parts.scheme.lower() != "https":
        raise ValueError(f"the link must be an https URL {example} (got {value!r})")
    if not host or "." not in host:
        raise ValueError(f"the link must name a public web host {example} (got {value!r})")
    return value


_T = TypeVar("_T")


def _unique(values: list[_T]) -> list[_T]:
    return list(dict.fromkeys(values))


CriterionCode = Annotated[str, AfterValidator(check_criterion_code)]
LanguageTag = Annotated[str, AfterValidator(check_language)]
Theme = Annotated[str, Field(max_length=200), AfterValidator(normalise_theme)]
Link = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(check_link)]
Title = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(check_line)]
Summary = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(check_paragraphs)]
Provider = Annotated[str, Field(max_length=200), AfterValidator(check_line)]
Criteria = Annotated[list[CriterionCode], Field(max_length=30), AfterValidator(_unique)]
Themes = Annotated[list[Theme], Field(max_length=20), AfterValidator(_unique)]
Languages = Annotated[list[LanguageTag], Field(max_length=20), AfterValidator(_unique)]


class ToolCreate(RequestModel):
    kind: ToolKind
    title: Title
    summary: Summary
    link: Link
    criteria: Criteria = Field(
        default_factory=list, description="Criterion codes the entry helps to meet, e.g. B.a"
    )
    themes: Themes = Field(default_factory=list)
    languages: Languages = Field(default_factory=list)
    provider: Provider = ""


class ToolUpdate(RequestModel):
    kind: ToolKind | None = None
    title: Title | None = None
    summary: Summary | None = None
    link: Link | None = None
    criteria: Criteria | None = None
    themes: Themes | None = None
    languages: Languages | None = None
    provider: Provider | None = None
    active: bool | None = Field(default=None, description="false hides it; true brings it back")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class ToolPublic(ResponseModel):
    id: int
    kind: ToolKind
    title: str
    summary: str
    link: str
    criteria: list[str]
    themes: list[str]
    languages: list[str]
    provider: str
    active: bool
    created_at: datetime
    updated_at: datetime


class ToolsPublic(Page):
    data: list[ToolPublic]
