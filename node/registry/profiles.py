"""A certified city's other certifications and ESG indicators as the public registry shows
them (report §30d, §30e): verified apart from declared, never mixed."""

from __future__ import annotations

from urllib.parse import quote

from sdgcities.node.othercerts.models import EsgIndicator, OtherCertification
from sdgcities.node.othercerts.service import CityProfile

from .schemas import (
    EsgIndicatorRecord,
    EsgIndicators,
    OtherCertificationRecord,
    OtherCertifications,
)


def document_path(locode: str, certification_id: int) -> str:
    return f"/registry/cities/{quote(locode)}/certifications/{certification_id}/document"


def certification_record(
    certification: OtherCertification, *, verified: bool, base_url: str
) -> OtherCertificationRecord:
    assert certification.id is not None
    has_document = certification.document_digest is not None
    return OtherCertificationRecord(
        id=certification.id,
        scheme=certification.scheme,
        issuer=certification.issuer,
        level=certification.level,
        awarded_on=certification.awarded_on,
        valid_until=certification.valid_until,
        verification="verified" if verified else "declared",
        credential_issuer=certification.credential_issuer if verified else None,
        credential_valid_until=certification.credential_valid_until if verified else None,
        credential=certification.credential,
        document_url=(
            base_url + document_path(certification.city_locode, certification.id)
            if has_document
            else None
        ),
    )


def indicator_record(indicator: EsgIndicator) -> EsgIndicatorRecord:
    return EsgIndicatorRecord(
        code=indicator.code,
        name=indicator.name,
        value=indicator.value,
        unit=indicator.unit,
        year=indicator.year,
        source=indicator.source,
    )


def public_profile(
    profile: CityProfile, *, base_url: str
) -> tuple[OtherCertifications, EsgIndicators]:
    return (
        OtherCertifications(
            verified=[
                certification_record(c, verified=True, base_url=base_url) for c in profile.verified
            ],
            declared=[
                certification_record(c, verified=False, base_url=base_url) for c in profile.declared
            ],
        ),
        EsgIndicators(declared=[indicator_record(i) for i in profile.indicators]),
    )
