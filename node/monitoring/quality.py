"""The periodic data-quality report per node (DESIGN §5), as GLEIF scores its local operating units.

Each report covers what arrived from the node since its previous report (the first: everything
so far) and runs the named checks below; each check scores 0 to 1 (the share of the period's
items that pass it, 1 when there was nothing to check) and passes at 1. The report's score is
their mean, in percent. Reports are stored append-only (`node_quality_report`) and a background
task writes one per node every `monitoring_quality_seconds` (`tasks.py`).

| check | passes when |
|---|---|
| `timeliness` | the node is not silent (`service.is_silent`) |
| `continuity` | no events are known to be missing (no gap waiting to be filled) |
| `chain_integrity` | no fork, rollback, chain, impersonation or gap alarm in the period |
| `certificates_decided` | every certificate issued has its approved award decision |
| `certificates_verifiable` | every certificate's token verifies against the node's key |
| `decisions_valid` | every decision's counts meet the quorum rule and its outcome its votes |
| `status_changes_decided` | every status change has its decision, for a certificate of the node |
| `renewals_linked` | every renewal names a certificate of the node, for its city, renewed once |
| `assistance_valid` | every assistance request or closure passes the projection's checks |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session, col, func, select

from sdgcities.federation import EventType
from sdgcities.node.config import Settings
from sdgcities.node.db import page_of
from sdgcities.node.federation_registry.models import AnomalyKind, FederationAnomaly
from sdgcities.node.ingest.models import AlarmKind, IngestAlarm, IngestedEvent, IngestedLog
from sdgcities.node.members.models import MemberNode

from .models import QualityReport
from .service import is_silent, list_standings

CHAIN_ALARMS: Final = frozenset(set(AlarmKind) - {AlarmKind.REFUSED_CERTIFICATE})
STATUS_TYPES: Final = (
    EventType.CREDENTIAL_SUSPENDED.value,
    EventType.CREDENTIAL_REINSTATED.value,
    EventType.CREDENTIAL_REVOKED.value,
)
# Each ratio check: the event types it counts, and the anomalies that fail one of them.
RATIO_CHECKS: Final[tuple[tuple[str, tuple[str, ...], tuple[AnomalyKind, ...]], ...]] = (
    (
        "certificates_decided",
        (EventType.CREDENTIAL_ISSUED.value,),
        (AnomalyKind.CERTIFICATE_WITHOUT_DECISION,),
    ),
    (
        "certificates_verifiable",
        (EventType.CREDENTIAL_ISSUED.value,),
        (AnomalyKind.UNVERIFIABLE_CERTIFICATE,),
    ),
    (
        "decisions_valid",
        (EventType.DECISION_RECORDED.value,),
        (AnomalyKind.DECISION_WITHOUT_QUORUM, AnomalyKind.DECISION_TALLY),
    ),
    (
        "status_changes_decided",
        STATUS_TYPES,
        (AnomalyKind.STATUS_WITHOUT_DECISION, AnomalyKind.UNKNOWN_CERTIFICATE),
    ),
    (
        "renewals_linked",
        (EventType.CREDENTIAL_ISSUED.value,),
        (AnomalyKind.INVALID_RENEWAL,),
    ),
    (
        "assistance_valid",
        (EventType.ASSISTANCE_REQUESTED.value, EventType.ASSISTANCE_CLOSED.value),
        (AnomalyKind.INVALID_ASSISTANCE,),
    ),
)
CHECKS: Final = (
    "timeliness",
    "continuity",
    "chain_integrity",
    *(name for name, _types, _kinds in RATIO_CHECKS),
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    score: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "score": self.score,
            "detail": self.detail,
        }


def assess_node(
    *,
    session: Session,
    settings: Settings,
    node_id: str,
    period_from: datetime | None,
    now: datetime,
) -> list[Check]:
    """The checks of one node over [period_from, now), in the order of `CHECKS`."""
    log = session.get(IngestedLog, node_id)
    member = session.get(MemberNode, node_id)
    checks = [
        _timeliness(settings, node_id, log, member, now),
        _continuity(log),
        _chain_integrity(session, node_id, period_from, now),
    ]
    received = _received(session, node_id, period_from, now)
    for name, types, kinds in RATIO_CHECKS:
        total = sum(received.get(event_type, 0) for event_type in types)
        failing = _failing(session, node_id, kinds, period_from, now)
        checks.append(_ratio(name, total=total, failing=failing, of=" or ".join(types)))
    return checks


def score_of(checks: Sequence[Check]) -> float:
    return round(100 * sum(check.score for check in checks) / len(checks), 1)


def record_report(
    *, session: Session, settings: Settings, node_id: str, now: datetime
) -> QualityReport:
    """Assess `node_id` since its previous report and store the report."""
    previous = session.exec(
        select(QualityReport.period_until)
        .where(QualityReport.node_id == node_id)
        .order_by(col(QualityReport.id).desc())
        .limit(1)
    ).first()
    checks = assess_node(
        session=session, settings=settings, node_id=node_id, period_from=previous, now=now
    )
    report = QualityReport(
        node_id=node_id,
        period_from=previous,
        period_until=now,
        score=score_of(checks),
        checks=[check.to_json() for check in checks],
    )
    session.add(report)
    session.flush()
    return report


def record_due_reports(
    *, session: Session, settings: Settings, now: datetime, every: float | None = None
) -> list[QualityReport]:
    """A report for each node whose last one is at least `every` seconds old (None: all)."""
    reports = []
    for standing in list_standings(session=session, settings=settings, now=now):
        if (
            every is not None
            and standing.quality_at is not None
            and (now - standing.quality_at).total_seconds() < every
        ):
            continue
        reports.append(
            record_report(session=session, settings=settings, node_id=standing.node_id, now=now)
        )
    return reports


def list_reports(
    *, session: Session, node_id: str, offset: int, limit: int
) -> tuple[Sequence[QualityReport], int]:
    """The node's reports, the latest first."""
    return page_of(
        session,
        QualityReport,
        conditions=[QualityReport.node_id == node_id],
        order_by=[col(QualityReport.id).desc()],
        offset=offset,
        limit=limit,
    )


