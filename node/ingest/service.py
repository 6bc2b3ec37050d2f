"""Taking in member nodes' reports on the global node: verify, check the chain, store once.

Every report, pushed (`POST /federation/reports`), pulled (`pull.py`) or the global node's own
(`LOCAL`), goes through `ingest_report`. One report is one transaction: the node's row in
`ingested_log` is locked, what the report adds is decided by `federation.ingest.plan_ingest`
against the held head, and the new events are inserted in one statement.

A refusal that must leave a trace (an alarm, a gap to fill) is returned as `Refused`, so the
caller commits the trace before it answers the error (`receive_report`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any, Final, NoReturn

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import JwsToken, TrustList
from sdgcities.federation import (
    GENESIS_HASH,
    MAX_REPORT_BYTES,
    REPORT_TYP,
    ChainError,
    ChainHead,
    ForkDetected,
    ReportBatch,
    ReportInvalid,
    ReportTooLarge,
    Rollback,
    SequenceGap,
)
from sdgcities.federation.ingest import (
    IngestPlan,
    impersonator,
    plan_ingest,
    report_digest,
    sign_receipt,
)
from sdgcities.node.communities.across import take_consents
from sdgcities.node.db import SessionOpener, insert_rows, session_opener, table_of
from sdgcities.node.errors import Conflict, InvalidRequest, NodeError, PayloadTooLarge
from sdgcities.node.federation_registry.projection import project_events
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.models import TrustListCopy
from sdgcities.node.trust.service import load_current

from .models import (
    AlarmKind,
    IngestAlarm,
    IngestedEvent,
    IngestedLog,
    ReceivedReport,
    ReportSource,
)

logger = logging.getLogger(__name__)


class ReportConflict(Conflict):
    """409: the report does not continue the held log; `missing` is the range of node
    `node_id`'s log to send first."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        missing: tuple[int, int] | None = None,
        node_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason_code = code
        self.missing = missing
        self.node_id = node_id


@dataclass(frozen=True, slots=True)
class Accepted:
    node_id: str
    first: int
    last: int
    added: int
    head: ChainHead
    receipt: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class Refused:
    error: NodeError


# The statements run for every report, built once: building one (its clauses coerced, an upsert's
# `excluded` alias made) cost more CPU than running it. Those that read plain columns are Core
# statements on the tables: through the ORM's entities each cost a tenth of a millisecond more.
_REPORTS = table_of(ReceivedReport).c
_NEWEST_TRUST_LIST: Final = core_select(func.max(table_of(TrustListCopy).c.sequence))
_STORED_RECEIPT: Final = (
    core_select(_REPORTS.receipt, _REPORTS.head_sequence, _REPORTS.head_hash)
    .where(_REPORTS.token_sha256 == bindparam("digest"))
    .limit(1)
)
_INSERT_REPORT: Final = insert(table_of(ReceivedReport)).returning(_REPORTS.id)


class TrustListCache:
    """The accepted trust list, parsed once per sequence (ingest reads it on every report)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: TrustList | None = None

    def current(self, *, session: Session, state: NodeState) -> TrustList | None:
        sequence = session.execute(_NEWEST_TRUST_LIST).scalar_one()
        cached = self._current
        if cached is not None and cached.sequence == sequence:
            return cached
        with self._lock:
            try:
                self._current = load_current(session=session, settings=state.settings)
            except CredentialsError:
                logger.exception("the stored trust list does not verify")
                self._current = None
            return self._current


@dataclass
class IngestRuntime:
    """What the global node's ingest keeps between requests (on `app.state.ingest`)."""

    concurrency: int = 2
    trust_lists: TrustListCache = field(default_factory=TrustListCache)
    # Nodes with a gap to pull, set by a refused report and read by the pull task.
    wanted: set[str] = field(default_factory=set)
    wake: threading.Event = field(default_factory=threading.Event)
    # Reports are CPU-bound in one process: taking a few at a time is faster than all at once.
    slots: threading.BoundedSemaphore = field(init=False)
    # Passes a wish on to the node's other processes: only the leader runs the pull task
    # (node.leader); set by the app.
    share_wish: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.slots = threading.BoundedSemaphore(self.concurrency)

    def want_pull(self, node_id: str, *, share: bool = True) -> None:
        self.wanted.add(node_id)
        self.wake.set()
        if share and self.share_wish is not None:
            self.share_wish(node_id)


