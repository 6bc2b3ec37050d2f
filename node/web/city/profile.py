"""The city's profile for investors (report §30d, §30e): its other certifications, each with a
document or its issuer's credential, and its ESG indicators. The same services as the API
(`node/othercerts`); a certification's document is checked as evidence is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from sdgcities.node.applications.routes import begin_writing
from sdgcities.node.applications.service import node_error_for
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.config import Settings
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import Conflict, NodeError
from sdgcities.node.evidence import (
    EvidenceError,
    EvidenceStore,
    QuotaExceeded,
    StoredEvidence,
    sanitise_filename,
)
from sdgcities.node.othercerts import service
from sdgcities.node.othercerts.schemas import CertificationCreate, IndicatorCreate
from sdgcities.node.schemas import Id
from sdgcities.node.timeutil import utcnow

from ..i18n import N_, Language
from ..pages import render
from ..routes import LanguageDep
from ..session import WebCaller, check_csrf
from .evidence import UPLOAD_MESSAGES, UPLOAD_REFUSED, upload_chunks
from .pages import City_

router = APIRouter(include_in_schema=False)

PROFILE_PATH: Final = "/{lang:lang}/city/profile"
CERTIFICATION_PAGE_PATH: Final = PROFILE_PATH + "/certifications"

# Each field's message when the service's rules refuse it.
FIELD_ERRORS: Final = {
    "scheme": N_("Enter the scheme or standard, at most 200 characters."),
    "issuer": N_("Enter who certified the city, at most 200 characters."),
    "level": N_("Enter the level in at most 100 characters, or leave it empty."),
    "awarded_on": N_("Enter the date of the award, from 2000 on."),
    "valid_until": N_("Enter a date after the award, or leave it empty."),
    "credential": N_(
        "Paste the credential as its issuer gave it (a vc+jwt token, at most 64 KiB)."
    ),
    "code": N_("Enter the indicator's code: letters, digits and . _ : / - only."),
    "name": N_("Enter the indicator's name, at most 200 characters."),
    "value": N_("Enter the value as a number, with a point for decimals."),
    "unit": N_("Enter the unit, at most 50 characters."),
    "year": N_("Enter the year, from 1990 to 2100."),
    "source": N_("Enter where the value comes from, at most 500 characters."),
}
CERTIFICATION_FIELDS: Final = (
    "scheme",
    "issuer",
    "level",
    "awarded_on",
    "valid_until",
    "credential",
)
INDICATOR_FIELDS: Final = ("code", "name", "value", "unit", "year", "source")


def _profile(
    request: Request,
    *,
    session: Session,
    language: Language,
    caller: WebCaller,
    status_code: int = 200,
    errors: Mapping[str, str] | None = None,
    sent: Mapping[str, str] | None = None,
    detail: str | None = None,
    form: str | None = None,
) -> Response:
    city = get_city_or_raise(
        session=session, locode=str(caller.actor.city_locode), actor=caller.actor
    )
    now = utcnow()
    certifications = service.list_certifications(session=session, city=city)
    return render(
        request,
        "city/profile.html",
        language=language,
        caller=caller,
        status_code=status_code,
        city=city,
        certifications=certifications,
        verified_ids={c.id for c in certifications if service.is_verified(c, now)},
        indicators=service.list_indicators(session=session, city=city),
        errors=errors or {},
        sent=sent or {},
        detail=detail,
        form=form,
        saved=request.query_params.get("saved"),
    )


@router.get(PROFILE_PATH)
def profile_page(
    request: Request, language: LanguageDep, caller: City_, session: ReadSessionDep
) -> Response:
    return _profile(request, session=session, language=language, caller=caller)


def _validated(
    model: type[CertificationCreate] | type[IndicatorCreate], sent: Mapping[str, str]
) -> tuple[Any, dict[str, str]]:
    """The form's values as the API's body, or each refused field's message."""
    values = {name: value for name, value in sent.items() if value != ""}
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            # A rule over several fields (the dates' order) names the later date.
            field = field if field in FIELD_ERRORS else "valid_until"
            errors.setdefault(field, FIELD_ERRORS[field])
        return None, errors


