"""What the global node knows of each node: reporting, current certificates, anomalies.

The nodes are the trust registry's members, the global node itself, and any node whose log is
held. Everything is read from what the ingest stored and the projection derived from it
(`node/ingest`, `node/federation_registry`): a handful of grouped queries for every node at once.

Anomalies, per node, by kind:

- what the projection found in the events (`federation_anomaly`): a certificate without its
  approved decision, a decision whose quorum counts fail the rule or whose outcome does not
  follow from its votes, a certificate whose token does not verify, a status change without its
  decision or for a certificate the node never issued;
- the ingest's alarms (`ingest_alarm`): fork, rollback, chain, impersonation, gap, and the
  projection's refused_certificate. Alarms are never closed: they stay as the evidence of what
  happened;
- `silence`: a member (not withdrawn) not heard from, pushed or pulled, for
  `Settings.silence_after`, counted from its last report or, before any, from its approval.
  The global node's own log is read in-process and is never silent.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlmodel import Session, case, col, func, select

from sdgcities.node.config import Settings
from sdgcities.node.errors import NotFound
from sdgcities.node.federation_registry.models import FederationAnomaly, FederationCertificate
from sdgcities.node.ingest.models import IngestAlarm, IngestedLog
from sdgcities.node.members.models import MemberNode
from sdgcities.node.registry.cache import FEDERATION, read_federation_head

from .models import QualityReport

SILENCE: Final = "silence"
TALLY_MAX_AGE: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class AnomalyCount:
    kind: str
    count: int
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class CertificateCount:
    stage: str
    level: str
    count: int


@dataclass
class NodeStanding:
    """One node as monitoring shows it."""

    node_id: str
    name: str
    status: str
    joined_at: datetime | None
    last_report_at: datetime | None
    lag_seconds: float | None
    head_sequence: int
    events_behind: int | None
    silent: bool
    certificates: list[CertificateCount] = field(default_factory=list)
    anomalies: list[AnomalyCount] = field(default_factory=list)
    quality_score: float | None = None
    quality_at: datetime | None = None

    @property
    def healthy(self) -> bool:
        return not self.anomalies


def list_standings(
    *,
    session: Session,
    settings: Settings,
    now: datetime,
    node_id: str | None = None,
    certificates: Mapping[str, Sequence[CertificateCount]] | None = None,
) -> list[NodeStanding]:
    """Every node (or only `node_id`), by node id.

    `certificates`: each node's current certificates as `current_certificates` counted them
    (e.g. from a `TallyCache`); counted now when not given."""
    members = {
        member.node_id: member
        for member in session.exec(
            select(MemberNode).where(*_one(col(MemberNode.node_id), node_id))
        ).all()
    }
    logs = {
        log.node_id: log
        for log in session.exec(
            select(IngestedLog).where(*_one(col(IngestedLog.node_id), node_id))
        ).all()
    }
    nodes = set(members) | set(logs)
    if node_id in (None, settings.node_id):
        nodes.add(settings.node_id)
    standings = {
        node: _standing(node, members.get(node), logs.get(node), settings=settings, now=now)
        for node in sorted(nodes)
    }
    if not standings:
        return []
    counted = (
        current_certificates(session=session, now=now, node_id=node_id)
        if certificates is None
        else certificates
    )
    for node, counts in counted.items():
        if node in standings:
            standings[node].certificates.extend(counts)
    for node, kind, count, last in session.exec(
        select(
            FederationAnomaly.node_id,
            FederationAnomaly.kind,
            func.count(),
            func.max(FederationAnomaly.found_at),
        )
        .where(*_one(col(FederationAnomaly.node_id), node_id))
        .group_by(col(FederationAnomaly.node_id), col(FederationAnomaly.kind))
    ).all():
        if node in standings:
            standings[node].anomalies.append(AnomalyCount(str(kind), count, last))
    for node, alarm_kind, count, last in session.exec(
        select(IngestAlarm.node_id, IngestAlarm.kind, func.count(), func.max(IngestAlarm.raised_at))
        .where(*_one(col(IngestAlarm.node_id), node_id))
        .group_by(col(IngestAlarm.node_id), col(IngestAlarm.kind))
    ).all():
        if node in standings:
            standings[node].anomalies.append(AnomalyCount(str(alarm_kind), count, last))
    latest = (
        select(QualityReport.node_id, func.max(QualityReport.id).label("id"))
        .where(*_one(col(QualityReport.node_id), node_id))
        .group_by(col(QualityReport.node_id))
        .subquery()
    )
    for report in session.exec(
        select(QualityReport).join(latest, col(QualityReport.id) == latest.c.id)
    ).all():
        if report.node_id in standings:
            standing = standings[report.node_id]
            standing.quality_score, standing.quality_at = report.score, report.period_until
    for standing in standings.values():
        if standing.silent:
            standing.anomalies.append(AnomalyCount(SILENCE, 1, standing.last_report_at))
        standing.anomalies.sort(key=lambda anomaly: anomaly.kind)
    return list(standings.values())


def get_standing_or_raise(
    *, session: Session, settings: Settings, node_id: str, now: datetime
) -> NodeStanding:
    found = list_standings(session=session, settings=settings, now=now, node_id=node_id)
    if not found:
        raise NotFound(f"no node {node_id} in the federation")
    return found[0]


def recent_anomalies(*, session: Session, node_id: str, limit: int) -> Sequence[FederationAnomaly]:
    return session.exec(
        select(FederationAnomaly)
        .where(FederationAnomaly.node_id == node_id)
        .order_by(col(FederationAnomaly.id).desc())
        .limit(limit)
    ).all()


def recent_alarms(*, session: Session, node_id: str, limit: int) -> Sequence[IngestAlarm]:
    return session.exec(
        select(IngestAlarm)
        .where(IngestAlarm.node_id == node_id)
        .order_by(col(IngestAlarm.id).desc())
        .limit(limit)
    ).all()


def is_silent(
    *,
    settings: Settings,
    node_id: str,
    status: str,
    last_report_at: datetime | None,
    joined_at: datetime | None,
    now: datetime,
) -> bool:
    if node_id == settings.node_id or status == "withdrawn":
        return False
    heard = last_report_at or joined_at
    return heard is not None and now - heard > settings.silence_after


def _standing(
    node_id: str,
    member: MemberNode | None,
    log: IngestedLog | None,
    *,
    settings: Settings,
    now: datetime,
) -> NodeStanding:
    if member is not None:
        name, status, joined = member.name, member.status.value, member.joined_at
    elif node_id == settings.node_id:
        name, status, joined = settings.node_name, "active", None
    else:  # held, yet not (or no longer) in the registry: shown, never hidden
        name, status, joined = node_id, "unknown", None
    last = log.last_report_at if log is not None else None
    head = log.head_sequence if log is not None else 0
    behind = (
        max(0, log.missing_to - log.head_sequence)
        if log is not None and log.missing_to is not None
        else None
    )
    return NodeStanding(
        node_id=node_id,
        name=name,
        status=status,
        joined_at=joined,
        last_report_at=last,
        lag_seconds=round((now - last).total_seconds(), 3) if last is not None else None,
        head_sequence=head,
        events_behind=behind,
        silent=is_silent(
            settings=settings,
            node_id=node_id,
            status=status,
            last_report_at=last,
            joined_at=joined,
            now=now,
        ),
    )


def current_certificates(
    *, session: Session, now: datetime, node_id: str | None = None
) -> dict[str, list[CertificateCount]]:
    """Each node's current certificates (active, within validity), by stage and level."""
    counted: dict[str, list[CertificateCount]] = {}
    for node, stage, level, count in session.exec(
        select(
            FederationCertificate.node_id,
            FederationCertificate.stage,
            FederationCertificate.level,
            func.count(),
        )
        .where(*FEDERATION.current(now), *_one(col(FederationCertificate.node_id), node_id))
        .group_by(
            col(FederationCertificate.node_id),
            col(FederationCertificate.stage),
            col(FederationCertificate.level),
        )
        .order_by(col(FederationCertificate.node_id), col(FederationCertificate.stage))
    ).all():
        counted.setdefault(node, []).append(CertificateCount(stage, level, count))
    return counted


