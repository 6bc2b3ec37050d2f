"""The global node's own reports go to its ingest in-process, through the same checks."""

from __future__ import annotations

from sdgcities.node.db import SessionOpener
from sdgcities.node.errors import NodeError
from sdgcities.node.relay.service import Delivery
from sdgcities.node.state import NodeState

from .models import ReportSource
from .service import IngestRuntime, ReportConflict, receive_report


class LocalTransport:
    heartbeats = False

    def __init__(
        self, state: NodeState, runtime: IngestRuntime, open_session: SessionOpener | None = None
    ) -> None:
        self._state = state
        self._runtime = runtime
        self._open_session = open_session

    def deliver(self, token: str) -> Delivery:
        try:
            accepted = receive_report(
                state=self._state,
                runtime=self._runtime,
                token=token,
                source=ReportSource.LOCAL,
                open_session=self._open_session,
            )
        except ReportConflict as exc:
            return Delivery(
                status=409,
                detail=exc.message,
                missing_first=exc.missing[0] if exc.missing else None,
            )
        except NodeError as exc:
            return Delivery(status=exc.status_code, detail=exc.message)
        return Delivery(status=200, receipt=accepted.receipt)
