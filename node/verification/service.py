from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from sdgcities.credentials import (
    Outcome,
    Reason,
    StatusListHistory,
    TrustList,
    VerificationResult,
    Verifier,
)
from sdgcities.node.config import Settings
from sdgcities.node.db import SessionOpener
from sdgcities.node.trust.service import load_current, on_trust_list_accepted

from .fetch import HttpStatusListFetcher, NodeStatusListFetcher, from_memory, reading_with

NO_TRUST_LIST = VerificationResult(
    Outcome.INDETERMINATE,
    Reason.TRUST_LIST_STALE,
    "this node holds no trust list yet, so it cannot tell whom to trust",
)


class VerifierCache:
    """One `Verifier` per accepted trust list, reused across requests.

    A session is opened only when something must be read: the trust list after a change, and
    this node's own status lists after one changed (the fetcher keeps them until then). Most
    verifications read nothing, so `POST /verify` costs little more than the signature checks.
    """

    def __init__(self, *, settings: Settings, engine: Engine, client: httpx.Client) -> None:
        self._settings = settings
        self._fetcher = NodeStatusListFetcher(
            engine=engine,
            own_prefix=f"{settings.base_url}/status/",
            remote=HttpStatusListFetcher(client),
        )
        # Outlives each verifier (one per trust list): a status list never goes back (DESIGN §4).
        self.status_history = StatusListHistory()
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()
        on_trust_list_accepted(engine, self.reset)

    def reset(self) -> None:
        with self._lock:
            self._verifier = None
        self._fetcher.own_list_changed()

    def own_status_list_changed(self, list_id: str) -> None:
        """This node re-signed `list_id`: the next verification reads it again."""
        self._fetcher.own_list_changed(list_id)

    def _current(self, open_session: SessionOpener) -> Verifier | None:
        verifier = self._verifier
        if verifier is not None:
            return verifier
        with self._lock:
            if self._verifier is None:
                with open_session() as session:
                    trust_list = load_current(session=session, settings=self._settings)
                if trust_list is not None:
                    # No status cache in the verifier: the fetcher caches only remote lists.
                    self._verifier = Verifier(
                        trust_list,
                        fetcher=self._fetcher,
                        status_max_age=timedelta(0),
                        history=self.status_history,
                    )
            return self._verifier

    def trust_list(self, open_session: SessionOpener) -> TrustList | None:
        """The accepted trust list, held in memory until the next one is accepted."""
        verifier = self._current(open_session)
        return verifier.trust_list if verifier is not None else None

    def verify_from_memory(self, token: str) -> VerificationResult | None:
        """The answer when it needs only what is in memory; None when it would have to read the
        trust list or a status list (then `verify`, where waiting is allowed)."""
        verifier = self._verifier
        if verifier is None:
            return None
        with from_memory() as reads:
            result = verifier.verify(token)
        return None if reads.would_wait else result

    def verify(self, token: str, *, open_session: SessionOpener) -> VerificationResult:
        verifier = self._current(open_session)
        if verifier is None:
            return NO_TRUST_LIST
        with reading_with(open_session):
            return verifier.verify(token)


async def verify_token(
    *, verifiers: VerifierCache, token: str, open_session: SessionOpener
) -> VerificationResult:
    """The node's answer for `token`, as `POST /verify` and the verify page give it."""
    # Most verifications need nothing but memory (the trust list and status lists held): they
    # run on the event loop, which costs less than a trip through the thread pool. One that
    # must read or fetch a list runs in the pool, where it may wait.
    result = verifiers.verify_from_memory(token)
    if result is None:
        result = await run_in_threadpool(verifiers.verify, token, open_session=open_session)
    return result
