"""The federation's shared formats: the hash-chained event log and the signed reports.

A library with no web framework or database in it (DESIGN §7): nodes write and serve their logs
with it, and the global node verifies what they send.

    from sdgcities.federation import ReportBatch, verify_chain

    batch = ReportBatch.verify(report_jws, trust_list=trust_list)
    head = verify_chain(batch.events, after=stored_head)
"""

from .errors import (
    ChainBroken,
    ChainError,
    EventInvalid,
    FederationError,
    ForkDetected,
    ReportInvalid,
    ReportTooLarge,
    Rollback,
    SequenceGap,
)
from .events import (
    GENESIS,
    GENESIS_HASH,
    MAX_EVENT_BYTES,
    MAX_SEQUENCE,
    ChainHead,
    Event,
    EventType,
    event_hash,
    verify_chain,
)
from .received import RECEIVED_STATEMENT_TYP, ReceivedStatement
from .reports import (
    MAX_REPORT_BYTES,
    MAX_REPORT_EVENTS,
    REPORT_MEDIA_TYPE,
    REPORT_TYP,
    ReportBatch,
    fit_report,
    sign_report,
)

__all__ = [
    "GENESIS",
    "GENESIS_HASH",
    "MAX_EVENT_BYTES",
    "MAX_REPORT_BYTES",
    "MAX_REPORT_EVENTS",
    "MAX_SEQUENCE",
    "RECEIVED_STATEMENT_TYP",
    "REPORT_MEDIA_TYPE",
    "REPORT_TYP",
    "ChainBroken",
    "ChainError",
    "ChainHead",
    "Event",
    "EventInvalid",
    "EventType",
    "FederationError",
    "ForkDetected",
    "ReceivedStatement",
    "ReportBatch",
    "ReportInvalid",
    "ReportTooLarge",
    "Rollback",
    "SequenceGap",
    "event_hash",
    "fit_report",
    "sign_report",
    "verify_chain",
]
