"""`/applications`: a city's applications, its answers, and its evidence files.

City applicants act for their own city and see only its applications (404 for any other);
administrators act on any city's behalf; the secretariat reads every application, a reviewer
those assigned to them (404 for any other).

Evidence is uploaded as the raw request body (`Content-Type: application/octet-stream`), with
the file's name in the `filename` query parameter or a `Content-Disposition` header, and streamed
to the content-addressed store: never buffered whole, refused as soon as it passes the size cap
(at once when its declared `Content-Length` does). Answers:

- 413: larger than the per-file cap (`SDGCITIES_EVIDENCE_MAX_BYTES`, 25 MiB by default);
- 415: not sent as `application/octet-stream`, or its bytes are not an allowed type;
- 409: the city's storage quota (`SDGCITIES_CITY_QUOTA_BYTES`) would be exceeded, or the
  application is no longer a draft (during a clarification: the criterion was not asked about);
- 422: the file is empty.

A download whose stored bytes no longer match their digest (changed or missing on disk) is not
served: it answers 409 with the reason, and the failure goes into the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from functools import partial
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.teams import UnLanguage
from sdgcities.node.actor import Actor
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.config import Settings
from sdgcities.node.db import WRITE_INTENT
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.errors import Conflict, PayloadTooLarge, UnsupportedMediaType
from sdgcities.node.evidence import (
    EvidenceCorrupted,
    EvidenceError,
    EvidenceMissing,
    EvidenceStore,
    EvidenceTooLarge,
    StoredEvidence,
    content_disposition,
    sanitise_filename,
)
from sdgcities.node.frameworks.service import document_of
from sdgcities.node.renewal import service as renewal
from sdgcities.node.renewal.schemas import RenewalStart
from sdgcities.node.schemas import Id, Limit, Offset

from . import service
from .models import Application, ApplicationState
from .schemas import (
    AnswerPublic,
    AnswerUpdate,
    ApplicationCreate,
    ApplicationDetail,
    ApplicationLanguage,
    ApplicationPublic,
    ApplicationsPublic,
    EvidencePublic,
)

router = APIRouter(tags=["applications"])

Writer = Annotated[Actor, access(Role.ADMINISTRATOR, Role.CITY_APPLICANT)]
Reader = Annotated[
    Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT, Role.REVIEWER, Role.CITY_APPLICANT)
]
# Who routes an application to a technical team: the secretariat and administrators.
Dispatcher = Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT)]
Code = Annotated[str, Path(max_length=32)]

OCTET_STREAM = "application/octet-stream"
Stored = TypeVar("Stored")
EVIDENCE_UPLOAD_PATH = "/applications/{application_id}/criteria/{code}/evidence"


def _detail(session: Session, application: Application) -> ApplicationDetail:
    framework = service.framework_of(session=session, application=application)
    codes = document_of(framework).criteria_codes(application.stage)
    order = {code: index for index, code in enumerate(codes)}
    answers = sorted(
        service.answers_of(session=session, application=application),
        key=lambda answer: order.get(answer.criterion_code, len(order)),
    )
    return ApplicationDetail(
        **ApplicationPublic.model_validate(application).model_dump(),
        framework_id=framework.framework_id,
        framework_version=framework.version,
        framework_digest=framework.digest,
        criteria=list(codes),
        missing=service.missing_criteria(codes, answers),
        to_confirm=service.unconfirmed_criteria(answers),
        answers=[AnswerPublic.model_validate(answer) for answer in answers],
        evidence=[
            EvidencePublic.model_validate(evidence)
            for evidence in service.evidence_of(session=session, application=application)
        ],
    )


def _page(applications: list[Application], count: int) -> ApplicationsPublic:
    return ApplicationsPublic(
        data=[ApplicationPublic.model_validate(a) for a in applications], count=count
    )


@router.post("/applications", status_code=status.HTTP_201_CREATED)
def create_application(
    session: SessionDep, state: StateDep, actor: Writer, body: ApplicationCreate
) -> ApplicationDetail:
    """Apply for a stage, under a framework version usable for certification. On the global
    node: only for a city of a country without a national node (409 with a `referral` to it
    otherwise), and routed to the technical team of the application's UN language."""
    application = service.create_application(
        session=session, data=body, actor=actor, node_id=state.settings.node_id
    )
    return _detail(session, application)


