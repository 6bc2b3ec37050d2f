"""The fee schedule, the countries' income groups, and each application's fee decisions and
payments. Money is an integer in the currency's minor units (cents), never a float."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow

# A billion units of any currency, in minor units: bounds what a typing slip can record.
MAX_AMOUNT_MINOR = 10**14
MAX_REASON_CHARS = 1000
MAX_REFERENCE_CHARS = 100


class IncomeGroup(StrEnum):
    """The World Bank's classification of economies by gross national income per person."""

    LOW = "low"
    LOWER_MIDDLE = "lower-middle"
    UPPER_MIDDLE = "upper-middle"
    HIGH = "high"


class FeeRate(SQLModel, table=True):
    """The fee of one stage for cities of one income group from `min_population` inhabitants up
    to the next band's lower bound: the bands are the distinct lower bounds of the schedule."""

    __tablename__ = "fee_rate"
    __table_args__ = (
        UniqueConstraint("stage", "income_group", "min_population", name="uq_fee_rate_band"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage: str = Field(max_length=32)
    income_group: IncomeGroup = Field(sa_type=enum_column(IncomeGroup))
    min_population: int = Field(default=0, ge=0)
    amount_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CountryIncomeGroup(SQLModel, table=True):
    """The secretariat's classification of a country, which overrides the packaged one."""

    __tablename__ = "country_income_group"

    country: str = Field(primary_key=True, max_length=2)
    income_group: IncomeGroup = Field(sa_type=enum_column(IncomeGroup))
    reason: str = Field(max_length=MAX_REASON_CHARS)
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeeDecisionKind(StrEnum):
    WAIVED = "waived"
    REDUCED = "reduced"


class FeeDecision(SQLModel, table=True):
    """The secretariat's waiver or reduction of one application's fee; the latest one holds,
    and the audit log keeps every one."""

    __tablename__ = "fee_decision"

    application_id: int = Field(primary_key=True, foreign_key="application.id")
    kind: FeeDecisionKind = Field(sa_type=enum_column(FeeDecisionKind))
    # The amount due after a reduction; zero for a waiver.
    amount_minor: int = Field(ge=0)
    reason: str = Field(max_length=MAX_REASON_CHARS)
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeeRecordKind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"


class FeeRecord(SQLModel, table=True):
    """An invoice sent or a payment received for an application's fee (no card is processed)."""

    __tablename__ = "fee_record"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    kind: FeeRecordKind = Field(sa_type=enum_column(FeeRecordKind))
    amount_minor: int = Field(ge=0)
    currency: str = Field(max_length=3)
    dated_on: date
    reference: str = Field(max_length=MAX_REFERENCE_CHARS)
    recorded_by: int | None = Field(default=None, foreign_key="user.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
