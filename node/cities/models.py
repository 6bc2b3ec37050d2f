from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from sdgcities.node.dbtypes import UTCDateTime
from sdgcities.node.timeutil import utcnow


class City(SQLModel, table=True):
    locode: str = Field(primary_key=True, max_length=6)
    country: str = Field(max_length=2, index=True)
    name: str = Field(max_length=200, index=True)
    region: str = Field(default="", max_length=200)
    population: int | None = Field(default=None, ge=0)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    priorities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
