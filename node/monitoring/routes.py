"""`/federation/monitoring`: each node's reporting, certificates, anomalies and data quality.

Mounted on the global node only. The secretariat and administrators read it, and so do the
global committee's members: "the national committee will be monitored by and report to a
global certification committee" (report §26a), which it cannot do without these reports. Only
the secretariat and administrators score the nodes on demand.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.schemas import Offset
from sdgcities.node.timeutil import utcnow

from . import quality, service
from .schemas import (
    AlarmSummary,
    AnomalyCountPublic,
    AnomalyPublic,
    CertificateCountPublic,
    NodeMonitoring,
    NodeMonitoringDetail,
    NodesMonitoring,
    QualityReportPublic,
    QualityReportsPublic,
)

router = APIRouter(prefix="/federation/monitoring", tags=["monitoring"])

Secretariat = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
MonitoringReaders = Annotated[
    Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR, Role.COMMITTEE_MEMBER)
]
NodeId = Annotated[str, Path(max_length=16, description="ISO 3166-1 alpha-2, or global")]
RECENT_ANOMALIES = 100
RECENT_ALARMS = 20


@router.get("")
def list_nodes(
    session: ReadSessionDep, state: StateDep, _actor: MonitoringReaders
) -> NodesMonitoring:
    """Every node of the federation: last report, lag, head, current certificates by stage and
    level, and anomalies by kind (`healthy` when there is none)."""
    standings = service.list_standings(session=session, settings=state.settings, now=utcnow())
    return NodesMonitoring(
        data=[_public(standing) for standing in standings],
        count=len(standings),
        silence_after_seconds=state.settings.silence_after.total_seconds(),
    )


@router.get("/{node_id}", responses={404: {"description": "No such node"}})
def read_node(
    session: ReadSessionDep, state: StateDep, _actor: MonitoringReaders, node_id: NodeId
) -> NodeMonitoringDetail:
    """One node, with its latest anomalies and alarms."""
    standing = service.get_standing_or_raise(
        session=session, settings=state.settings, node_id=node_id, now=utcnow()
    )
    anomalies = service.recent_anomalies(session=session, node_id=node_id, limit=RECENT_ANOMALIES)
    alarms = service.recent_alarms(session=session, node_id=node_id, limit=RECENT_ALARMS)
    return NodeMonitoringDetail(
        **_public(standing).model_dump(),
        recent_anomalies=[AnomalyPublic.model_validate(anomaly) for anomaly in anomalies],
        recent_alarms=[
            AlarmSummary(
                id=alarm.id or 0,
                kind=alarm.kind.value,
                sequence=alarm.sequence,
                detail=alarm.detail,
                raised_at=alarm.raised_at,
            )
            for alarm in alarms
        ],
    )


@router.get("/{node_id}/quality", responses={404: {"description": "No such node"}})
def list_quality_reports(
    session: ReadSessionDep,
    state: StateDep,
    _actor: MonitoringReaders,
    node_id: NodeId,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> QualityReportsPublic:
    """The node's data-quality reports, the latest first."""
    service.get_standing_or_raise(
        session=session, settings=state.settings, node_id=node_id, now=utcnow()
    )
    reports, count = quality.list_reports(
        session=session, node_id=node_id, offset=offset, limit=limit
    )
    return QualityReportsPublic(
        data=[QualityReportPublic.model_validate(report) for report in reports], count=count
    )


@router.post("/quality")
def record_quality_reports(
    session: SessionDep, state: StateDep, _actor: Secretariat
) -> QualityReportsPublic:
    """Score every node now (the background task does so every `monitoring_quality_seconds`)."""
    reports = quality.record_due_reports(session=session, settings=state.settings, now=utcnow())
    return QualityReportsPublic(
        data=[QualityReportPublic.model_validate(report) for report in reports],
        count=len(reports),
    )


def _public(standing: service.NodeStanding) -> NodeMonitoring:
    return NodeMonitoring(
        node_id=standing.node_id,
        name=standing.name,
        status=standing.status,
        last_report_at=standing.last_report_at,
        lag_seconds=standing.lag_seconds,
        head_sequence=standing.head_sequence,
        events_behind=standing.events_behind,
        silent=standing.silent,
        healthy=standing.healthy,
        certificates=[
            CertificateCountPublic(stage=c.stage, level=c.level, count=c.count)
            for c in standing.certificates
        ],
        anomalies=[
            AnomalyCountPublic(kind=a.kind, count=a.count, last_seen_at=a.last_seen_at)
            for a in standing.anomalies
        ],
        quality_score=standing.quality_score,
        quality_at=standing.quality_at,
    )
