"""Reading the public registry: which cities are certified, and what each was issued.

A city is *certified* while it holds at least one current certificate: active (neither suspended
nor revoked) and now within its validity. The listing shows each certified city once, at its
highest current level, and its `level` and `stage` filters match that level; it is read from
the node's snapshot of the certified cities (`.cache`). A city's record lists every certificate
it was ever issued, current or past (a revocation is something an investor needs to see), read
afresh each time; a city that never held one is not in the registry at all: it answers 404,
exactly as an unknown city does, so the registry does not tell who applied.

Only public facts leave here: a city's public fields and what its certificates state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlmodel import Session, col, or_, select

from sdgcities.credentials import VC_JWT_TYP, JwsToken
from sdgcities.node.certificates.models import CertificateStatus
from sdgcities.node.cities.models import City
from sdgcities.node.errors import NotFound
from sdgcities.node.federation_registry.models import FederationCity
from sdgcities.node.frameworks import Level, StageKey

from .cache import NATIONAL, RANK_BY_LEVEL, STAGE_BY_RANK, Entry, RegistrySource, Snapshot
from .schemas import PublicStatus


@dataclass(frozen=True, slots=True)
class CityFilter:
    country: str | None = None
    level: Level | None = None
    stage: StageKey | None = None
    # A part of the city's name or UN/LOCODE, in any case.
    q: str | None = None
    # One of the city's strategic priorities, in any case.
    priority: str | None = None

    def __post_init__(self) -> None:
        # Case-folded once here, not once per city compared.
        for name in ("q", "priority"):
            value = getattr(self, name)
            object.__setattr__(self, name, value.casefold() if value else None)

    def describe(self) -> dict[str, str | None]:
        """The filters by their query names (as an export states what it holds)."""
        return {
            "country": self.country,
            "level": self.level,
            "stage": self.stage,
            "q": self.q,
            "priority": self.priority,
        }

    def admits(self, entry: Entry) -> bool:
        if self.country is not None and entry.country != self.country:
            return False
        if self.level is not None and entry.level != self.level:
            return False
        if self.stage is not None and entry.stage != self.stage:
            return False
        if self.q and self.q not in entry.name_key and self.q not in entry.locode_key:
            return False
        return not self.priority or self.priority in entry.priority_keys


def list_certified_cities(
    *, snapshot: Snapshot, filters: CityFilter, offset: int, limit: int
) -> tuple[list[Entry], int]:
    """The certified cities that match, by name, and how many match over all pages."""
    # Start from the narrowest ready-made list: a country's cities, those a search finds, a
    # level's. The filter still checks every candidate, unless the list is exactly its answer.
    candidates: Sequence[Entry] | None = None
    if filters.country is not None:
        candidates = snapshot.by_country.get(filters.country, ())
        answered = CityFilter(country=filters.country)
    elif filters.q:
        candidates = snapshot.containing(filters.q)
        answered = CityFilter(q=filters.q)
    if candidates is None and filters.level is not None:
        candidates = snapshot.by_level.get(filters.level, ())
        answered = CityFilter(level=filters.level)
    if candidates is None:
        candidates, answered = snapshot.entries, CityFilter()
    matching = (
        candidates
        if filters == answered
        else [entry for entry in candidates if filters.admits(entry)]
    )
    return list(matching[offset : offset + limit]), len(matching)


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate's public facts (the row without its token)."""

    id: str
    stage: StageKey
    level: Level
    status: PublicStatus
    current: bool
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime


def public_status(
    *, status: CertificateStatus, valid_until: datetime, now: datetime
) -> PublicStatus:
    """Revoked is final whatever the dates; past its validity a certificate is expired, even
    while suspended (a suspension can no longer be lifted into a valid certificate)."""
    if status is CertificateStatus.REVOKED:
        return "revoked"
    if valid_until <= now:
        return "expired"
    return "suspended" if status is CertificateStatus.SUSPENDED else "active"


def get_city_record_or_raise(
    *, session: Session, locode: str, now: datetime, source: RegistrySource = NATIONAL
) -> tuple[City | FederationCity, list[Issued]]:
    """The city and its certificates, the latest awarded first; `NotFound` unless it ever
    held one."""
    certificate, city = source.certificate, source.city
    # One statement: a city with no certificate has no row here, which is the 404.
    rows: Sequence[Any] = session.exec(
        select(  # type: ignore[call-overload]
            city,
            col(certificate.id),
            col(certificate.stage),
            col(certificate.level),
            col(certificate.status),
            col(certificate.valid_from),
            col(certificate.valid_until),
            col(certificate.issued_at),
        )
        .join(certificate, col(certificate.city_locode) == col(city.locode))
        .where(col(city.locode) == locode)
        # The latest decision first (`validFrom` is the decision's date).
        .order_by(
            col(certificate.valid_from).desc(),
            col(certificate.issued_at).desc(),
            col(certificate.id),
        )
    ).all()
    if not rows:
        raise NotFound(f"no certified city {locode}")
    issued = [
        Issued(
            id=row.id,
            stage=row.stage,
            level=row.level,
            status=public_status(status=row.status, valid_until=row.valid_until, now=now),
            current=(
                row.status is CertificateStatus.ACTIVE and row.valid_from <= now < row.valid_until
            ),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            issued_at=row.issued_at,
        )
        for row in rows
    ]
    return rows[0][0], issued


