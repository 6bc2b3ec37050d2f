from __future__ import annotations

from typing import Any

from pydantic import Field

from sdgcities.node.schemas import ResponseModel


class ChainHeadPublic(ResponseModel):
    sequence: int = Field(description="The last event's sequence number (0: the log is empty)")
    hash: str = Field(description="The last event's hash (the genesis hash for an empty log)")


class FederationEventsPublic(ResponseModel):
    report: str = Field(
        description="The signed `federation-report+jwt` carrying `events`: the only part to trust"
    )
    events: list[dict[str, Any]] = Field(
        description="The report's events, decoded for reading; a verifier reads them from `report`"
    )
    head: ChainHeadPublic = Field(description="The node's log head when the report was made")
    next: str | None = Field(description="The URL of the next page, or null if none follows")
