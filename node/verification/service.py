from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from sdgcities.credentials import Outcome, Reason, VerificationResult, Verifier
from sdgcities.node.config import Settings
from sdgcities.node.trust.service import load_current

from .fetch import HttpStatusListFetcher, NodeStatusListFetcher, reading_with

NO_TRUST_LIST = VerificationResult(
    Outcome.INDETERMINATE,
    Reason.TRUST_LIST_STALE,
    "this node holds no trust list yet, so it cannot tell whom to trust",
)


class VerifierCache:
    """One `Verifier` per accepted trust list, reused across requests.

    The request's session is used only when something must be read: the trust list after a
    change, and this node's own status lists, read on every verification so that a decision of
    this node's committee shows at once. Other nodes' lists are cached by the fetcher.
    """

    def __init__(self, *, settings: Settings, engine: Engine, client: httpx.Client) -> None:
        self._settings = settings
        self._fetcher = NodeStatusListFetcher(
            engine=engine,
            own_prefix=f"{settings.base_url}/status/",
            remote=HttpStatusListFetcher(client),
        )
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._verifier = None

    def _current(self, session: Session) -> Verifier | None:
        verifier = self._verifier
        if verifier is not None:
            return verifier
        with self._lock:
            if self._verifier is None:
                trust_list = load_current(session=session, settings=self._settings)
                if trust_list is not None:
                    # No status cache in the verifier: the fetcher caches only remote lists.
                    self._verifier = Verifier(
                        trust_list, fetcher=self._fetcher, status_max_age=timedelta(0)
                    )
            return self._verifier

    def verify(self, token: str, *, session: Session) -> VerificationResult:
        verifier = self._current(session)
        if verifier is None:
            return NO_TRUST_LIST
        with reading_with(session):
            return verifier.verify(token)
