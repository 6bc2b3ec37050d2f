"""Response bodies of `/federation/monitoring` (snake_case, as the node's own API)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from sdgcities.node.federation_registry.models import AnomalyKind
from sdgcities.node.ingest.models import AlarmKind
from sdgcities.node.schemas import Page, ResponseModel


class CertificateCountPublic(ResponseModel):
    stage: str
    level: str
    count: int


class AnomalyCountPublic(ResponseModel):
    kind: str = Field(
        description=(
            "An anomaly found in the node's events ("
            + ", ".join(kind.value for kind in AnomalyKind)
            + "), an ingest alarm ("
            + ", ".join(kind.value for kind in AlarmKind)
            + "), or silence"
        )
    )
    count: int
    last_seen_at: datetime | None = Field(
        description="The latest found (for silence: the last report, null when none)"
    )


class NodeMonitoring(ResponseModel):
    node_id: str
    name: str
    status: str = Field(description="The trust registry's: active, suspended, withdrawn")
    last_report_at: datetime | None
    lag_seconds: float | None = Field(description="Seconds since the last report")
    head_sequence: int = Field(description="The node's log as held here")
    events_behind: int | None = Field(
        description="Events known to be missing (a report skipped ahead), when a gap is open"
    )
    silent: bool
    healthy: bool = Field(description="No anomaly of any kind")
    certificates: list[CertificateCountPublic] = Field(
        description="The node's current certificates (active, within validity), by stage and level"
    )
    anomalies: list[AnomalyCountPublic]
    quality_score: float | None = Field(description="The latest data-quality report's score")
    quality_at: datetime | None


class NodesMonitoring(Page):
    data: list[NodeMonitoring]
    silence_after_seconds: float


class AnomalyPublic(ResponseModel):
    id: int
    kind: AnomalyKind
    sequence: int = Field(description="The event of the node's log that shows it")
    event_type: str
    credential_id: str | None
    detail: str
    found_at: datetime


class AlarmSummary(ResponseModel):
    id: int
    kind: str
    sequence: int | None
    detail: str
    raised_at: datetime


class NodeMonitoringDetail(NodeMonitoring):
    recent_anomalies: list[AnomalyPublic] = Field(description="The latest 100, newest first")
    recent_alarms: list[AlarmSummary] = Field(
        description="The latest 20, newest first (`GET /federation/alarms` has their evidence)"
    )


class QualityCheckPublic(ResponseModel):
    name: str
    passed: bool
    score: float = Field(description="0 to 1: the share of the period's items that pass")
    detail: str


class QualityReportPublic(ResponseModel):
    id: int
    node_id: str
    period_from: datetime | None = Field(description="Null: from the node's first event")
    period_until: datetime
    score: float = Field(description="0 to 100: the mean of the checks' scores")
    checks: list[QualityCheckPublic]


class QualityReportsPublic(Page):
    data: list[QualityReportPublic]
