"""Response bodies of the public registry.

Members are camelCase, as in the credentials and the trust list: the registry is read by
investors' tools and other nodes (DESIGN §6), which see the certificate's own vocabulary
(`validFrom`, `validUntil`) here too. Only public facts appear: a city's public fields and what
its certificates state; never evidence, reviewers, votes or anyone's name or email.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sdgcities.node.frameworks import Level, StageKey

PublicStatus = Literal["active", "suspended", "revoked", "expired"]


class _Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class CertifiedCity(_Public):
    """A city in the listing, at its highest current level."""

    locode: str
    name: str
    country: str
    region: str
    population: int | None
    priorities: list[str]
    level: Level = Field(description="The highest level among the city's current certificates")
    stage: StageKey = Field(description="The stage of that level")


class CertifiedCities(_Public):
    data: list[CertifiedCity]
    count: int = Field(description="How many certified cities match, over all pages")


class RegistryCertificate(_Public):
    id: str
    stage: StageKey
    level: Level
    status: PublicStatus = Field(
        description=(
            "revoked, else expired (past validUntil), else suspended, else active; what the "
            "status lists say is authoritative, POST /verify checks it"
        )
    )
    current: bool = Field(description="Active and within its validity now")
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    url: str = Field(description="Where the certificate is served (`GET /registry/credentials`)")
    renews: str | None = Field(
        default=None, description="The certificate this one renews (the city's history)"
    )
    renewed_by: str | None = Field(default=None, description="The certificate renewing this one")


class CityRecord(_Public):
    """A city and every certificate it was issued, the latest awarded first."""

    locode: str
    name: str
    country: str
    region: str
    population: int | None
    priorities: list[str]
    level: Level | None = Field(description="The highest current level; null when none is current")
    stage: StageKey | None
    certificates: list[RegistryCertificate]


class CredentialRecord(_Public):
    jwt: str = Field(description="The certificate as issued (`application/vc+jwt`)")
    credential: dict[str, Any] = Field(
        description="The token's payload, decoded: the credential itself (not verified here)"
    )
