from __future__ import annotations

from datetime import datetime

from pydantic import Field

from sdgcities.node.events.schemas import ChainHeadPublic
from sdgcities.node.schemas import Page, ResponseModel

from .models import AlarmKind


class ReceiptPublic(ResponseModel):
    receipt: str = Field(
        description=(
            "The global node's signed `federation-receipt+jwt`: proof that it holds the node's "
            "log up to `head`"
        )
    )
    node_id: str
    first: int
    last: int
    added: int = Field(description="How many events of the report were new")
    head: ChainHeadPublic = Field(description="The node's log as the global node now holds it")


class ReceivedPublic(ResponseModel):
    node_id: str = Field(description="The member that reported the certificate")
    credential_id: str
    received_at: datetime = Field(description="When the global node stored the report")
    report: str = Field(description="`sha256:<hex>` of the signed report that carried it")
    statement: str = Field(
        description="The same, signed by the global node's key (`received-statement+jwt`)"
    )


class MissingRange(ResponseModel):
    first: int
    last: int


class ReportRefusal(ResponseModel):
    detail: str
    code: str = Field(description="`gap`, `fork` or `rollback`")
    missing: MissingRange | None = Field(
        default=None, description="For a gap: the events to send (or that will be pulled) first"
    )


class IngestedLogPublic(ResponseModel):
    node_id: str
    head_sequence: int
    head_hash: str
    last_report_at: datetime | None
    missing_from: int | None
    missing_to: int | None


class IngestedLogsPublic(Page):
    data: list[IngestedLogPublic]


class AlarmPublic(ResponseModel):
    id: int
    kind: AlarmKind
    node_id: str
    sequence: int | None
    detail: str
    evidence: list[str] = Field(description="The signed reports that show it")
    raised_at: datetime


class AlarmsPublic(Page):
    data: list[AlarmPublic]


class PullPublic(ResponseModel):
    node_id: str
    pages: int
    added: int
    head: ChainHeadPublic
