"""The results of other certifications a city holds, and the ESG indicators it declares.

A certification's proof is a document (stored as evidence is, by digest) or a credential from
its issuer (the exact signed text). What the node checked of the credential is kept beside it
(`credential_verified`, the issuer and validity it states); whether it counts as *verified*
is decided when read, as its validity must still cover that moment (`service.is_verified`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.evidence import MediaType
from sdgcities.node.timeutil import utcnow


class OtherCertification(SQLModel, table=True):
    """A certification or assessment by another body (ISO 37120 through WCCD, a national
    scheme): what the city declares of it, and its proof."""

    __tablename__ = "other_certification"

    id: int | None = Field(default=None, primary_key=True)
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    scheme: str = Field(max_length=200)
    issuer: str = Field(max_length=200)
    level: str = Field(default="", max_length=100)
    awarded_on: date
    valid_until: date | None = None
    document_digest: str | None = Field(default=None, max_length=71)
    document_size: int | None = None
    document_media_type: MediaType | None = Field(
        default=None, sa_type=enum_column(MediaType, length=100)
    )
    document_filename: str | None = Field(default=None, max_length=120)
    credential: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # What the check found when the credential was given (signature, issuer, subject, dates).
    credential_verified: bool = False
    credential_issuer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    credential_valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    credential_valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why a credential that was kept is not verified (its issuer cannot be resolved offline...).
    credential_note: str | None = Field(default=None, max_length=500)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class EsgIndicator(SQLModel, table=True):
    """One value of an environmental, social or governance indicator, declared by the city."""

    __tablename__ = "esg_indicator"
    __table_args__ = (
        UniqueConstraint("city_locode", "code", "year", name="uq_esg_indicator_city_code_year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    city_locode: str = Field(max_length=6, foreign_key="city.locode", index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    value: float
    unit: str = Field(max_length=50)
    year: int
    source: str = Field(max_length=500)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