def receive_report(
    *,
    state: NodeState,
    runtime: IngestRuntime,
    token: str,
    source: ReportSource,
    open_session: SessionOpener | None = None,
) -> Accepted:
    """Ingest one report in its own transaction; raise the refusal after its trace is stored."""
    with runtime.slots, (open_session or session_opener(state.engine))() as session:
        trust_list = runtime.trust_lists.current(session=session, state=state)
        result = ingest_report(
            session=session, state=state, trust_list=trust_list, token=token, source=source
        )
    if isinstance(result, Refused):
        raise_refusal(runtime, result.error)
    return result


def raise_refusal(runtime: IngestRuntime, error: NodeError) -> NoReturn:
    """Raise a refused report's error, first asking the pull task for the gap it showed."""
    if isinstance(error, ReportConflict) and error.missing is not None and error.node_id:
        runtime.want_pull(error.node_id)
    raise error


def ingest_report(
    *,
    session: Session,
    state: NodeState,
    trust_list: TrustList | None,
    token: str,
    source: ReportSource,
    now: datetime | None = None,
) -> Accepted | Refused:
    """Verify `token` and store what it adds to its node's log, in the caller's transaction."""
    now = now or utcnow()
    if trust_list is None:
        return Refused(Conflict("the global node holds no trust list yet"))
    batch = _verified(session, token, trust_list, now)
    if isinstance(batch, Refused):
        return batch
    log = _lock_log(session, batch.node_id)
    digest = report_digest(token).removeprefix("sha256:")
    replayed = _replay_of_stored(session, batch, digest)
    if replayed is not None:
        return replayed
    head = ChainHead(log.head_sequence, log.head_hash)
    plan = _plan(session, state, batch, log, head, now)
    if not isinstance(plan, IngestPlan):
        return plan
    if not plan.new:
        _note_report(log, batch, now)
        _save_log(session, log)
        return _accepted_without_storing(state, batch, head, now)
    receipt = sign_receipt(
        batch,
        key=state.signing_key,
        issuer_did=state.settings.did,
        added=len(plan.new),
        head=plan.head,
        issued_at=now,
    )
    _store(session, batch, plan, digest=digest, receipt=receipt, source=source, now=now)
    # The global registry, decisions and anomalies, committed with the events they come from.
    project_events(
        session=session,
        settings=state.settings,
        trust_list=trust_list,
        events=plan.new,
        now=now,
        report=token,
    )
    # A city's answer to a community across countries (ingested from its own node only).
    take_consents(session=session, trust_list=trust_list, events=plan.new, now=now)
    _note_report(log, batch, now)
    log.head_sequence, log.head_hash = plan.head
    if log.missing_to is not None and plan.head.sequence >= log.missing_to:
        log.missing_from = log.missing_to = None
    _save_log(session, log)
    return Accepted(
        node_id=batch.node_id,
        first=batch.first,
        last=batch.last,
        added=len(plan.new),
        head=plan.head,
        receipt=receipt,
        replayed=False,
    )


def _note_report(log: LockedLog, batch: ReportBatch, now: datetime) -> None:
    """Record on the node's log row that `batch`, a report it continues, came in at `now`."""
    log.last_report_at = now
    if log.last_issued_at is None or batch.issued_at > log.last_issued_at:
        log.last_issued_at = batch.issued_at


def _verified(
    session: Session, token: str, trust_list: TrustList, now: datetime
) -> ReportBatch | Refused:
    """The report, its signature and chain checked; a refusal raises the alarm it calls for."""
    try:
        return ReportBatch.verify(token, trust_list=trust_list)
    except ReportTooLarge as exc:
        return Refused(PayloadTooLarge(str(exc)))
    except ChainError as exc:
        # Only a report signed by a member (checked first) gets this far: its own log is broken.
        node = _signer(token, trust_list) or "?"
        _raise_alarm(session, AlarmKind.CHAIN, node, exc.sequence, str(exc), [token], now)
        return Refused(InvalidRequest(f"report refused: {exc}"))
    except ReportInvalid as exc:
        signer = impersonator(token, trust_list=trust_list)
        if signer is not None:
            _raise_alarm(session, AlarmKind.IMPERSONATION, signer, None, str(exc), [token], now)
        return Refused(InvalidRequest(f"report refused: {exc}"))


