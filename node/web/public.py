"""The public pages, for investors and anyone: the registry of certified cities, a city's
certificates, one certificate (printable, with a QR code and its token), and an Atom feed of the
registry's changes.

They read what the JSON registry reads (`node/registry`), through the same services and the same
snapshot of the certified cities, so on the global node they show the whole federation. Filters
come from a GET form that works without script; a value the form cannot have sent is a 400 page
that says which, not a crash.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sdgcities.credentials import VC_JWT_TYP, isoformat
from sdgcities.credentials.vc import parse_datetime
from sdgcities.node.accounts.models import Role
from sdgcities.node.config import Settings
from sdgcities.node.deps import ReadSessionDep, StateDep
from sdgcities.node.errors import NotFound
from sdgcities.node.frameworks import LEVEL_BY_STAGE
from sdgcities.node.othercerts.service import profiles_of
from sdgcities.node.registry import service
from sdgcities.node.registry.cache import Snapshot
from sdgcities.node.registry.profiles import document_path
from sdgcities.node.registry.routes import MAX_QUERY_LENGTH
from sdgcities.node.timeutil import utcnow
from sdgcities.node.watches.models import WatchTarget

from .errors import error_page
from .i18n import BY_CODE, N_, Language, translations
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, page_access
from .terms import LEVEL_NAMES, STAGE_NAMES
from .watches import watch_link

router = APIRouter(include_in_schema=False)
Visitor = Annotated[WebCaller, page_access(Role.PUBLIC)]

PAGE_SIZE: Final = 20
FEED_SIZE: Final = 50
MAX_CREDENTIAL_ID: Final = 64
MAX_LOCODE: Final = 6
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE: Final = "application/atom+xml; charset=utf-8"
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9-]")

# The API's `active` is what an investor calls valid.
STATUS_NAMES: Final = {
    "active": N_("Valid"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
}
STATUS_MEANINGS: Final = {
    "active": N_("The committee's award stands and the certificate is within its validity."),
    "suspended": N_(
        "The committee has suspended this certificate. It is not valid while suspended; the "
        "committee may reinstate it."
    ),
    "revoked": N_("The committee has revoked this certificate. It is no longer valid, for good."),
    "expired": N_("The certificate's validity has ended. The city may have been certified again."),
}
FEED_TITLES: Final = {
    "certified": N_("%(city)s (%(locode)s) certified at %(level)s level"),
    "suspended": N_("%(city)s (%(locode)s): %(level)s certificate suspended"),
    "reinstated": N_("%(city)s (%(locode)s): %(level)s certificate reinstated"),
    "revoked": N_("%(city)s (%(locode)s): %(level)s certificate revoked"),
}
# Why a filter was refused, by field; the template shows each next to its field.
FILTER_ERRORS: Final = {
    "q": N_("Enter at most 100 characters"),
    "country": N_("Choose a country from the list"),
    "stage": N_("Choose a stage from the list"),
    "level": N_("Choose a level from the list"),
    "priority": N_("Enter at most 100 characters"),
    "page": N_("The page must be a whole number from 1"),
}


@dataclass(frozen=True, slots=True)
class RegistryQuery:
    """The registry form's values as sent (to fill the form again) and as understood."""

    sent: Mapping[str, str]
    filters: service.CityFilter
    page: int
    errors: Mapping[str, str]


def read_registry_query(params: Mapping[str, str]) -> RegistryQuery:
    """The form's values; a field the form cannot have sent is an error, never a guess."""
    sent = {
        name: (params.get(name) or "").strip()
        for name in ("q", "country", "stage", "level", "priority", "page")
    }
    errors: dict[str, str] = {}
    for name in ("q", "priority"):
        if len(sent[name]) > MAX_QUERY_LENGTH:
            errors[name] = FILTER_ERRORS[name]
    if sent["country"] and not _COUNTRY.fullmatch(sent["country"]):
        errors["country"] = FILTER_ERRORS["country"]
    if sent["stage"] and sent["stage"] not in STAGE_NAMES:
        errors["stage"] = FILTER_ERRORS["stage"]
    if sent["level"] and sent["level"] not in LEVEL_NAMES:
        errors["level"] = FILTER_ERRORS["level"]
    page = 1
    if sent["page"]:
        if sent["page"].isascii() and sent["page"].isdigit() and 0 < int(sent["page"]) < 10**6:
            page = int(sent["page"])
        else:
            errors["page"] = FILTER_ERRORS["page"]
    filters = service.CityFilter()
    if not errors:
        filters = service.CityFilter(
            country=sent["country"].upper() or None,
            stage=sent["stage"] or None,  # type: ignore[arg-type]
            level=sent["level"] or None,  # type: ignore[arg-type]
            q=sent["q"] or None,
            priority=sent["priority"] or None,
        )
    return RegistryQuery(sent=sent, filters=filters, page=page, errors=errors)


