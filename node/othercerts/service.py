"""A city's other certifications and ESG indicators (report §30d, §30e).

§30d: "Certification may help attract Sustainable Development Goal impact investment to cities
by signalling their commitment to implementing the Goals and strengthening enabling
environments. Moreover, compatibility of Sustainable Development Goals Cities certification
criteria and environmental, social and governance metrics should be explored to support finance
entities' impact reporting mechanisms".
§30e: "Sustainable Development Goals Cities certification should also be compatible with
existing city certifications, programmes and initiatives with a thematic focus, and the
certification process should allow the results achieved and reports generated in such processes
to contribute to Sustainable Development Goals Cities certification."

A city's own applicants record the results of other certifications (scheme, issuer, level,
dates) with their proof, a document or the issuer's verifiable credential, and the ESG
indicators they report (code, name, value, unit, year, source). Administrators may remove an
entry (moderation) but write none: what is here is the city's word, or its issuer's. The
secretariat reads; nobody else writes. Another city's entries answer 404, as a city that does
not exist.

A certification is *verified* only while its credential passed `ExternalCredential.verify`
(signature against a key resolved offline, subject this city, validity covering now) and its
validity still covers the moment it is read; everything else, ESG indicators included, is
*declared by the city*. A credential that is forged, malformed or about another city is refused
(422); one whose issuer the node cannot resolve offline, or whose validity does not cover now,
is kept with the reason, as declared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from sdgcities.credentials import (
    Expired,
    ExternalCredential,
    IssuerKeys,
    MalformedError,
    NotYetValid,
    SignatureInvalid,
    UntrustedIssuer,
    city_subject_id,
)
from sdgcities.node.actor import Actor
from sdgcities.node.applications.service import quota_remaining as evidence_quota_remaining
from sdgcities.node.audit.service import record
from sdgcities.node.cities.models import City
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.evidence import QuotaExceeded, StoredEvidence
from sdgcities.node.timeutil import utcnow

from .models import EsgIndicator, OtherCertification
from .schemas import (
    CertificationCreate,
    CertificationUpdate,
    IndicatorCreate,
    IndicatorUpdate,
    Verification,
)

MAX_CERTIFICATIONS_PER_CITY: Final = 50
MAX_INDICATORS_PER_CITY: Final = 500


# Credentials ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialFinding:
    """What the check of a credential found, as the row keeps it."""

    verified: bool
    issuer: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str | None = None


def check_credential(
    *, token: str, locode: str, keys: IssuerKeys, now: datetime
) -> CredentialFinding:
    """Verify `token` as a credential about city `locode`; `InvalidRequest` (422) for one that
    is malformed, forged or about another city."""
    try:
        parsed = ExternalCredential.parse(token)
        verified = parsed.verify(keys=keys, subject_id=city_subject_id(locode), now=now)
    except (MalformedError, SignatureInvalid) as exc:
        raise InvalidRequest(f"the credential is refused ({exc.reason.value}): {exc}") from exc
    except UntrustedIssuer as exc:
        return CredentialFinding(verified=False, note=str(exc)[:500])
    except (NotYetValid, Expired) as exc:
        # The signature and subject were checked: the issuer is known, only the dates fail.
        return CredentialFinding(verified=False, issuer=parsed.did, note=str(exc)[:500])
    return CredentialFinding(
        verified=True,
        issuer=verified.issuer,
        valid_from=verified.valid_from,
        valid_until=verified.valid_until,
    )


def is_verified(certification: OtherCertification, now: datetime) -> bool:
    if not certification.credential_verified:
        return False
    starts, ends = certification.credential_valid_from, certification.credential_valid_until
    return (starts is None or starts <= now) and (ends is None or now < ends)


def verification_of(certification: OtherCertification, now: datetime) -> Verification:
    return Verification.VERIFIED if is_verified(certification, now) else Verification.DECLARED


def _apply_credential(certification: OtherCertification, token: str | None, **check: Any) -> None:
    finding = (
        CredentialFinding(verified=False)
        if token is None
        else check_credential(token=token, locode=certification.city_locode, **check)
    )
    certification.credential = token
    certification.credential_verified = finding.verified
    certification.credential_issuer = finding.issuer
    certification.credential_valid_from = finding.valid_from
    certification.credential_valid_until = finding.valid_until
    certification.credential_note = finding.note


# Certifications ---------------------------------------------------------------------------------


def list_certifications(*, session: Session, city: City) -> list[OtherCertification]:
    return list(
        session.exec(
            select(OtherCertification)
            .where(OtherCertification.city_locode == city.locode)
            .order_by(col(OtherCertification.awarded_on).desc(), col(OtherCertification.id))
        ).all()
    )


def get_certification_or_raise(
    *, session: Session, city: City, certification_id: int
) -> OtherCertification:
    certification = session.get(OtherCertification, certification_id)
    if certification is None or certification.city_locode != city.locode:
        raise NotFound(f"city {city.locode} has no certification {certification_id}")
    return certification


def create_certification(
    *,
    session: Session,
    city: City,
    data: CertificationCreate,
    actor: Actor,
    keys: IssuerKeys,
    now: datetime | None = None,
) -> OtherCertification:
    # The city row is locked while counting, so two requests cannot both pass the cap.
    session.exec(select(City).where(City.locode == city.locode).with_for_update()).one()
    count = session.exec(
        select(func.count())
        .select_from(OtherCertification)
        .where(OtherCertification.city_locode == city.locode)
    ).one()
    if count >= MAX_CERTIFICATIONS_PER_CITY:
        raise Conflict(
            f"a city records at most {MAX_CERTIFICATIONS_PER_CITY} other certifications: "
            "remove one that no longer matters first"
        )
    certification = OtherCertification(
        city_locode=city.locode,
        scheme=data.scheme,
        issuer=data.issuer,
        level=data.level,
        awarded_on=data.awarded_on,
        valid_until=data.valid_until,
        created_by=saved_id(actor.user_id),
    )
    _apply_credential(certification, data.credential, keys=keys, now=now or utcnow())
    session.add(certification)
    session.flush()
    _audit(session, actor, "other_certification.create", certification)
    return certification


def update_certification(
    *,
    session: Session,
    certification: OtherCertification,
    data: CertificationUpdate,
    actor: Actor,
    keys: IssuerKeys,
    now: datetime | None = None,
) -> OtherCertification:
    changes = data.model_dump(exclude_unset=True)
    for name in ("scheme", "issuer", "awarded_on"):
        if name in changes and changes[name] is None:
            raise InvalidRequest(f"{name} cannot be removed, only changed")
    if "credential" in changes:
        _apply_credential(certification, changes.pop("credential"), keys=keys, now=now or utcnow())
    for name, value in changes.items():
        setattr(certification, name, "" if name == "level" and value is None else value)
    if (
        certification.valid_until is not None
        and certification.valid_until < certification.awarded_on
    ):
        raise InvalidRequest("valid_until is before awarded_on")
    certification.updated_at = utcnow()
    session.add(certification)
    session.flush()
    _audit(
        session,
        actor,
        "other_certification.update",
        certification,
        fields=sorted(data.model_dump(exclude_unset=True)),
    )
    return certification


def delete_certification(
    *, session: Session, certification: OtherCertification, actor: Actor
) -> None:
    _audit(session, actor, "other_certification.delete", certification)
    session.delete(certification)
    session.flush()


# Documents --------------------------------------------------------------------------------------


def document_quota_remaining(*, session: Session, city_locode: str, quota: int) -> int:
    """The city's evidence quota less its evidence files and its certifications' documents."""
    documents = session.exec(
        select(func.coalesce(func.sum(OtherCertification.document_size), 0)).where(
            OtherCertification.city_locode == city_locode
        )
    ).one()
    remaining = evidence_quota_remaining(session=session, city_locode=city_locode, quota=quota)
    return remaining - int(documents or 0)


def check_document_upload(
    *, session: Session, locode: str, certification_id: int, actor: Actor, quota: int
) -> int:
    """Whether `actor` may attach a document now; the quota remaining. Before any byte."""
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    get_certification_or_raise(session=session, city=city, certification_id=certification_id)
    remaining = document_quota_remaining(session=session, city_locode=city.locode, quota=quota)
    if remaining <= 0:
        raise Conflict(str(QuotaExceeded(quota_remaining=0)))
    return remaining


def attach_document(
    *,
    session: Session,
    locode: str,
    certification_id: int,
    stored: StoredEvidence,
    filename: str,
    actor: Actor,
    quota: int,
) -> OtherCertification:
    """Attach a stored file, checking again what may have changed while it streamed in."""
    city = get_city_or_raise(session=session, locode=locode, actor=actor)
    certification = get_certification_or_raise(
        session=session, city=city, certification_id=certification_id
    )
    # The document it replaces no longer counts against the quota.
    remaining = document_quota_remaining(session=session, city_locode=city.locode, quota=quota) + (
        certification.document_size or 0
    )
    if stored.size > remaining:
        raise Conflict(str(QuotaExceeded(quota_remaining=max(remaining, 0))))
    certification.document_digest = stored.digest
    certification.document_size = stored.size
    certification.document_media_type = stored.media_type
    certification.document_filename = filename
    certification.updated_at = utcnow()
    session.add(certification)
    session.flush()
    _audit(session, actor, "other_certification.document", certification, digest=stored.digest)
    return certification


# ESG indicators ---------------------------------------------------------------------------------


def list_indicators(*, session: Session, city: City) -> list[EsgIndicator]:
    return list(
        session.exec(
            select(EsgIndicator)
            .where(EsgIndicator.city_locode == city.locode)
            .order_by(col(EsgIndicator.code), col(EsgIndicator.year).desc())
        ).all()
    )


def get_indicator_or_raise(*, session: Session, city: City, indicator_id: int) -> EsgIndicator:
    indicator = session.get(EsgIndicator, indicator_id)
    if indicator is None or indicator.city_locode != city.locode:
        raise NotFound(f"city {city.locode} has no ESG indicator {indicator_id}")
    return indicator


def create_indicator(
    *, session: Session, city: City, data: IndicatorCreate, actor: Actor
) -> EsgIndicator:
    session.exec(select(City).where(City.locode == city.locode).with_for_update()).one()
    existing = session.exec(
        select(EsgIndicator).where(
            EsgIndicator.city_locode == city.locode,
            EsgIndicator.code == data.code,
            EsgIndicator.year == data.year,
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"{data.code} for {data.year} is already recorded (indicator {existing.id}): "
            "change that one"
        )
    count = session.exec(
        select(func.count())
        .select_from(EsgIndicator)
        .where(EsgIndicator.city_locode == city.locode)
    ).one()
    if count >= MAX_INDICATORS_PER_CITY:
        raise Conflict(f"a city records at most {MAX_INDICATORS_PER_CITY} ESG indicator values")
    indicator = EsgIndicator(
        city_locode=city.locode, created_by=saved_id(actor.user_id), **data.model_dump()
    )
    session.add(indicator)
    session.flush()
    _audit(session, actor, "esg_indicator.create", indicator, code=indicator.code)
    return indicator


def update_indicator(
    *, session: Session, indicator: EsgIndicator, data: IndicatorUpdate, actor: Actor
) -> EsgIndicator:
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidRequest(f"{name} cannot be removed, only changed")
        setattr(indicator, name, value)
    indicator.updated_at = utcnow()
    session.add(indicator)
    session.flush()
    _audit(session, actor, "esg_indicator.update", indicator, fields=sorted(changes))
    return indicator


def delete_indicator(*, session: Session, indicator: EsgIndicator, actor: Actor) -> None:
    _audit(session, actor, "esg_indicator.delete", indicator, code=indicator.code)
    session.delete(indicator)
    session.flush()


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    row: OtherCertification | EsgIndicator,
    **detail: Any,
) -> None:
    record(
        session=session,
        actor=actor,
        action=action,
        target_type=str(type(row).__tablename__),
        target_id=row.id,
        detail={"city": row.city_locode, **detail},
    )


# What investors read ----------------------------------------------------------------------------


@dataclass(slots=True)
class CityProfile:
    """A city's other certifications, verified apart from declared, and its ESG indicators."""

    verified: list[OtherCertification] = field(default_factory=list)
    declared: list[OtherCertification] = field(default_factory=list)
    indicators: list[EsgIndicator] = field(default_factory=list)


