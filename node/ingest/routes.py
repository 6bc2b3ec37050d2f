"""The federation store's HTTP API; mounted on the global node only (`create_app`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlmodel import col, select

from sdgcities.federation import MAX_REPORT_BYTES, REPORT_MEDIA_TYPE
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.db import SessionOpener, session_opener
from sdgcities.node.deps import Anyone, ReadSessionDep, StateDep, access
from sdgcities.node.errors import (
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from sdgcities.node.events.schemas import ChainHeadPublic

from .models import AlarmKind, IngestAlarm, IngestedLog, ReportSource
from .pull import pull_node
from .received import received_statement
from .schemas import (
    AlarmPublic,
    AlarmsPublic,
    IngestedLogPublic,
    IngestedLogsPublic,
    MissingRange,
    PullPublic,
    ReceiptPublic,
    ReceivedPublic,
    ReportRefusal,
)
from .service import IngestRuntime, ReportConflict, raise_refusal, receive_report
from .workers import IngestPool, Refusal

router = APIRouter(tags=["federation"])
REPORTS_PATH = "/federation/reports"
REPORT_TOO_LARGE = f"a report is at most {MAX_REPORT_BYTES} bytes"

Secretariat = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]


async def get_write_session_opener(state: StateDep) -> SessionOpener:
    return session_opener(state.engine)


# The report streams in before any transaction begins: no write lock is held while bytes arrive.
WriteSessionOpenerDep = Annotated[SessionOpener, Depends(get_write_session_opener)]


def _runtime(request: Request) -> IngestRuntime:
    runtime: IngestRuntime = request.app.state.ingest
    return runtime


@router.post(
    REPORTS_PATH,
    responses={
        409: {"model": ReportRefusal, "description": "a gap, a fork or a rollback"},
        413: {"description": f"the report is over {MAX_REPORT_BYTES} bytes"},
        415: {"description": f"the body is not {REPORT_MEDIA_TYPE}"},
        422: {"description": "not a valid report of a member (signature, signer, events)"},
        503: {"description": "an ingest worker stopped: nothing was stored, send it again"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {REPORT_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def post_report(
    request: Request, state: StateDep, open_session: WriteSessionOpenerDep, _actor: Anyone
) -> ReceiptPublic:
    """A member node's signed report (`federation-report+jwt`, the compact JWS as the body).

    The report proves itself: it must be signed with a key the trust list gives the node it
    names. Sending the same report again, or one that overlaps what is held with the same
    events, gets a receipt and adds nothing. A report that starts past the held log answers 409
    with the `missing` range (the global node also pulls it); one that contradicts what the node
    reported before (a fork or a rollback) answers 409 and raises an alarm.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != REPORT_MEDIA_TYPE:
        raise UnsupportedMediaType(f"send the report as {REPORT_MEDIA_TYPE}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REPORT_BYTES:
        raise PayloadTooLarge(REPORT_TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REPORT_BYTES:
            raise PayloadTooLarge(REPORT_TOO_LARGE)
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise InvalidRequest("a report is a compact JWS (ASCII)") from exc
    runtime = _runtime(request)
    pool: IngestPool | None = request.app.state.ingest_pool
    try:
        if pool is None:
            accepted = await run_in_threadpool(
                receive_report,
                state=state,
                runtime=runtime,
                token=token,
                source=ReportSource.PUSHED,
                open_session=open_session,
            )
        else:
            outcome = await pool.ingest(token)
            if isinstance(outcome, Refusal):
                raise_refusal(runtime, outcome.error())
            accepted = outcome
    except ReportConflict as exc:
        refusal = ReportRefusal(
            detail=exc.message,
            code=exc.reason_code,
            missing=MissingRange(first=exc.missing[0], last=exc.missing[1])
            if exc.missing
            else None,
        )
        return JSONResponse(  # type: ignore[return-value]
            refusal.model_dump(mode="json", exclude_none=True), status_code=409
        )
    return ReceiptPublic(
        receipt=accepted.receipt,
        node_id=accepted.node_id,
        first=accepted.first,
        last=accepted.last,
        added=accepted.added,
        head=ChainHeadPublic(sequence=accepted.head.sequence, hash=accepted.head.hash),
    )


@router.post("/federation/members/{node_id}/pull")
async def pull_member(
    request: Request, state: StateDep, _actor: Secretariat, node_id: str
) -> PullPublic:
    """Fetch the member's events after what is held, from its feed, and ingest them now."""
    result = await run_in_threadpool(
        pull_node, state=state, runtime=_runtime(request), node_id=node_id
    )
    return PullPublic(
        node_id=result.node_id,
        pages=result.pages,
        added=result.added,
        head=ChainHeadPublic(sequence=result.head.sequence, hash=result.head.hash),
    )


@router.get(
    "/federation/received/{credential_id}",
    responses={404: {"description": "the global node holds no such certificate"}},
)
def get_received(
    session: ReadSessionDep, state: StateDep, _actor: Anyone, credential_id: str
) -> ReceivedPublic:
    """Whether the global node received this certificate in a member's signed report, when, and
    in which report; signed with the global node's key (`received-statement+jwt`). The trust
    list's `receivedBeforeCutoff` carries the same facts for every cut-off."""
    answer = received_statement(session=session, state=state, credential_id=credential_id)
    if answer is None:
        raise NotFound(f"the global node has not received certificate {credential_id}")
    return answer


@router.get("/federation/logs")
def get_logs(session: ReadSessionDep, _actor: Secretariat) -> IngestedLogsPublic:
    """Each node's log as held here: its head, its last report, a gap waiting to be pulled."""
    rows = session.exec(select(IngestedLog).order_by(col(IngestedLog.node_id))).all()
    return IngestedLogsPublic(
        data=[IngestedLogPublic.model_validate(r) for r in rows], count=len(rows)
    )


@router.get("/federation/alarms")
def get_alarms(
    session: ReadSessionDep,
    _actor: Secretariat,
    node_id: str | None = None,
    kind: AlarmKind | None = None,
) -> AlarmsPublic:
    """Forks, rollbacks, broken chains, impersonations, gaps and refused certificates, newest
    first, with their evidence."""
    query = select(IngestAlarm).order_by(col(IngestAlarm.id).desc())
    if node_id is not None:
        query = query.where(IngestAlarm.node_id == node_id)
    if kind is not None:
        query = query.where(IngestAlarm.kind == kind)
    rows = session.exec(query).all()
    return AlarmsPublic(data=[AlarmPublic.model_validate(r) for r in rows], count=len(rows))
