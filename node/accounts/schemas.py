from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import EmailStr, Field, computed_field, model_validator

from sdgcities.node.schemas import Day, Page, RequestModel, ResponseModel

from .models import AccountRequestStatus, Role, StakeholderCategory
from .teams import teams_of

LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Z]{2})?$"


class UserCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: Role
    city_locode: str | None = Field(default=None, pattern=r"^[A-Z]{2}-[A-Z2-9]{3}$")
    languages: list[str] = Field(default_factory=list, max_length=20)
    stakeholder_category: StakeholderCategory | None = None
    term_start: Day | None = None
    term_end: Day | None = None

    @model_validator(mode="after")
    def _role_fields(self) -> UserCreate:
        if self.role is Role.PUBLIC:
            raise ValueError("'public' is the anonymous caller, not an account role")
        if (self.role is Role.CITY_APPLICANT) != (self.city_locode is not None):
            raise ValueError("city_locode is required for a city_applicant and only for one")
        if self.role is Role.COMMITTEE_MEMBER and self.stakeholder_category is None:
            raise ValueError("a committee_member needs a stakeholder_category")
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValueError("term_end is before term_start")
        for language in self.languages:
            if not re.fullmatch(LANGUAGE_TAG, language):
                raise ValueError(f"{language!r} is not a language tag such as 'en' or 'fr'")
        return self


class UserUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    languages: list[str] | None = Field(default=None, max_length=20)
    stakeholder_category: StakeholderCategory | None = None
    term_start: Day | None = None
    term_end: Day | None = None
    active: bool | None = None


class UserPublic(ResponseModel):
    id: int
    name: str
    email: str
    role: Role
    city_locode: str | None
    languages: list[str]
    stakeholder_category: StakeholderCategory | None
    term_start: date | None
    term_end: date | None
    active: bool
    created_at: datetime

    @computed_field(  # type: ignore[prop-decorator]
        description="A reviewer's technical teams on the global node: the UN languages "
        "(ar, zh, en, fr, ru, es) among their languages (§26b)"
    )
    @property
    def teams(self) -> list[str]:
        return teams_of(self.languages) if self.role is Role.REVIEWER else []


class UsersPublic(Page):
    data: list[UserPublic]


class TokenCreate(RequestModel):
    label: str = Field(default="", max_length=200)
    lifetime_days: int | None = Field(default=None, ge=1, le=730)


class TokenPublic(ResponseModel):
    id: int
    user_id: int
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret. Shown once: only its hash is kept.")


class TokensPublic(Page):
    data: list[TokenPublic]


class InvitationCreate(UserCreate):
    """A new account, and a mail to its holder with a link to set a password."""

    language: str | None = Field(
        default=None,
        description="The mail's language (ar, zh, en, fr, ru, es); by default the first of "
        "`languages` the site speaks, else English",
    )


class AccountRequestCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    city: str = Field(min_length=1, max_length=200)
    role_in_city: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=2000)


class AccountRequestPublic(ResponseModel):
    id: int
    name: str
    email: str
    city: str
    role_in_city: str
    message: str
    language: str
    status: AccountRequestStatus
    created_at: datetime
    decided_at: datetime | None
    user_id: int | None


class AccountRequestsPublic(Page):
    data: list[AccountRequestPublic]


class AccountRequestApproval(RequestModel):
    city_locode: str = Field(
        pattern=r"^[A-Z]{2}-[A-Z2-9]{3}$", description="The city the new applicant acts for"
    )
