"""`/registry`: the public registry of certified cities (DESIGN §6), for investors and anyone.

On a national node it lists the node's own certificates; on the global node every certificate
of the federation, as the nodes reported them (`state.registry.source`, see `cache.py`), with the
same answers.

Anonymous and read-only: every route lets everyone through without looking at a token, and reads
on a session that takes no write lock. Certificate ids are `urn:uuid:...`; the colons need no
escaping in a path, and a percent-encoded id (`urn%3Auuid%3A...`) is decoded before routing, so
both spellings name the same certificate.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from sdgcities.credentials import VC_JWT_TYP
from sdgcities.node.applications.routes import OCTET_STREAM, evidence_store
from sdgcities.node.deps import Anyone, ReadSessionDep, ReadSessionOpenerDep, StateDep
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.evidence import EvidenceCorrupted, EvidenceMissing, content_disposition
from sdgcities.node.frameworks import LEVEL_BY_STAGE, Level, StageKey
from sdgcities.node.http_caching import etag_matches
from sdgcities.node.othercerts.models import OtherCertification
from sdgcities.node.othercerts.service import profile_version, profiles_of
from sdgcities.node.schemas import Id, Offset
from sdgcities.node.timeutil import utcnow

from . import export, service
from .profiles import public_profile
from .schemas import (
    CertifiedCities,
    CertifiedCity,
    CityRecord,
    CredentialRecord,
    RegistryCertificate,
)

router = APIRouter(prefix="/registry", tags=["registry"])

VC_JWT = f"application/{VC_JWT_TYP}"
# Listings change when a committee decides: a minute of caching is invisible next to a meeting.
LISTING_CACHE = "public, max-age=60"
# A certificate's text never changes; its status lives in the status lists, not here.
CREDENTIAL_CACHE = "public, max-age=300"
MAX_QUERY_LENGTH = 100
MAX_LIMIT = 500


def city_filter(
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    ] = None,
    level: Annotated[Level | None, Query(description="The city's highest current level")] = None,
    stage: Annotated[StageKey | None, Query(description="The stage of that level")] = None,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_LENGTH, description="Part of the name or UN/LOCODE, any case"),
    ] = None,
    priority: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_LENGTH, description="A strategic priority, any case"),
    ] = None,
) -> service.CityFilter:
    """The registry's filters, as the listing and the exports read them."""
    return service.CityFilter(
        country=country.upper() if country else None,
        level=level,
        stage=stage,
        q=(q or "").strip() or None,
        priority=(priority or "").strip() or None,
    )


Filters = Annotated[service.CityFilter, Depends(city_filter)]


