from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class Role(StrEnum):
    """Who a caller is. `public` is the anonymous caller, who holds no token."""

    ADMINISTRATOR = "administrator"
    REVIEWER = "reviewer"
    COMMITTEE_MEMBER = "committee_member"
    SECRETARIAT = "secretariat"
    CITY_APPLICANT = "city_applicant"
    PUBLIC = "public"


class StakeholderCategory(StrEnum):
    GOVERNMENT = "government"
    LOCAL_GOVERNMENT = "local_government"
    CIVIL_SOCIETY = "civil_society"
    ACADEMIA = "academia"
    PRIVATE_SECTOR = "private_sector"
    UNITED_NATIONS = "united_nations"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, unique=True, index=True)
    role: Role = Field(sa_type=enum_column(Role), index=True)
    city_locode: str | None = Field(
        default=None, max_length=6, foreign_key="city.locode", index=True
    )
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stakeholder_category: StakeholderCategory | None = Field(
        default=None, sa_type=enum_column(StakeholderCategory)
    )
    term_start: date | None = None
    term_end: date | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token. Only its SHA-256 is stored; the secret is shown once, at creation."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
