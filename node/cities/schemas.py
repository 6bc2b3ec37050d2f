from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from sdgcities.node.schemas import Page, RequestModel, ResponseModel

from .locode import validate_locode

Locode = Annotated[str, AfterValidator(validate_locode)]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]


class CityCreate(RequestModel):
    locode: Locode
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(default="", max_length=200)
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    languages: list[LanguageTag] = Field(default_factory=list, max_length=20)
    priorities: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=30, description="Strategic priorities, for investors"
    )


class CityUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    languages: list[LanguageTag] | None = Field(default=None, max_length=20)
    priorities: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=30
    )


class CityPublic(ResponseModel):
    locode: str
    country: str
    name: str
    region: str
    population: int | None
    languages: list[str]
    priorities: list[str]
    created_at: datetime


class CitiesPublic(Page):
    data: list[CityPublic]