def country_name(language: Language, code: str) -> str:
    """The country's name in the page's language (Babel's CLDR data), or its code."""
    name: str = language.babel_locale.territories.get(code.upper(), code.upper())
    return name


def country_choices(snapshot: Snapshot, language: Language) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country with a certified city, by name in the page's language."""
    return _sorted_countries(tuple(snapshot.by_country), language.code)


@lru_cache(maxsize=64)
def _sorted_countries(codes: tuple[str, ...], language_code: str) -> tuple[tuple[str, str], ...]:
    # The same few lists for every page until a country gains or loses its last certified city.
    language = BY_CODE[language_code]
    named = [(code, country_name(language, code)) for code in codes]
    return tuple(sorted(named, key=lambda pair: (pair[1].casefold(), pair[0])))


def page_link(path: str, sent: Mapping[str, str], page: int) -> str:
    kept = {name: value for name, value in sent.items() if value and name != "page"}
    if page > 1:
        kept["page"] = str(page)
    return f"{path}?{urlencode(kept)}" if kept else path


def certificate_path(language: Language, credential_id: str) -> str:
    return f"/{language.code}/certificates/{quote(credential_id, safe=':')}"


def certificate_url(settings: Settings, language: Language, credential_id: str) -> str:
    """The page's absolute address: the QR code's and the feed's target."""
    return f"{settings.base_url}{certificate_path(language, credential_id)}"


@lru_cache(maxsize=1024)
def qr_svg(target: str) -> bytes:
    """The QR code of `target` as an SVG document.

    Served as its own image rather than inlined: choosing the best of the eight masks takes
    segno some 10 to 40 ms, which a browser then keeps for a year (the address never changes
    what it encodes), so the page itself stays fast.
    """
    out = io.BytesIO()
    segno.make(target, error="m").save(
        out, kind="svg", scale=4, border=2, omitsize=True, lineclass=None, xmldecl=True
    )
    return out.getvalue()


def not_found(request: Request, language: Language, message: str, **values: str) -> Response:
    detail = translations(language.code).gettext(message) % values
    return error_page(request, status_code=404, detail=detail)


@router.get("/{lang:lang}/registry")
def registry_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: ReadSessionDep,
    state: StateDep,
) -> Response:
    query = read_registry_query(request.query_params)
    snapshot = state.registry.snapshot(session=session, now=utcnow())
    context: dict[str, Any] = {
        "sent": query.sent,
        "errors": query.errors,
        "countries": country_choices(snapshot, language),
        "stage_names": STAGE_NAMES,
        "level_names": LEVEL_NAMES,
        "country_name": lambda code: country_name(language, code),
        "feed_path": page_link(
            f"/{language.code}/registry/feed.atom", {"country": query.sent["country"]}, 1
        )
        if "country" not in query.errors
        else f"/{language.code}/registry/feed.atom",
        "is_global": state.settings.is_global,
        "watch_path": watch_link(
            session=session,
            state=state,
            language=language,
            kind=WatchTarget.COUNTRY,
            target=query.sent["country"],
            country=query.sent["country"],
        )
        if query.sent.get("country") and "country" not in query.errors
        else None,
    }
    if query.errors:
        return render(
            request,
            "public/registry.html",
            language=language,
            caller=caller,
            status_code=400,
            **context,
        )
    offset = (query.page - 1) * PAGE_SIZE
    listed, count = service.list_certified_cities(
        snapshot=snapshot, filters=query.filters, offset=offset, limit=PAGE_SIZE
    )
    pages = max(1, math.ceil(count / PAGE_SIZE))
    path = f"/{language.code}/registry"
    # The exports hold every page the filters select (node/registry/export.py).
    filters = urlencode(
        {name: value for name, value in query.sent.items() if value and name != "page"}
    )
    return render(
        request,
        "public/registry.html",
        language=language,
        caller=caller,
        # A page past the last one is not there; the page says so and links back.
        status_code=404 if query.page > pages else 200,
        cities=listed,
        count=count,
        page=query.page,
        pages=pages,
        previous_link=page_link(path, query.sent, query.page - 1) if query.page > 1 else None,
        next_link=page_link(path, query.sent, query.page + 1) if query.page < pages else None,
        first_link=page_link(path, query.sent, 1),
        export_query=f"?{filters}" if filters else "",
        **context,
    )