@router.get("/applications")
def list_applications(
    session: ReadSessionDep,
    actor: Reader,
    city_locode: Annotated[str | None, Query(max_length=6)] = None,
    state: ApplicationState | None = None,
    stage: Annotated[str | None, Query(max_length=32)] = None,
    team: Annotated[
        UnLanguage | None,
        Query(description="Only those routed to this UN language's technical team"),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> ApplicationsPublic:
    """Applications, newest first (a city applicant's: its own city's only)."""
    applications, count = service.list_applications(
        session=session,
        actor=actor,
        offset=offset,
        limit=limit,
        city_locode=city_locode,
        state=state,
        stage=stage,
        team=team,
    )
    return _page(applications, count)


@router.get("/cities/{locode}/applications")
def list_city_applications(
    session: ReadSessionDep,
    actor: Reader,
    locode: Annotated[str, Path(max_length=6)],
    offset: Offset = 0,
    limit: Limit = 100,
) -> ApplicationsPublic:
    """A city's applications, newest first."""
    get_city_or_raise(session=session, locode=locode, actor=actor)
    applications, count = service.list_applications(
        session=session, actor=actor, offset=offset, limit=limit, city_locode=locode
    )
    return _page(applications, count)


@router.get("/applications/{application_id}")
def get_application(
    session: ReadSessionDep, actor: Reader, application_id: Id
) -> ApplicationDetail:
    """An application with its answers, its evidence and the criteria still unanswered."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    return _detail(session, application)


@router.put("/applications/{application_id}/criteria/{code}")
def answer_criterion(
    session: SessionDep, actor: Writer, application_id: Id, code: Code, body: AnswerUpdate
) -> AnswerPublic:
    """Answer a criterion (replacing the previous answer): in a draft, or during a
    clarification for the criteria the reviewers asked about."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    answer = service.save_answer(
        session=session, application=application, code=code, data=body, actor=actor
    )
    return AnswerPublic.model_validate(answer)


@router.put("/applications/{application_id}/language")
def route_application(
    session: SessionDep, actor: Dispatcher, application_id: Id, body: ApplicationLanguage
) -> ApplicationDetail:
    """Route the application to another UN language's technical team, before reviewers are
    assigned (draft or submitted)."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    service.set_language(
        session=session, application=application, language=body.language, actor=actor
    )
    return _detail(session, application)


@router.post("/applications/{application_id}/submit")
def submit_application(
    session: SessionDep, state: StateDep, actor: Writer, application_id: Id
) -> ApplicationDetail:
    """Submit a draft for review; every criterion needs an answer with a narrative."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    service.submit_application(
        session=session,
        application=application,
        actor=actor,
        node_id=state.settings.node_id,
        fee_required=state.settings.fees_required_before_submission,
    )
    return _detail(session, application)


@router.post("/applications/{application_id}/withdraw")
def withdraw_application(
    session: SessionDep, state: StateDep, actor: Writer, application_id: Id
) -> ApplicationDetail:
    """Withdraw an open application (from draft to recommended)."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    service.withdraw_application(
        session=session, application=application, actor=actor, node_id=state.settings.node_id
    )
    return _detail(session, application)


# Renewal (node/renewal) -------------------------------------------------------------------------


@router.post("/certificates/{certificate_id}/renewal", status_code=status.HTTP_201_CREATED)
def start_renewal(
    session: SessionDep,
    state: StateDep,
    actor: Writer,
    certificate_id: Annotated[str, Path(max_length=64)],
    body: RenewalStart | None = None,
) -> ApplicationDetail:
    """Start renewing a certificate within its renewal window: a draft application for the same
    stage, its answers and evidence carried over from the certificate's award, each to confirm
    or update before submission. 403 for another city's certificate; 409 outside the window,
    once ended, suspended, revoked or renewed, or while the city has an open application."""
    application = renewal.start_renewal(
        session=session,
        certificate_id=certificate_id,
        actor=actor,
        node_id=state.settings.node_id,
        window_days=state.settings.renewal_window_days,
        framework_version_id=body.framework_version_id if body is not None else None,
    )
    return _detail(session, application)


@router.post("/applications/{application_id}/criteria/{code}/confirm")
def confirm_answer(
    session: SessionDep, actor: Writer, application_id: Id, code: Code
) -> AnswerPublic:
    """Confirm a renewal's carried-over answer, with its evidence, as it stands (saving the
    answer confirms it too)."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    answer = renewal.confirm_answer(
        session=session, application=application, code=code, actor=actor
    )
    return AnswerPublic.model_validate(answer)


# Evidence ---------------------------------------------------------------------------------------


def evidence_store(settings: Settings) -> EvidenceStore:
    return EvidenceStore(settings.evidence_dir, max_bytes=settings.evidence_max_bytes)


def begin_writing(session: Session) -> None:
    """End the session's read transaction and begin one that will write.

    Uploads and downloads run on a read session so that no write lock is held while bytes move
    (on SQLite a writing transaction holds the database's one write lock from its start).
    """
    session.commit()
    session.connection(execution_options={WRITE_INTENT: True})