def _timeliness(
    settings: Settings,
    node_id: str,
    log: IngestedLog | None,
    member: MemberNode | None,
    now: datetime,
) -> Check:
    last = log.last_report_at if log is not None else None
    silent = is_silent(
        settings=settings,
        node_id=node_id,
        status=member.status.value if member is not None else "active",
        last_report_at=last,
        joined_at=member.joined_at if member is not None else None,
        now=now,
    )
    limit = int(settings.silence_after.total_seconds())
    if node_id == settings.node_id:
        detail = "the global node's own log is read in-process"
    elif last is None:
        detail = "has not reported yet"
    else:
        detail = f"last report {int((now - last).total_seconds())} s ago (silent after {limit} s)"
    return Check("timeliness", not silent, 0.0 if silent else 1.0, detail)


def _continuity(log: IngestedLog | None) -> Check:
    if log is None or log.missing_to is None:
        return Check("continuity", True, 1.0, "no events known to be missing")
    return Check(
        "continuity",
        False,
        0.0,
        f"events {log.missing_from} to {log.missing_to} are missing (held up to "
        f"{log.head_sequence})",
    )


def _chain_integrity(
    session: Session, node_id: str, period_from: datetime | None, now: datetime
) -> Check:
    alarms = session.exec(
        select(IngestAlarm.kind, func.count())
        .where(
            IngestAlarm.node_id == node_id,
            # A refused certificate is scored by `certificates_verifiable` (its anomaly).
            col(IngestAlarm.kind).in_(CHAIN_ALARMS),
            col(IngestAlarm.raised_at) < now,
            *_since(col(IngestAlarm.raised_at), period_from),
        )
        .group_by(col(IngestAlarm.kind))
        .order_by(col(IngestAlarm.kind))
    ).all()
    if not alarms:
        return Check("chain_integrity", True, 1.0, "no alarm")
    return Check(
        "chain_integrity",
        False,
        0.0,
        "alarms: " + ", ".join(f"{count} {kind}" for kind, count in alarms),
    )


def _ratio(name: str, *, total: int, failing: int, of: str) -> Check:
    if total == 0:
        return Check(name, True, 1.0, f"no {of} events in the period")
    score = round(1 - min(failing, total) / total, 4)
    return Check(name, failing == 0, score, f"{failing} of {total} {of} events fail")


def _received(
    session: Session, node_id: str, period_from: datetime | None, now: datetime
) -> dict[str, int]:
    types = sorted({t for _name, event_types, _kinds in RATIO_CHECKS for t in event_types})
    rows: Iterable[tuple[str, int]] = session.exec(
        select(IngestedEvent.type, func.count())
        .where(
            IngestedEvent.node_id == node_id,
            col(IngestedEvent.type).in_(types),
            col(IngestedEvent.received_at) < now,
            *_since(col(IngestedEvent.received_at), period_from),
        )
        .group_by(col(IngestedEvent.type))
    ).all()
    return dict(rows)


def _failing(
    session: Session,
    node_id: str,
    kinds: Sequence[AnomalyKind],
    period_from: datetime | None,
    now: datetime,
) -> int:
    """How many events of the period show one of `kinds` (an event may show two)."""
    return session.exec(
        select(func.count(func.distinct(FederationAnomaly.sequence))).where(
            FederationAnomaly.node_id == node_id,
            col(FederationAnomaly.kind).in_(kinds),
            col(FederationAnomaly.found_at) < now,
            *_since(col(FederationAnomaly.found_at), period_from),
        )
    ).one()


def _since(column: Any, moment: datetime | None) -> list[Any]:
    return [] if moment is None else [column >= moment]