@router.post(CERTIFICATION_PAGE_PATH)
async def add_certification(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    state: StateDep,
) -> Response:
    """Checked as the API checks it; a document is stored as evidence is (before the row, on
    a session that holds no lock while the bytes arrive)."""
    await check_csrf(request, caller)
    form = await request.form()
    try:
        sent = {name: str(form.get(name) or "").strip() for name in CERTIFICATION_FIELDS}
        data, errors = _validated(CertificationCreate, sent)

        async def refuse(status_code: int, **what: Any) -> Response:
            await run_in_threadpool(session.rollback)
            return await run_in_threadpool(
                _profile,
                request,
                session=session,
                language=language,
                caller=caller,
                status_code=status_code,
                sent=sent,
                form="certification",
                **what,
            )

        if errors:
            return await refuse(400, errors=errors)
        upload = form.get("document")
        document = None
        if isinstance(upload, UploadFile) and upload.filename:
            try:
                stored = await _store_document(
                    upload, session=session, caller=caller, settings=state.settings
                )
            except NodeError as exc:
                return await refuse(
                    exc.status_code,
                    errors={"document": UPLOAD_MESSAGES.get(exc.status_code, UPLOAD_REFUSED)},
                )
            document = (stored, sanitise_filename(upload.filename))
        try:
            await run_in_threadpool(
                _create_certification,
                session,
                caller=caller,
                settings=state.settings,
                data=data,
                document=document,
            )
        except NodeError as exc:
            field = "credential" if exc.status_code == 422 else None
            return await refuse(
                exc.status_code,
                errors={field: FIELD_ERRORS["credential"]} if field else None,
                detail=exc.message,
            )
    finally:
        # The spooled file of the form is ours to close: the endpoint read the form itself.
        await form.close()
    return RedirectResponse(
        f"/{language.code}/city/profile?saved=certification#other-certifications", status_code=303
    )


def _create_certification(
    session: Session,
    *,
    caller: WebCaller,
    settings: Settings,
    data: CertificationCreate,
    document: tuple[StoredEvidence, str] | None,
) -> None:
    """The certification, with its `document` (stored already, and its file name) when one
    was sent, in the request's transaction."""
    begin_writing(session)
    city = get_city_or_raise(
        session=session, locode=str(caller.actor.city_locode), actor=caller.actor
    )
    certification = service.create_certification(
        session=session,
        city=city,
        data=data,
        actor=caller.actor,
        keys=settings.certification_issuer_keys,
    )
    if document is not None:
        assert certification.id is not None
        stored, filename = document
        service.attach_document(
            session=session,
            locode=city.locode,
            certification_id=certification.id,
            stored=stored,
            filename=filename,
            actor=caller.actor,
            quota=settings.city_quota_bytes,
        )


async def _store_document(
    upload: UploadFile, *, session: Session, caller: WebCaller, settings: Settings
) -> StoredEvidence:
    """The document stored by its content, within the city's quota; nothing locked meanwhile."""
    locode = str(caller.actor.city_locode)
    remaining = await run_in_threadpool(
        service.document_quota_remaining,
        session=session,
        city_locode=locode,
        quota=settings.city_quota_bytes,
    )
    if remaining <= 0:
        raise Conflict(str(QuotaExceeded(quota_remaining=0)))
    # Nothing is held while the bytes arrive; `attach_document` checks the quota again.
    await run_in_threadpool(session.commit)
    store = EvidenceStore(settings.evidence_dir, max_bytes=settings.evidence_max_bytes)
    try:
        return await store.store(upload_chunks(upload), quota_remaining=remaining)
    except EvidenceError as exc:
        raise node_error_for(exc) from exc


@router.post(CERTIFICATION_PAGE_PATH + "/{certification_id}/removal")
async def remove_certification(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    certification_id: Id,
) -> Response:
    await check_csrf(request, caller)
    city = get_city_or_raise(
        session=session, locode=str(caller.actor.city_locode), actor=caller.actor
    )
    certification = service.get_certification_or_raise(
        session=session, city=city, certification_id=certification_id
    )
    service.delete_certification(session=session, certification=certification, actor=caller.actor)
    return RedirectResponse(
        f"/{language.code}/city/profile?saved=removed#other-certifications", status_code=303
    )


@router.post(PROFILE_PATH + "/indicators")
async def add_indicator(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    sent = {name: str(form.get(name) or "").strip() for name in INDICATOR_FIELDS}
    data, errors = _validated(IndicatorCreate, sent)
    detail = None
    if not errors:
        city = get_city_or_raise(
            session=session, locode=str(caller.actor.city_locode), actor=caller.actor
        )
        try:
            service.create_indicator(session=session, city=city, data=data, actor=caller.actor)
        except NodeError as exc:
            session.rollback()
            detail = exc.message
            status_code = exc.status_code
        else:
            return RedirectResponse(
                f"/{language.code}/city/profile?saved=indicator#esg-indicators", status_code=303
            )
    return _profile(
        request,
        session=session,
        language=language,
        caller=caller,
        status_code=status_code if detail else 400,
        errors=errors,
        sent=sent,
        detail=detail,
        form="indicator",
    )


@router.post(PROFILE_PATH + "/indicators/{indicator_id}/removal")
async def remove_indicator(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: SessionDep,
    indicator_id: Id,
) -> Response:
    await check_csrf(request, caller)
    city = get_city_or_raise(
        session=session, locode=str(caller.actor.city_locode), actor=caller.actor
    )
    indicator = service.get_indicator_or_raise(
        session=session, city=city, indicator_id=indicator_id
    )
    service.delete_indicator(session=session, indicator=indicator, actor=caller.actor)
    return RedirectResponse(
        f"/{language.code}/city/profile?saved=removed#esg-indicators", status_code=303
    )
