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
    # Web sign-in (node.accounts.passwords, .second_factor): an Argon2id hash, never the password.
    password_hash: str | None = Field(default=None, max_length=255)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The TOTP secret (base32) once confirmed with a code; the one being enrolled before that.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_pending_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The time step of the last code accepted: a code is never accepted twice.
    totp_last_step: int | None = None


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


class SignInFailure(SQLModel, table=True):
    """A failed sign-in (wrong password or code): counted per account and per client address."""

    __tablename__ = "sign_in_failure"

    id: int | None = Field(default=None, primary_key=True)
    # The address as typed (lower-cased), so unknown addresses are throttled too.
    email: str = Field(max_length=254, index=True)
    client: str = Field(max_length=64, index=True)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret


class OneTimeLink(SQLModel, table=True):
    """A link mailed to a person to set a password. Only its SHA-256 is stored."""

    __tablename__ = "one_time_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    purpose: LinkPurpose = Field(sa_type=enum_column(LinkPurpose))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class AccountRequest(SQLModel, table=True):
    """A city's request for an account, made on the public site; the secretariat decides."""

    __tablename__ = "account_request"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, index=True)
    city: str = Field(max_length=200)
    role_in_city: str = Field(max_length=200)
    message: str = Field(default="", max_length=2000)
    language: str = Field(max_length=8)
    status: AccountRequestStatus = Field(
        default=AccountRequestStatus.PENDING, sa_type=enum_column(AccountRequestStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