@router.get("/cities")
def list_certified_cities(
    session: ReadSessionDep,
    state: StateDep,
    _actor: Anyone,
    response: Response,
    filters: Filters,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> CertifiedCities:
    """Certified cities, by name: those holding at least one certificate that is active and
    within its validity now, each at its highest current level. `count` is over all pages.

    A committee decision shows at once; a change to a city's own fields within a minute."""
    snapshot = state.registry.snapshot(session=session, now=utcnow())
    listed, count = service.list_certified_cities(
        snapshot=snapshot, filters=filters, offset=offset, limit=limit
    )
    response.headers["Cache-Control"] = LISTING_CACHE
    return CertifiedCities(
        data=[
            CertifiedCity(
                locode=entry.locode,
                name=entry.name,
                country=entry.country,
                region=entry.region,
                population=entry.population,
                priorities=list(entry.priorities),
                level=entry.level,
                stage=entry.stage,
            )
            for entry in listed
        ],
        count=count,
    )


@router.get("/cities/{locode}", responses={404: {"description": "Never certified, or unknown"}})
def read_certified_city(
    session: ReadSessionDep,
    state: StateDep,
    _actor: Anyone,
    response: Response,
    locode: Annotated[str, Path(max_length=6, description="UN/LOCODE, e.g. KE-NBO")],
) -> CityRecord:
    """A certified city and every certificate it was issued, the latest awarded first:
    current and past (expired, suspended, revoked). A city never certified answers 404."""
    now = utcnow()
    city, certificates = service.get_city_record_or_raise(
        session=session, locode=locode.upper(), now=now, source=state.registry.source
    )
    highest = service.highest_current(certificates)
    links = service.renewal_links(
        session=session, ids=[c.id for c in certificates], source=state.registry.source
    )
    profile = profiles_of(session=session, locodes=[city.locode], now=now)[city.locode]
    other_certifications, esg_indicators = public_profile(profile, base_url=state.settings.base_url)
    response.headers["Cache-Control"] = LISTING_CACHE
    return CityRecord(
        locode=city.locode,
        name=city.name,
        country=city.country,
        region=city.region,
        population=city.population,
        priorities=city.priorities,
        level=LEVEL_BY_STAGE[highest] if highest else None,
        stage=highest,
        certificates=[
            RegistryCertificate(
                id=c.id,
                stage=c.stage,
                level=c.level,
                status=c.status,
                current=c.current,
                valid_from=c.valid_from,
                valid_until=c.valid_until,
                issued_at=c.issued_at,
                url=credential_url(state.settings.base_url, c.id),
                renews=links.get(c.id, (None, None))[0],
                renewed_by=links.get(c.id, (None, None))[1],
            )
            for c in certificates
        ],
        other_certifications=other_certifications,
        esg_indicators=esg_indicators,
    )


@router.get(
    "/cities/{locode}/certifications/{certification_id}/document",
    response_class=FileResponse,
    responses={
        200: {"content": {OCTET_STREAM: {}}},
        404: {"description": "No such certified city, certification or document"},
        409: {"description": "The stored file failed its integrity check"},
    },
)
def download_certification_document(
    session: ReadSessionDep,
    state: StateDep,
    _actor: Anyone,
    locode: Annotated[str, Path(max_length=6, description="UN/LOCODE, e.g. KE-NBO")],
    certification_id: Id,
) -> Response:
    """The document a certified city gave for another certification, as an attachment, after
    checking it against its digest. What it says is the city's declaration."""
    locode = locode.upper()
    # Only a city the registry lists has a public profile (the same 404 as its record).
    service.get_city_record_or_raise(
        session=session, locode=locode, now=utcnow(), source=state.registry.source
    )
    certification = session.get(OtherCertification, certification_id)
    if (
        certification is None
        or certification.city_locode != locode
        or certification.document_digest is None
        or certification.document_media_type is None
    ):
        raise NotFound(f"city {locode} has no document for certification {certification_id}")
    try:
        path = evidence_store(state.settings).open_verified(certification.document_digest)
    except (EvidenceCorrupted, EvidenceMissing) as exc:
        raise Conflict(str(exc)) from exc
    return FileResponse(
        path,
        media_type=certification.document_media_type.value,
        headers={
            "Content-Disposition": content_disposition(
                certification.document_filename or "document"
            ),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": LISTING_CACHE,
        },
    )


EXPORT_FORMATS = {"csv": export.CSV_MEDIA_TYPE, "json": export.JSON_MEDIA_TYPE}


@router.get(
    "/export.{format}",
    responses={
        200: {
            "content": {
                export.CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                export.JSON_MEDIA_TYPE: {"schema": {"type": "object"}},
            }
        },
        304: {"description": "Unchanged since the `If-None-Match` ETag"},
        404: {"description": "Not an export format (csv or json)"},
        422: {"description": "A filter is not valid, or too many cities match"},
    },
)
def export_registry(
    session: ReadSessionDep,
    open_session: ReadSessionOpenerDep,
    state: StateDep,
    _actor: Anyone,
    filters: Filters,
    format: Annotated[str, Path(max_length=4, description="csv or json")],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The certified cities the filters select (as `GET /registry/cities` has them, all pages),
    each with its level, its other certifications (verified apart from declared) and the ESG
    indicators it declared, as an attachment: CSV (one row per fact, safe to open in a
    spreadsheet) or JSON. At most 10,000 cities; narrow the filters for more."""
    media_type = EXPORT_FORMATS.get(format)
    if media_type is None:
        raise NotFound(f"no export format {format!r}: csv or json")
    now = utcnow()
    snapshot = state.registry.snapshot(session=session, now=now)
    entries, count = service.list_certified_cities(
        snapshot=snapshot, filters=filters, offset=0, limit=export.MAX_EXPORT_CITIES + 1
    )
    if count > export.MAX_EXPORT_CITIES:
        raise InvalidRequest(
            f"{count} certified cities match; an export holds at most "
            f"{export.MAX_EXPORT_CITIES}: narrow it with country, level, stage, q or priority"
        )
    described = {name: value for name, value in filters.describe().items() if value is not None}
    version = json.dumps(
        [
            format,
            described,
            snapshot.head,
            snapshot.taken_at.isoformat(),
            profile_version(session=session),
        ],
        default=str,
    )
    etag = f'"{hashlib.sha256(version.encode()).hexdigest()}"'
    headers = {
        "ETag": etag,
        "Cache-Control": LISTING_CACHE,
        "Content-Disposition": (
            f'attachment; filename="sdgcities-registry-{state.settings.node_id.lower()}-'
            f'{now.date().isoformat()}.{format}"'
        ),
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    base_url = state.settings.base_url
    body = (
        export.stream_csv(open_session=open_session, entries=entries, now=now, base_url=base_url)
        if format == "csv"
        else export.stream_json(
            open_session=open_session,
            entries=entries,
            now=now,
            base_url=base_url,
            node=state.settings.node_id,
            filters=described,
        )
    )
    return StreamingResponse(body, media_type=media_type, headers=headers)


@router.get(
    "/credentials/{credential_id}",
    response_model=CredentialRecord,
    responses={
        200: {"content": {VC_JWT: {"schema": {"type": "string"}}}},
        304: {"description": "Unchanged since the `If-None-Match` ETag"},
        404: {"description": "No such certificate"},
    },
)
def read_credential(
    session: ReadSessionDep,
    state: StateDep,
    _actor: Anyone,
    credential_id: Annotated[str, Path(max_length=64, description="urn:uuid:...")],
    accept: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One certificate as issued: `{"jwt", "credential"}` (the token and its decoded payload),
    or with `Accept: application/vc+jwt` the token alone. Its status is not here: ask
    `POST /verify`, or read the status lists the credential names."""
    token = service.get_token_or_raise(
        session=session, credential_id=credential_id, source=state.registry.source
    )
    as_token = wants_token(accept)
    digest = hashlib.sha256(token.encode("ascii")).hexdigest()
    # The two representations differ, so their (strong) validators differ too.
    etag = f'"{digest}"' if as_token else f'"{digest}-json"'
    headers = {"ETag": etag, "Cache-Control": CREDENTIAL_CACHE, "Vary": "Accept"}
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if as_token:
        return Response(token, media_type=VC_JWT, headers=headers)
    body = CredentialRecord(jwt=token, credential=service.credential_of(token))
    return JSONResponse(body.model_dump(mode="json", by_alias=True), headers=headers)


def credential_url(base_url: str, credential_id: str) -> str:
    return f"{base_url}/registry/credentials/{quote(credential_id, safe=':')}"


def wants_token(accept: str | None) -> bool:
    """Whether `Accept` prefers `application/vc+jwt` to JSON (the default, also on a tie)."""
    if not accept:
        return False
    quality = {VC_JWT: 0.0, "application/json": 0.0}
    specificity = dict.fromkeys(quality, -1)
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        for offered in quality:
            kind = offered.split("/")[0]
            rank = {offered: 2, f"{kind}/*": 1, "*/*": 0}.get(media, -1)
            # The most specific range that matches a type gives its quality (RFC 9110 §12.5.1).
            if rank > specificity[offered]:
                specificity[offered], quality[offered] = rank, q
    return quality[VC_JWT] > 0 and quality[VC_JWT] > quality["application/json"]