def upload_filename(request: Request, query: str | None) -> str:
    if query is None:
        header = request.headers.get("content-disposition")
        if header is not None:
            message = Message()
            message["content-disposition"] = header
            query = message.get_filename()
    return sanitise_filename(query)


@dataclass(frozen=True, slots=True)
class RawUpload:
    """A file sent as the raw request body, checked before a byte of it is read: its content
    type, its declared length against the evidence cap, and its name."""

    store: EvidenceStore
    declared: int | None
    name: str

    @classmethod
    def of(cls, request: Request, *, settings: Settings, filename: str | None) -> RawUpload:
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != OCTET_STREAM:
            raise UnsupportedMediaType(
                f"send the file as the request body with Content-Type: {OCTET_STREAM} (its type "
                "is judged from its content)"
            )
        store = evidence_store(settings)
        declared = declared_length(request)
        if declared is not None and declared > store.max_bytes:
            raise PayloadTooLarge(str(EvidenceTooLarge(max_bytes=store.max_bytes)))
        return cls(store, declared, upload_filename(request, filename))

    async def receive(
        self,
        request: Request,
        *,
        session: Session,
        check: Callable[[], int],
        attach: Callable[[StoredEvidence], Stored],
    ) -> Stored:
        """Stream the body into the store and `attach` what was stored, in `session`'s
        transaction. `check` runs first and gives the city's quota remaining. Nothing is held
        while the body streams in, so `attach` checks again what may have changed meanwhile."""
        remaining = await run_in_threadpool(check)
        await run_in_threadpool(session.commit)
        try:
            stored = await self.store.store(
                request.stream(), declared_length=self.declared, quota_remaining=remaining
            )
        except EvidenceError as exc:
            raise service.node_error_for(exc) from exc

        def write() -> Stored:
            session.connection(execution_options={WRITE_INTENT: True})
            return attach(stored)

        return await run_in_threadpool(write)


def declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    return int(declared) if declared is not None and declared.isdigit() else None


@router.post(
    EVIDENCE_UPLOAD_PATH,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_evidence(
    request: Request,
    session: ReadSessionDep,
    state: StateDep,
    actor: Writer,
    application_id: Id,
    code: Code,
    filename: Annotated[str | None, Query(max_length=1024)] = None,
) -> EvidencePublic:
    """Attach an evidence file to a criterion of a draft or, during a clarification, to a
    criterion the reviewers asked about (PDF, PNG, JPEG, CSV, XLSX, DOCX, ODT or plain text,
    judged from its bytes)."""
    upload = RawUpload.of(request, settings=state.settings, filename=filename)
    quota = state.settings.city_quota_bytes

    def attach(stored: StoredEvidence) -> EvidencePublic:
        evidence = service.add_evidence(
            session=session,
            application_id=application_id,
            code=code,
            stored=stored,
            filename=upload.name,
            actor=actor,
            quota=quota,
        )
        return EvidencePublic.model_validate(evidence)

    return await upload.receive(
        request,
        session=session,
        check=partial(
            service.check_upload,
            session=session,
            application_id=application_id,
            code=code,
            actor=actor,
            quota=quota,
        ),
        attach=attach,
    )


@router.get(
    "/applications/{application_id}/evidence/{evidence_id}",
    response_class=FileResponse,
    responses={200: {"content": {OCTET_STREAM: {}}}},
)
def download_evidence(
    session: ReadSessionDep, state: StateDep, actor: Reader, application_id: Id, evidence_id: Id
) -> Response:
    """The evidence file, as an attachment, after checking it against its digest."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    evidence = service.get_evidence_or_raise(
        session=session, application=application, evidence_id=evidence_id
    )
    try:
        path = evidence_store(state.settings).open_verified(evidence.digest)
    except (EvidenceCorrupted, EvidenceMissing) as exc:
        # Answered, not raised: the audit entry must be committed with the response.
        begin_writing(session)
        service.record_integrity_failure(
            session=session, evidence=evidence, actor=actor, reason=type(exc).__name__
        )
        error = Conflict(str(exc))
        return JSONResponse(
            {"detail": error.message, "code": error.code}, status_code=error.status_code
        )
    return FileResponse(
        path,
        media_type=evidence.media_type.value,
        headers={
            "Content-Disposition": content_disposition(evidence.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


@router.delete(
    "/applications/{application_id}/evidence/{evidence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_evidence(
    session: SessionDep, actor: Writer, application_id: Id, evidence_id: Id
) -> None:
    """Detach an evidence file from a draft."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    evidence = service.get_evidence_or_raise(
        session=session, application=application, evidence_id=evidence_id
    )
    service.delete_evidence(
        session=session, application=application, evidence=evidence, actor=actor
    )
