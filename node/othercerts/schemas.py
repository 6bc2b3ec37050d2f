"""Bodies of the city's API for its other certifications and ESG indicators.

What a city declares is bounded here; whether a certification is *verified* is never the
city's to say: it is the node's finding about the credential (`Verification`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field, model_validator

from sdgcities.node.schemas import Day, Page, RequestModel, ResponseModel

MAX_CREDENTIAL_CHARS: Final = 64 * 1024
EARLIEST_YEAR: Final = 1990
LATEST_YEAR: Final = 2100

Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class Verification(StrEnum):
    """Verified: a credential from the issuer, checked by this node and valid now. Declared:
    anything else, as the city states it."""

    VERIFIED = "verified"
    DECLARED = "declared"


class CertificationCreate(RequestModel):
    scheme: Text200 = Field(description="The standard or scheme, e.g. ISO 37120")
    issuer: Text200 = Field(description="Who certified or assessed the city, e.g. WCCD")
    level: str = Field(default="", max_length=100, description="The level or grade awarded")
    awarded_on: Day
    valid_until: Day | None = None
    credential: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CREDENTIAL_CHARS,
        description="The issuer's verifiable credential about the city (`vc+jwt`), checked now",
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> CertificationCreate:
        if self.valid_until is not None and self.valid_until < self.awarded_on:
            raise ValueError("valid_until is before awarded_on")
        return self


class CertificationUpdate(RequestModel):
    """Fields to change; `credential: null` removes the credential."""

    scheme: Text200 | None = None
    issuer: Text200 | None = None
    level: str | None = Field(default=None, max_length=100)
    awarded_on: Day | None = None
    valid_until: Day | None = None
    credential: str | None = Field(default=None, min_length=1, max_length=MAX_CREDENTIAL_CHARS)


class CertificationPublic(ResponseModel):
    id: int
    city_locode: str
    scheme: str
    issuer: str
    level: str
    awarded_on: date
    valid_until: date | None
    verification: Verification
    credential: str | None
    credential_issuer: str | None
    credential_valid_from: datetime | None
    credential_valid_until: datetime | None
    credential_note: str | None
    document_filename: str | None
    document_size: int | None
    document_media_type: str | None
    created_at: datetime
    updated_at: datetime


class CertificationsPublic(Page):
    data: list[CertificationPublic]


class IndicatorCreate(RequestModel):
    code: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
        description="The indicator's code, e.g. ISO37120:8.1 or GHG-per-capita",
    )
    name: Text200
    value: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)
    unit: str = Field(min_length=1, max_length=50)
    year: int = Field(ge=EARLIEST_YEAR, le=LATEST_YEAR)
    source: str = Field(min_length=1, max_length=500, description="Where the value comes from")


class IndicatorUpdate(RequestModel):
    name: Text200 | None = None
    value: float | None = Field(default=None, allow_inf_nan=False, ge=-1e15, le=1e15)
    unit: str | None = Field(default=None, min_length=1, max_length=50)
    source: str | None = Field(default=None, min_length=1, max_length=500)


class IndicatorPublic(ResponseModel):
    id: int
    city_locode: str
    code: str
    name: str
    value: float
    unit: str
    year: int
    source: str
    created_at: datetime
    updated_at: datetime


class IndicatorsPublic(Page):
    data: list[IndicatorPublic]