def profiles_of(
    *, session: Session, locodes: Sequence[str], now: datetime
) -> dict[str, CityProfile]:
    """The profiles of `locodes` (at most a few hundred per call), each read in one query."""
    profiles: dict[str, CityProfile] = defaultdict(CityProfile)
    if not locodes:
        return profiles
    certifications = session.exec(
        select(OtherCertification)
        .where(col(OtherCertification.city_locode).in_(locodes))
        .order_by(col(OtherCertification.awarded_on).desc(), col(OtherCertification.id))
    ).all()
    for certification in certifications:
        profile = profiles[certification.city_locode]
        (profile.verified if is_verified(certification, now) else profile.declared).append(
            certification
        )
    indicators = session.exec(
        select(EsgIndicator)
        .where(col(EsgIndicator.city_locode).in_(locodes))
        .order_by(col(EsgIndicator.code), col(EsgIndicator.year).desc())
    ).all()
    for indicator in indicators:
        profiles[indicator.city_locode].indicators.append(indicator)
    return profiles


def profile_version(*, session: Session) -> tuple[Any, ...]:
    """Changes whenever any city's profile does (for the export's ETag): counts and the latest
    change of both tables. A deletion lowers a count, so it shows too."""
    rows = [
        session.exec(select(func.count(), func.max(col(table.updated_at)))).one()
        for table in (OtherCertification, EsgIndicator)
    ]
    return tuple(value for row in rows for value in row)
