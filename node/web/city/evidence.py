"""Evidence on the city's pages: uploads (a multipart form, checked as the API checks a raw
upload) and downloads of the city's own files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from sdgcities.node.applications import service as applications
from sdgcities.node.applications.routes import download_evidence as api_download_evidence
from sdgcities.node.config import Settings
from sdgcities.node.db import WRITE_INTENT
from sdgcities.node.deps import ReadSessionDep, StateDep
from sdgcities.node.errors import NodeError
from sdgcities.node.evidence import EvidenceError, EvidenceStore, sanitise_filename
from sdgcities.node.schemas import Id

from ..errors import error_page
from ..i18n import N_, Language
from ..routes import LanguageDep
from ..session import WebCaller, check_csrf
from .forms import slug
from .pages import APPLICATION_PATH, City_, Code, application_url, render_application

router = APIRouter(include_in_schema=False)

EVIDENCE_PAGE_PATH: Final = APPLICATION_PATH + "/criteria/{code}/evidence"
_UPLOAD_CHUNK: Final = 1024 * 1024
# What a multipart upload form adds to its file (boundaries, part headers, the form token): the
# node's body cap for the upload page is the evidence cap plus this; the store checks the file.
UPLOAD_FORM_OVERHEAD: Final = 64 * 1024


async def upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_UPLOAD_CHUNK):
        yield chunk


UPLOAD_REFUSED: Final = N_("The file could not be added.")
UPLOAD_MESSAGES: Final = {
    413: N_("The file is too large."),
    415: N_(
        "This kind of file is not accepted: upload a PDF, an image (PNG or JPEG), a spreadsheet "
        "(CSV or XLSX), a document (DOCX or ODT) or plain text."
    ),
    409: N_(
        "The file cannot be added now: your city's storage is full, or this criterion cannot "
        "change any more."
    ),
    422: N_("The file is empty."),
}


@router.post(EVIDENCE_PAGE_PATH)
async def upload_evidence(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    state: StateDep,
    application_id: Id,
    code: Code,
) -> Response:
    """The same steps as the API's upload: checked before the file is stored, stored by its
    content (its type judged from its bytes), checked again before it is attached."""
    await check_csrf(request, caller)
    form = await request.form()
    try:
        return await _store_upload(
            request,
            form.get("file"),
            language=language,
            caller=caller,
            session=session,
            settings=state.settings,
            application_id=application_id,
            code=code,
        )
    finally:
        # The spooled file of the form is ours to close: the endpoint read the form itself.
        await form.close()


async def _store_upload(
    request: Request,
    upload: UploadFile | str | None,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    settings: Settings,
    application_id: int,
    code: str,
) -> Response:

    async def refuse(status_code: int, message: str) -> Response:
        application = await run_in_threadpool(
            applications.get_application_or_raise,
            session=session,
            application_id=application_id,
            actor=caller.actor,
        )
        return await run_in_threadpool(
            render_application,
            request,
            session=session,
            language=language,
            caller=caller,
            application=application,
            status_code=status_code,
            upload_errors={code: message},
        )

    if not isinstance(upload, UploadFile) or not upload.filename:
        return await refuse(400, N_("Choose a file to upload."))
    try:
        remaining = await run_in_threadpool(
            applications.check_upload,
            session=session,
            application_id=application_id,
            code=code,
            actor=caller.actor,
            quota=settings.city_quota_bytes,
        )
    except NodeError as exc:
        if exc.status_code == 404:
            raise
        await run_in_threadpool(session.rollback)
        return await refuse(exc.status_code, UPLOAD_MESSAGES.get(exc.status_code, UPLOAD_REFUSED))
    await run_in_threadpool(session.commit)
    store = EvidenceStore(settings.evidence_dir, max_bytes=settings.evidence_max_bytes)
    try:
        stored = await store.store(upload_chunks(upload), quota_remaining=remaining)
    except EvidenceError as exc:
        error = applications.node_error_for(exc)
        return await refuse(
            error.status_code, UPLOAD_MESSAGES.get(error.status_code, UPLOAD_REFUSED)
        )

    def attach() -> None:
        session.connection(execution_options={WRITE_INTENT: True})
        applications.add_evidence(
            session=session,
            application_id=application_id,
            code=code,
            stored=stored,
            filename=sanitise_filename(upload.filename),
            actor=caller.actor,
            quota=settings.city_quota_bytes,
        )

    try:
        await run_in_threadpool(attach)
    except NodeError as exc:
        await run_in_threadpool(session.rollback)
        return await refuse(exc.status_code, UPLOAD_MESSAGES.get(exc.status_code, UPLOAD_REFUSED))
    return RedirectResponse(
        application_url(language, application_id, f"?saved={code}#criterion-{slug(code)}"),
        status_code=303,
    )


@router.get(APPLICATION_PATH + "/evidence/{evidence_id}")
def download_evidence(
    request: Request,
    caller: City_,
    session: ReadSessionDep,
    state: StateDep,
    application_id: Id,
    evidence_id: Id,
) -> Response:
    """The city's own evidence file, served exactly as the API serves it (its digest checked,
    an attachment that no browser runs); a file that fails its check is a 409 page."""
    response = api_download_evidence(
        session=session,
        state=state,
        actor=caller.actor,
        application_id=application_id,
        evidence_id=evidence_id,
    )
    if response.status_code >= 400:
        return error_page(request, status_code=response.status_code)
    return response