def _replay_of_stored(session: Session, batch: ReportBatch, digest: str) -> Accepted | None:
    """The answer given to this very report before (its stored receipt), if it was stored."""
    stored = session.execute(_STORED_RECEIPT, {"digest": digest}).first()
    if stored is None or stored[0] is None:
        return None
    receipt, sequence, hash_ = stored
    assert sequence is not None
    assert hash_ is not None
    return Accepted(
        node_id=batch.node_id,
        first=batch.first,
        last=batch.last,
        added=0,
        head=ChainHead(sequence, hash_),
        receipt=receipt,
        replayed=True,
    )


def _plan(
    session: Session,
    state: NodeState,
    batch: ReportBatch,
    log: LockedLog,
    head: ChainHead,
    now: datetime,
) -> IngestPlan | Accepted | Refused:
    """What the report adds to the held log; a fork, gap or rollback refused with its trace."""
    try:
        return plan_ingest(batch, head=head, held=_held_hashes(session, batch, head))
    except ForkDetected as exc:
        evidence = [batch.token, *_reports_holding(session, batch.node_id, exc.sequence)]
        _raise_alarm(session, AlarmKind.FORK, batch.node_id, exc.sequence, str(exc), evidence, now)
        return Refused(ReportConflict(f"report refused: {exc}", code="fork"))
    except SequenceGap as exc:
        log.missing_from, log.missing_to = exc.first_missing, exc.last_missing
        _save_log(session, log)
        return Refused(
            ReportConflict(
                f"report refused: {exc} (held up to {head.sequence}); "
                f"send events {exc.first_missing} to {exc.last_missing} first",
                code="gap",
                missing=(exc.first_missing, exc.last_missing),
                node_id=batch.node_id,
            )
        )
    except Rollback as exc:
        if log.last_issued_at is not None and batch.issued_at <= log.last_issued_at:
            # An old "nothing after N", sent again: stale, not a claim about the log now.
            return _accepted_without_storing(state, batch, head, now)
        _raise_alarm(
            session, AlarmKind.ROLLBACK, batch.node_id, exc.sequence, str(exc), [batch.token], now
        )
        return Refused(ReportConflict(f"report refused: {exc}", code="rollback"))


def _store(
    session: Session,
    batch: ReportBatch,
    plan: IngestPlan,
    *,
    digest: str,
    receipt: str,
    source: ReportSource,
    now: datetime,
) -> None:
    """The report and its new events, the events in one batch (`insert_rows`).

    The report's row by a Core INSERT ... RETURNING, not an ORM object: the unit of work's
    flush cost more CPU than the rest of the report's statements."""
    report_id = session.execute(
        _INSERT_REPORT,
        {
            "node_id": batch.node_id,
            "token_sha256": digest,
            "token": batch.token,
            "first": batch.first,
            "last": batch.last,
            "issued_at": batch.issued_at,
            "source": source,
            "received_at": now,
            "added": len(plan.new),
            "head_sequence": plan.head.sequence,
            "head_hash": plan.head.hash,
            "receipt": receipt,
        },
    ).scalar_one()
    insert_rows(
        session,
        table_of(IngestedEvent),
        [
            {
                "node_id": event.node_id,
                "sequence": event.sequence,
                "type": event.type.value,
                "occurred_at": event.occurred_at,
                "subject": event.canonical_subject,
                "data": event.canonical_data,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "received_at": now,
                "report_id": report_id,
            }
            for event in plan.new
        ],
        # As the event's hash covered them: written once, on the event's construction.
        json_text=("subject", "data"),
    )


def held_head(*, session: Session, node_id: str) -> ChainHead:
    log = session.get(IngestedLog, node_id)
    return (
        ChainHead(0, GENESIS_HASH) if log is None else ChainHead(log.head_sequence, log.head_hash)
    )


def raise_alarm(
    *,
    session: Session,
    kind: AlarmKind,
    node_id: str,
    sequence: int | None,
    detail: str,
    evidence: Sequence[str] = (),
) -> IngestAlarm:
    return _raise_alarm(session, kind, node_id, sequence, detail, evidence, utcnow())