@dataclass(frozen=True, slots=True)
class MonthlyIssued:
    month: datetime  # the first moment of the month, UTC
    stage: str
    count: int


def month_starts(*, now: datetime, months: int) -> list[datetime]:
    """The first moments of the last `months` months, the oldest first, this one last."""
    year, month = now.year, now.month
    starts: list[datetime] = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def issued_by_month(*, session: Session, now: datetime, months: int) -> list[MonthlyIssued]:
    """Certificates the federation issued in each of the last `months` months, by stage.

    One grouped query: each certificate falls into its month by a CASE over the months' starts
    (the same SQL on SQLite and PostgreSQL, where a date function would differ)."""
    starts = month_starts(now=now, months=months)
    issued = col(FederationCertificate.issued_at)
    bucket = case(
        *((issued >= start, index) for index, start in reversed(list(enumerate(starts)))),
        else_=-1,
    ).label("bucket")
    rows = session.exec(
        select(bucket, FederationCertificate.stage, func.count())
        .where(issued >= starts[0], issued <= now)
        .group_by(bucket, col(FederationCertificate.stage))
    ).all()
    return sorted(
        (MonthlyIssued(starts[index], stage, count) for index, stage, count in rows if index >= 0),
        key=lambda row: (row.month, row.stage),
    )


def _one(column: Any, node_id: str | None) -> list[Any]:
    """The condition that keeps one node's rows (none: every node's)."""
    return [] if node_id is None else [column == node_id]


@dataclass(frozen=True, slots=True)
class CertificateTally:
    """The federation's certificates counted at one registry head: what a dashboard shows."""

    head: tuple[int, str]
    taken_at: datetime
    current: Mapping[str, Sequence[CertificateCount]]
    monthly: Sequence[MonthlyIssued]

    def fresh(self, *, head: tuple[int, str], now: datetime, max_age: timedelta) -> bool:
        return head == self.head and self.taken_at <= now < self.taken_at + max_age


class TallyCache:
    """Counts over every certificate of the federation, taken again when an ingested batch moves
    the registry's head, or after `max_age` (a certificate's validity ends without any event).

    Counting 100,000 certificates twice is most of a dashboard's time; the counts change only
    with the registry, while the rest of the dashboard (reports, anomalies) is read each time.
    """

    def __init__(self, *, max_age: timedelta = TALLY_MAX_AGE, months: int = 12) -> None:
        self.max_age = max_age
        self.months = months
        self._tally: CertificateTally | None = None
        self._lock = threading.Lock()

    def tally(self, *, session: Session, now: datetime) -> CertificateTally:
        head = read_federation_head(session)
        tally = self._tally
        if tally is not None and tally.fresh(head=head, now=now, max_age=self.max_age):
            return tally
        with self._lock:
            tally = self._tally
            if tally is None or not tally.fresh(head=head, now=now, max_age=self.max_age):
                tally = CertificateTally(
                    head=head,
                    taken_at=now,
                    current=current_certificates(session=session, now=now),
                    monthly=issued_by_month(session=session, now=now, months=self.months),
                )
                self._tally = tally
            return tally
