"""Response bodies of the public registry.

Members are camelCase, as in the credentials and the trust list: the registry is read by
investors' tools and other nodes (DESIGN §6), which see the certificate's own vocabulary
(`validFrom`, `validUntil`) here too. Only public facts appear: a city's public fields and what
its certificates state; never evidence, reviewers, votes or anyone's name or email.
"""

from __future__ import annotations

from datetime import date, datetime
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


class OtherCertificationRecord(_Public):
    """Another body's certification or assessment of the city (report §30e)."""

    id: int
    scheme: str
    issuer: str = Field(description="As the city names it")
    level: str
    awarded_on: date
    valid_until: date | None
    verification: Literal["verified", "declared"] = Field(
        description=(
            "verified: the issuer's credential, checked by this node against a key it resolves "
            "without the network (did:key, did:jwk or an issuer its operator pinned), is about "
            "this city and valid now (the issuer's status list is not consulted); declared: "
            "as the city states it"
        )
    )
    credential_issuer: str | None = Field(description="The DID that signed the credential")
    credential_valid_until: datetime | None
    credential: str | None = Field(description="The issuer's credential (vc+jwt), to check anew")
    document_url: str | None = Field(description="The certification's document, if any")


class OtherCertifications(_Public):
    """Verified and declared apart, never mixed."""

    verified: list[OtherCertificationRecord]
    declared: list[OtherCertificationRecord]


class EsgIndicatorRecord(_Public):
    code: str
    name: str
    value: float
    unit: str
    year: int
    source: str


class EsgIndicators(_Public):
    """ESG indicators, all declared by the city (report §30d)."""

    declared: list[EsgIndicatorRecord]


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
    other_certifications: OtherCertifications
    esg_indicators: EsgIndicators


class CredentialRecord(_Public):
    jwt: str = Field(description="The certificate as issued (`application/vc+jwt`)")
    credential: dict[str, Any] = Field(
        description="The token's payload, decoded: the credential itself (not verified here)"
    )