def _accepted_without_storing(
    state: NodeState, batch: ReportBatch, head: ChainHead, now: datetime
) -> Accepted:
    # Nothing new: the receipt says what is held, and is not stored (the report added nothing).
    receipt = sign_receipt(
        batch,
        key=state.signing_key,
        issuer_did=state.settings.did,
        added=0,
        head=head,
        issued_at=now,
    )
    return Accepted(
        node_id=batch.node_id,
        first=batch.first,
        last=batch.last,
        added=0,
        head=head,
        receipt=receipt,
        replayed=True,
    )


@dataclass(slots=True)
class LockedLog:
    """A node's `ingested_log` row as the ingest of one report reads and changes it.

    Plain columns through Core statements, not an ORM object: loading one and flushing its
    changes cost more CPU than the rest of the report's statements together."""

    node_id: str
    head_sequence: int
    head_hash: str
    last_issued_at: datetime | None
    last_report_at: datetime | None
    missing_from: int | None
    missing_to: int | None


_LOG = table_of(IngestedLog)
_LOG_COLUMNS: Final = tuple(_LOG.c[column.name] for column in fields(LockedLog))
# The columns given as parameters make the SET clause; the row is found by `key`.
_SAVE_LOG: Final = update(_LOG).where(_LOG.c.node_id == bindparam("key"))


def _lock_log(session: Session, node_id: str) -> LockedLog:
    """The node's log row, created at genesis if new, locked until the transaction ends.

    One statement: the upsert's no-op update takes the row lock a `SELECT ... FOR UPDATE`
    would, and returns the row (the ingest updates it at the end anyway)."""
    row = session.execute(
        _lock_statement(session.get_bind().dialect.name), {"node_id": node_id}
    ).one()
    return LockedLog(*row)


def _save_log(session: Session, log: LockedLog) -> None:
    session.execute(
        _SAVE_LOG,
        {
            "key": log.node_id,
            "head_sequence": log.head_sequence,
            "head_hash": log.head_hash,
            "last_issued_at": log.last_issued_at,
            "last_report_at": log.last_report_at,
            "missing_from": log.missing_from,
            "missing_to": log.missing_to,
        },
    )


@cache
def _lock_statement(dialect: str) -> Any:
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make_insert(_LOG).values(
        node_id=bindparam("node_id"), head_sequence=0, head_hash=GENESIS_HASH
    )
    return statement.on_conflict_do_update(
        index_elements=["node_id"], set_={"node_id": statement.excluded.node_id}
    ).returning(*_LOG_COLUMNS)


def _held_hashes(session: Session, batch: ReportBatch, head: ChainHead) -> dict[int, str]:
    if not batch.events or batch.first > head.sequence:
        return {}
    rows = session.exec(
        select(IngestedEvent.sequence, IngestedEvent.hash).where(
            IngestedEvent.node_id == batch.node_id,
            col(IngestedEvent.sequence) >= batch.first,
            col(IngestedEvent.sequence) <= min(batch.last, head.sequence),
        )
    ).all()
    return dict(rows)


def _reports_holding(session: Session, node_id: str, sequence: int) -> list[str]:
    """The signed report(s) that brought the held event `sequence` (or the held head)."""
    token = session.exec(
        select(ReceivedReport.token)
        .join(IngestedEvent, col(IngestedEvent.report_id) == col(ReceivedReport.id))
        .where(IngestedEvent.node_id == node_id, IngestedEvent.sequence == sequence)
    ).first()
    return [token] if token is not None else []


def _raise_alarm(
    session: Session,
    kind: AlarmKind,
    node_id: str,
    sequence: int | None,
    detail: str,
    evidence: Sequence[str],
    now: datetime,
) -> IngestAlarm:
    alarm = IngestAlarm(
        kind=kind,
        node_id=node_id,
        sequence=sequence,
        detail=detail[:2000],
        evidence=list(evidence),
        raised_at=now,
    )
    session.add(alarm)
    session.flush()
    logger.warning("federation alarm (%s) for node %s: %s", kind.value, node_id, detail)
    return alarm


def _signer(token: str, trust_list: TrustList) -> str | None:
    """The node whose key a (signature-checked) report names: for a refused one, no batch.

    By the kid's thumbprint alone: a report refused because its kid names another node's DID is
    still its key's node's doing."""
    try:
        found = trust_list.key(
            JwsToken.parse(token, typ=REPORT_TYP, max_bytes=MAX_REPORT_BYTES).thumbprint
        )
    except CredentialsError:
        return None
    return None if found is None else found[0].id
