"""Ingesting pushed reports in worker processes (`ingest_processes`, PostgreSQL only).

A report's ingest is CPU-bound Python: its signature, every event's canonical JSON and hash,
each certificate's signature, the projection. In the server's process it uses one core however
many reports arrive, so on PostgreSQL the global node can hand pushed reports to a pool of
worker processes, each ingesting one report at a time in its own transaction, exactly as the
server's process would (`receive_report`). Nothing ingest needs is held in one process only:
reports of one node are serialised by the lock on its `ingested_log` row, the trust list is read
by its sequence at every report, and the registry's snapshot is keyed by the registry head that
the projection moves. SQLite takes one writer at a time, so there the pool is not used.

Workers are started with `spawn` (never a fork of a server with threads and an event loop) on
the first report, and build their own engine and state from the node's settings.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from sqlalchemy import Engine

from sdgcities.node.config import Settings
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.errors import NodeError, ServiceUnavailable
from sdgcities.node.identity.service import load_active_key
from sdgcities.node.outbound import outbound_client
from sdgcities.node.state import NodeState
from sdgcities.node.verification.service import VerifierCache

from .models import ReportSource
from .service import Accepted, IngestRuntime, ReportConflict, receive_report

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused report as it crosses back from a worker: enough to raise the same error."""

    error_type: type[NodeError]
    message: str
    code: str | None = None
    missing: tuple[int, int] | None = None
    node_id: str | None = None

    def error(self) -> NodeError:
        if issubclass(self.error_type, ReportConflict):
            return ReportConflict(
                self.message, code=self.code or "", missing=self.missing, node_id=self.node_id
            )
        return self.error_type(self.message)


class IngestPool:
    """`processes` worker processes that ingest pushed reports, one report each at a time."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self._settings, self._processes = settings, processes
        self._lock = threading.Lock()
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._settings,),
        )

    async def ingest(self, token: str) -> Accepted | Refusal:
        """Ingest `token` in a worker; 503 if the worker stopped (the report's transaction was
        rolled back with it, so the relay's retry finds nothing half-stored)."""
        executor = self._executor
        try:
            return await asyncio.wrap_future(executor.submit(_ingest_pushed, token))
        except BrokenProcessPool as exc:
            self._replace(executor)
            logger.error("an ingest worker stopped: %s; the workers were restarted", exc)
            raise ServiceUnavailable("an ingest worker stopped; send the report again") from exc

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        # Every report in flight on the broken pool fails at once; the first one replaces it.
        with self._lock:
            if self._executor is broken:
                self._executor = self._start()
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def ingest_pool(settings: Settings, engine: Engine) -> IngestPool | None:
    """The global node's pool as configured, or None: ingest in the server's process."""
    if not settings.is_global or settings.ingest_processes == 0:
        return None
    if engine.dialect.name != "postgresql":
        logger.warning(
            "ingest_processes=%d is ignored on %s, which takes one writer at a time: "
            "reports are ingested in the server's process",
            settings.ingest_processes,
            engine.dialect.name,
        )
        return None
    return IngestPool(settings, settings.ingest_processes)


# One per worker process, made by `_start_worker`.
_worker: tuple[NodeState, IngestRuntime] | None = None


def _start_worker(settings: Settings) -> None:
    global _worker
    engine = make_engine(settings.sqlalchemy_url)
    with transaction(engine) as session:
        signing_key = load_active_key(session=session, settings=settings)
    # Ingest makes no outbound call; the client and verifier cache only complete the state.
    http = outbound_client(settings)
    state = NodeState(
        settings=settings,
        engine=engine,
        signing_key=signing_key,
        http=http,
        verifiers=VerifierCache(settings=settings, engine=engine, client=http),
    )
    _worker = (state, IngestRuntime(concurrency=1))


def _ingest_pushed(token: str) -> Accepted | Refusal:
    assert _worker is not None, "the worker was not started"
    state, runtime = _worker
    try:
        return receive_report(state=state, runtime=runtime, token=token, source=ReportSource.PUSHED)
    except ReportConflict as exc:
        return Refusal(type(exc), exc.message, exc.reason_code, exc.missing, exc.node_id)
    except NodeError as exc:
        return Refusal(type(exc), exc.message)