def renewal_links(
    *, session: Session, ids: Sequence[str], source: RegistrySource = NATIONAL
) -> dict[str, tuple[str | None, str | None]]:
    """For each of the certificates `ids`: the one it renews and the one renewing it (node/renewal).

    The signed credential does not state the link: a national node reads its own record, the
    global node what the node's `credential.issued` event said, checked when it was projected
    (`node/federation_registry/projection.py`).
    """
    if not ids:
        return {}
    certificate = source.certificate
    rows = session.exec(
        select(col(certificate.id), col(certificate.renews)).where(
            or_(col(certificate.id).in_(ids), col(certificate.renews).in_(ids))
        )
    ).all()
    renews: dict[str, str | None] = dict(rows)
    renewed_by = {renewed: renewing for renewing, renewed in rows if renewed is not None}
    return {id: (renews.get(id), renewed_by.get(id)) for id in ids}


def highest_current(certificates: Sequence[Issued]) -> StageKey | None:
    ranks = [RANK_BY_LEVEL[c.level] for c in certificates if c.current]
    return STAGE_BY_RANK[max(ranks)] if ranks else None


def get_token_or_raise(
    *, session: Session, credential_id: str, source: RegistrySource = NATIONAL
) -> str:
    certificate = source.certificate
    token = session.exec(
        select(col(certificate.token)).where(col(certificate.id) == credential_id)
    ).first()
    if token is None:
        raise NotFound(f"no certificate {credential_id}")
    return token


def credential_of(token: str) -> dict[str, Any]:
    """The credential a stored token states: its JWT payload, decoded.

    The signature is not checked here: this node signed the text and stored it as signed (on
    the global node: checked against its issuer's key when it was reported), and checking is
    what `POST /verify` (or any verifier) is for.
    """
    payload: dict[str, Any] = json.loads(JwsToken.parse(token, typ=VC_JWT_TYP).payload_bytes)
    return payload


@dataclass(frozen=True, slots=True)
class PublicCertificate:
    """One certificate as the public sees it: its facts, its live status, its city and the
    exact signed text."""

    issued: Issued
    locode: str
    city_name: str
    country: str
    token: str

    @property
    def credential(self) -> dict[str, Any]:
        return credential_of(self.token)


def get_certificate_or_raise(
    *, session: Session, credential_id: str, now: datetime, source: RegistrySource = NATIONAL
) -> PublicCertificate:
    """A certificate with its city's public name; `NotFound` for an id the registry lacks."""
    certificate, city = source.certificate, source.city
    row: Any = session.exec(
        select(
            certificate,
            col(city.name),
            col(city.country),
        )
        .join(city, col(certificate.city_locode) == col(city.locode))
        .where(col(certificate.id) == credential_id)
    ).first()
    if row is None:
        raise NotFound(f"no certificate {credential_id}")
    found, city_name, country = row
    return PublicCertificate(
        issued=Issued(
            id=found.id,
            stage=found.stage,
            level=found.level,
            status=public_status(status=found.status, valid_until=found.valid_until, now=now),
            current=(
                found.status is CertificateStatus.ACTIVE
                and found.valid_from <= now < found.valid_until
            ),
            valid_from=found.valid_from,
            valid_until=found.valid_until,
            issued_at=found.issued_at,
        ),
        locode=found.city_locode,
        city_name=city_name,
        country=country,
        token=found.token,
    )


ChangeKind = Literal["certified", "suspended", "reinstated", "revoked"]


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """A change an investor watches: a city certified, or a certificate's status changed."""

    kind: ChangeKind
    at: datetime
    certificate_id: str
    stage: StageKey
    level: Level
    locode: str
    city_name: str
    country: str


_STATUS_CHANGE: Final[dict[CertificateStatus, ChangeKind]] = {
    CertificateStatus.SUSPENDED: "suspended",
    CertificateStatus.ACTIVE: "reinstated",
    CertificateStatus.REVOKED: "revoked",
}


def list_registry_changes(
    *, session: Session, country: str | None, limit: int, source: RegistrySource = NATIONAL
) -> list[RegistryChange]:
    """The latest changes, newest first: each certificate's award (when it was issued) and its
    latest status change (suspended, reinstated or revoked, when it was decided).

    Read from the certificates themselves, so the global node's feed covers the federation as
    its registry does. A certificate suspended and later reinstated shows its reinstatement
    only: the row keeps its latest status, not its history.
    """
    certificate, city = source.certificate, source.city
    columns = (
        col(certificate.id),
        col(certificate.stage),
        col(certificate.level),
        col(certificate.status),
        col(certificate.city_locode),
        col(city.name),
        col(city.country),
    )

    def latest(moment: Any) -> list[Any]:
        query = (
            select(*columns, moment)  # type: ignore[call-overload]
            .join(city, col(certificate.city_locode) == col(city.locode))
            .where(moment.is_not(None))
            .order_by(moment.desc(), col(certificate.id))
            .limit(limit)
        )
        if country is not None:
            query = query.where(col(city.country) == country)
        return list(session.exec(query).all())

    changes = [
        RegistryChange("certified", at, cid, stage, level, locode, name, land)
        for cid, stage, level, _, locode, name, land, at in latest(col(certificate.issued_at))
    ]
    changes += [
        RegistryChange(_STATUS_CHANGE[status], at, cid, stage, level, locode, name, land)
        for cid, stage, level, status, locode, name, land, at in latest(
            col(certificate.status_changed_at)
        )
    ]
    changes.sort(key=lambda change: (change.at, change.kind, change.certificate_id), reverse=True)
    return changes[:limit]
