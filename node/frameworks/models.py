"""Framework versions as stored by a node: the document text, its digest, its endorsement."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime, enum_column
from sdgcities.node.timeutil import utcnow


class FrameworkStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class FrameworkVersion(SQLModel, table=True):
    """One version of a criteria framework (the global baseline or a national adaptation).

    `document` is the RFC 8785 canonical JSON text of the document, so the SHA-256 of the
    stored text is its digest and anyone can check a copy byte for byte. A draft's document
    changes with each edit and has no digest; publishing computes the digest, after which
    neither changes (the service refuses it, and a database trigger refuses it too).
    """

    __tablename__ = "framework_version"
    __table_args__ = (
        UniqueConstraint("framework_id", "version", name="uq_framework_version_id_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_id: str = Field(max_length=64, index=True)
    version: str = Field(max_length=32)
    title: str = Field(max_length=500)
    country: str | None = Field(default=None, max_length=2)
    status: FrameworkStatus = Field(sa_type=enum_column(FrameworkStatus))
    document: str = Field(sa_column=Column(Text, nullable=False))
    digest: str | None = Field(default=None, max_length=71)
    based_on_id: int | None = Field(default=None, foreign_key="framework_version.id")
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    endorsement_jws: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    endorsed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def label(self) -> str:
        return f"{self.framework_id} version {self.version}"

    @property
    def is_published(self) -> bool:
        return self.status is FrameworkStatus.PUBLISHED

    @property
    def usable_for_certification(self) -> bool:
        """Published and carrying an endorsement by the global root key for this node."""
        return self.is_published and self.endorsement_jws is not None
