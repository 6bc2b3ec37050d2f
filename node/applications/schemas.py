"""Request and response bodies of the application API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import Field, Strict, StringConstraints, model_validator

from sdgcities.node.accounts.teams import UnLanguage
from sdgcities.node.cities.schemas import Locode
from sdgcities.node.evidence import MediaType
from sdgcities.node.frameworks.document import StageKey
from sdgcities.node.schemas import Id, Page, RequestModel, ResponseModel

from .models import ApplicationState

MAX_NARRATIVE = 20_000
MAX_INDICATOR_VALUES = 200
_AGE_BAND = re.compile(r"(\d{1,3})(?:-(\d{1,3})|\+)")


class ApplicationCreate(RequestModel):
    city_locode: Locode | None = Field(
        default=None,
        description="The city applying; a city applicant's own city when omitted. An "
        "administrator applying on a city's behalf names it.",
    )
    stage: StageKey
    framework_version_id: Id = Field(
        description="A published framework version endorsed by the global root key"
    )
    language: UnLanguage | None = Field(
        default=None,
        description="The UN language the application is reviewed in (ar, zh, en, fr, ru, es). "
        "On the global node it routes the application to that language's technical team; when "
        "omitted, the first UN language among the city's languages. On a national node, advice.",
    )


class ApplicationLanguage(RequestModel):
    language: UnLanguage = Field(description="The UN language team to route the application to")


class Disaggregation(RequestModel):
    """Which part of the population a value is for; every dimension is optional."""

    sex: Literal["female", "male", "other"] | None = None
    age: (
        Annotated[
            str,
            StringConstraints(max_length=7),
            Field(description="An age band in years: '15-24', or '65+' for 65 and over"),
        ]
        | None
    ) = None
    disability: Annotated[bool, Strict()] | None = Field(
        default=None,
        description="true: persons with disabilities; false: persons without disabilities",
    )
    district: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _age_band(self) -> Self:
        if self.age is None:
            return self
        match = _AGE_BAND.fullmatch(self.age)
        if match is None:
            raise ValueError(
                f"age {self.age!r} is not an age band such as '15-24' or '65+' (65 and over)"
            )
        low, high = match.group(1), match.group(2)
        if high is not None and int(high) < int(low):
            raise ValueError(f"age band {self.age!r} ends before it starts")
        return self


class IndicatorValue(RequestModel):
    """One reported value of an indicator, for one year and, optionally, one population group."""

    indicator: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")] = (
        Field(description="The indicator's code", examples=["11.1.1"])
    )
    value: Annotated[float, Strict(), Field(allow_inf_nan=False)]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50)] = Field(
        examples=["%", "persons", "km2"]
    )
    year: Annotated[int, Strict(), Field(ge=1990, le=2100)]
    disaggregation: Disaggregation = Field(default_factory=Disaggregation)


class AnswerUpdate(RequestModel):
    """The city's answer to a criterion; it replaces the previous answer as a whole."""

    narrative: Annotated[str, StringConstraints(max_length=MAX_NARRATIVE)] = Field(
        default="",
        description="How the city meets the criterion. Needed for every criterion before "
        "submission; a draft may leave it empty.",
    )
    indicator_values: list[IndicatorValue] = Field(
        default_factory=list, max_length=MAX_INDICATOR_VALUES
    )

    @model_validator(mode="after")
    def _no_repeated_values(self) -> Self:
        seen: set[str] = set()
        for item in self.indicator_values:
            key = item.model_dump_json(include={"indicator", "year", "disaggregation"})
            if key in seen:
                raise ValueError(
                    f"indicator {item.indicator} for {item.year} is given twice for the same "
                    "population group"
                )
            seen.add(key)
        return self


class ApplicationPublic(ResponseModel):
    id: int
    city_locode: str
    stage: str
    framework_version_id: int
    language: str | None = Field(
        description="Its UN language: on the global node, the technical team it is routed to"
    )
    state: ApplicationState
    created_by: int | None
    created_at: datetime
    submitted_at: datetime | None
    withdrawn_at: datetime | None
    renews: str | None = Field(
        default=None, description="A renewal: the certificate it renews (its answers carried over)"
    )


class ApplicationsPublic(Page):
    data: list[ApplicationPublic]


class DisaggregationPublic(ResponseModel):
    sex: str | None = None
    age: str | None = None
    disability: bool | None = None
    district: str | None = None


class IndicatorValuePublic(ResponseModel):
    indicator: str
    value: float
    unit: str
    year: int
    disaggregation: DisaggregationPublic


class AnswerPublic(ResponseModel):
    criterion_code: str
    narrative: str
    indicator_values: list[IndicatorValuePublic]
    updated_by: int | None
    updated_at: datetime
    to_confirm: bool = Field(
        default=False,
        description="Carried over into a renewal, not yet confirmed or updated by the city",
    )


class EvidencePublic(ResponseModel):
    id: int
    application_id: int
    criterion_code: str
    digest: str
    size: int
    media_type: MediaType
    filename: str
    uploaded_by: int | None
    uploaded_at: datetime


class ApplicationDetail(ApplicationPublic):
    framework_id: str
    framework_version: str
    framework_digest: str | None
    criteria: list[str] = Field(description="The criterion codes of the stage, in order")
    missing: list[str] = Field(
        description="Criteria without a narrative yet; submission needs this list empty"
    )
    to_confirm: list[str] = Field(
        default_factory=list,
        description="A renewal's carried-over answers not yet confirmed or updated; submission "
        "needs this list empty too",
    )
    answers: list[AnswerPublic]
    evidence: list[EvidencePublic]
