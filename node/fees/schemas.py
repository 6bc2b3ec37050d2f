from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from .models import (
    MAX_AMOUNT_MINOR,
    MAX_REASON_CHARS,
    MAX_REFERENCE_CHARS,
    FeeDecisionKind,
    FeeRecordKind,
    IncomeGroup,
)

AmountMinor = Field(ge=0, le=MAX_AMOUNT_MINOR, description="In the currency's minor units")


class FeeRateCreate(BaseModel):
    """One rate of the schedule: it replaces the rate of the same stage, group and band."""

    model_config = ConfigDict(extra="forbid")

    stage: str = Field(max_length=32)
    income_group: IncomeGroup
    min_population: int = Field(default=0, ge=0, le=10**9, description="The band's lower bound")
    amount_minor: int = AmountMinor
    currency: str = Field(min_length=3, max_length=3, description="An ISO 4217 code, USD")


class FeeRatePublic(FeeRateCreate):
    model_config = ConfigDict(extra="ignore")

    id: int
    updated_at: datetime


class FeeSchedulePublic(BaseModel):
    data: list[FeeRatePublic]
    count: int


class IncomeGroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    income_group: IncomeGroup
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class IncomeGroupsPublic(BaseModel):
    """Every classified country's group; `changed` lists the secretariat's changes."""

    groups: dict[str, IncomeGroup]
    changed: dict[str, str]


class FeeDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FeeDecisionKind
    amount_minor: int | None = Field(
        default=None, ge=0, le=MAX_AMOUNT_MINOR, description="The amount due, for a reduction"
    )
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class FeeDecisionPublic(BaseModel):
    kind: FeeDecisionKind
    amount_minor: int
    reason: str
    decided_at: datetime


class FeeRecordCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FeeRecordKind
    amount_minor: int = AmountMinor
    dated_on: date
    reference: str = Field(min_length=1, max_length=MAX_REFERENCE_CHARS)


class FeeRecordPublic(FeeRecordCreate):
    model_config = ConfigDict(extra="ignore")

    id: int
    currency: str
    recorded_at: datetime


class FeePublic(BaseModel):
    application_id: int
    stage: str
    income_group: IncomeGroup
    population: int | None
    band_min_population: int | None
    standard_minor: int
    due_minor: int
    paid_minor: int
    currency: str | None
    state: str
    decision: FeeDecisionPublic | None
    records: list[FeeRecordPublic]


class FeeReportRow(BaseModel):
    income_group: IncomeGroup
    currency: str
    applications: int
    charged_minor: int
    waived_minor: int
    paid_minor: int


class FeeReport(BaseModel):
    data: list[FeeReportRow]