@router.get("/{lang:lang}/registry/feed.atom")
def registry_feed(
    request: Request,
    language: LanguageDep,
    _caller: Visitor,
    session: ReadSessionDep,
    state: StateDep,
) -> Response:
    """Atom 1.0 (RFC 4287): the registry's latest changes, of one country if asked."""
    country = (request.query_params.get("country") or "").strip()
    if country and not _COUNTRY.fullmatch(country):
        detail = translations(language.code).gettext(FILTER_ERRORS["country"])
        return error_page(request, status_code=400, detail=detail)
    country = country.upper()
    changes = service.list_registry_changes(
        session=session,
        country=country or None,
        limit=FEED_SIZE,
        source=state.registry.source,
    )
    xml = atom_feed(
        settings=state.settings, language=language, country=country or None, changes=changes
    )
    return Response(
        xml,
        media_type=ATOM_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def atom_feed(
    *,
    settings: Settings,
    language: Language,
    country: str | None,
    changes: list[service.RegistryChange],
) -> bytes:
    gettext = translations(language.code).gettext
    base = settings.base_url
    query = f"?{urlencode({'country': country})}" if country else ""
    ET.register_namespace("", ATOM_NS)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> None:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
        element.text = text

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": language.code})
    self_url = f"{base}/{language.code}/registry/feed.atom{query}"
    # The feed's id is its address (language and country included): stable, and unique.
    add(feed, "id", self_url)
    title = gettext("Certified cities: changes to the registry")
    if country:
        title = gettext("%(country)s: changes to the registry of certified cities") % {
            "country": country_name(language, country)
        }
    add(feed, "title", f"{title} ({settings.node_name})")
    latest = max((change.at for change in changes), default=None)
    add(feed, "updated", isoformat(latest or utcnow()))
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    add(author, "name", settings.node_name)
    add(author, "uri", base)
    add(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    add(feed, "link", rel="alternate", href=f"{base}/{language.code}/registry{query}")
    for change in changes:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        # The same change has the same id in every language and on every read.
        add(entry, "id", change_id(change))
        add(
            entry,
            "title",
            gettext(FEED_TITLES[change.kind])
            % {
                "city": change.city_name,
                "locode": change.locode,
                "level": gettext(LEVEL_NAMES[change.level]),
            },
        )
        add(entry, "updated", isoformat(change.at))
        add(
            entry,
            "link",
            rel="alternate",
            href=certificate_url(settings, language, change.certificate_id),
        )
        add(entry, "category", term=change.kind, label=gettext(STATUS_OR_KIND[change.kind]))
        add(
            entry,
            "summary",
            gettext("%(stage)s, %(country)s, certificate %(id)s")
            % {
                "stage": gettext(STAGE_NAMES[change.stage]),
                "country": country_name(language, change.country),
                "id": change.certificate_id,
            },
        )
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


STATUS_OR_KIND: Final = {
    "certified": N_("Certified"),
    "suspended": N_("Suspended"),
    "reinstated": N_("Reinstated"),
    "revoked": N_("Revoked"),
}


def change_id(change: service.RegistryChange) -> str:
    moment = int(change.at.timestamp())
    return f"urn:sdgcities:registry-change:{change.certificate_id}:{change.kind}:{moment}"


@router.get("/{lang:lang}/cities/{locode}")
def city_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: ReadSessionDep,
    state: StateDep,
    locode: str,
) -> Response:
    if len(locode) > MAX_LOCODE:
        return not_found(
            request, language, N_("No certified city has the code %(locode)s."), locode=locode
        )
    try:
        city, certificates = service.get_city_record_or_raise(
            session=session, locode=locode.upper(), now=utcnow(), source=state.registry.source
        )
    except NotFound:
        return not_found(
            request, language, N_("No certified city has the code %(locode)s."), locode=locode
        )
    highest = service.highest_current(certificates)
    profile = profiles_of(session=session, locodes=[city.locode], now=utcnow())[city.locode]
    return render(
        request,
        "public/city.html",
        language=language,
        caller=caller,
        city=city,
        country=country_name(language, city.country),
        watch_path=watch_link(
            session=session,
            state=state,
            language=language,
            kind=WatchTarget.CITY,
            target=city.locode,
            country=city.country,
        ),
        certificates=certificates,
        # The city's history: which certificate renews which (node/renewal).
        links=service.renewal_links(
            session=session, ids=[c.id for c in certificates], source=state.registry.source
        ),
        valid_from_of={c.id: c.valid_from for c in certificates},
        highest_level=LEVEL_BY_STAGE[highest] if highest else None,
        stage_names=STAGE_NAMES,
        level_names=LEVEL_NAMES,
        status_names=STATUS_NAMES,
        certificate_path=lambda credential_id: certificate_path(language, credential_id),
        # Other certifications and ESG indicators (report §30d, §30e): verified apart from
        # declared, never mixed.
        profile=profile,
        document_path=document_path,
    )


@dataclass(frozen=True, slots=True)
class Statement:
    """What the signed certificate states beyond the row's columns, for reading."""

    title: str
    issuer_name: str
    issuer_id: str
    framework_id: str
    framework_version: str
    framework_digest: str
    committee: str
    meeting: str
    decided_at: datetime | None


def _member(parent: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def statement_of(credential: Mapping[str, Any]) -> Statement:
    """The credential's issuer, framework and decision (every certificate states them; a
    missing member shows empty rather than failing the page)."""
    issuer = credential.get("issuer")
    subject = _member(credential, "credentialSubject")
    framework = _member(subject, "framework")
    decision = _member(subject, "decision")
    decided_at: datetime | None
    try:
        decided_at = parse_datetime(str(decision.get("decidedAt", "")))
    except ValueError:
        decided_at = None
    return Statement(
        title=str(credential.get("name", "")),
        issuer_name=str(issuer.get("name", "")) if isinstance(issuer, dict) else "",
        issuer_id=str(issuer.get("id", "")) if isinstance(issuer, dict) else str(issuer or ""),
        framework_id=str(framework.get("id", "")),
        framework_version=str(framework.get("version", "")),
        framework_digest=str(framework.get("digest", "")),
        committee=str(decision.get("committee", "")),
        meeting=str(decision.get("meeting", "")),
        decided_at=decided_at,
    )


@router.get("/{lang:lang}/certificates/{credential_id}")
def certificate_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    session: ReadSessionDep,
    state: StateDep,
    found: FoundCertificate,
) -> Response:
    address = certificate_url(state.settings, language, found.issued.id)
    own_path = certificate_path(language, found.issued.id)
    return render(
        request,
        "public/certificate.html",
        language=language,
        caller=caller,
        certificate=found,
        statement=statement_of(found.credential),
        country=country_name(language, found.country),
        watch_path=watch_link(
            session=session,
            state=state,
            language=language,
            kind=WatchTarget.CERTIFICATE,
            target=found.issued.id,
            country=found.country,
        ),
        address=address,
        qr_path=f"{own_path}/qr.svg",
        stage_names=STAGE_NAMES,
        level_names=LEVEL_NAMES,
        status_names=STATUS_NAMES,
        status_meanings=STATUS_MEANINGS,
        token_path=f"{own_path}/certificate.jwt",
        api_path=f"/registry/credentials/{quote(found.issued.id, safe=':')}",
    )


@router.get("/{lang:lang}/certificates/{credential_id}/certificate.jwt")
def certificate_token(_caller: Visitor, found: FoundCertificate) -> Response:
    """The exact signed text, as a file to keep or to give to a verifier."""
    safe_id = _UNSAFE_IN_FILENAME.sub("", found.issued.id.rpartition(":")[2])
    filename = f"sdgcities-{_UNSAFE_IN_FILENAME.sub('', found.locode)}-{safe_id}.jwt"
    return Response(
        found.token,
        media_type=f"application/{VC_JWT_TYP}",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/{lang:lang}/certificates/{credential_id}/qr.svg")
def certificate_qr_code(
    language: LanguageDep, _caller: Visitor, state: StateDep, found: FoundCertificate
) -> Response:
    """The QR code of the certificate page's absolute address (in this language)."""
    address = certificate_url(state.settings, language, found.issued.id)
    return Response(
        qr_svg(address),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def found_certificate(
    credential_id: str, language: LanguageDep, session: ReadSessionDep, state: StateDep
) -> service.PublicCertificate:
    """The certificate a path names; otherwise a 404 page that says so in the page's language."""
    missing = translations(language.code).gettext(N_("There is no certificate %(id)s.")) % {
        "id": credential_id
    }
    if len(credential_id) > MAX_CREDENTIAL_ID:
        raise NotFound(missing)
    try:
        return service.get_certificate_or_raise(
            session=session,
            credential_id=credential_id,
            now=utcnow(),
            source=state.registry.source,
        )
    except NotFound:
        raise NotFound(missing) from None


FoundCertificate = Annotated[service.PublicCertificate, Depends(found_certificate)]
