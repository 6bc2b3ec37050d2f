"""The bodies of `/federation/assistance` (global node)."""

from __future__ import annotations

from pydantic import Field

from sdgcities.node.frameworks import StageKey
from sdgcities.node.schemas import ResponseModel


class FederationGapPublic(ResponseModel):
    """One gap's requests across the federation: counts only, no city and no person."""

    criterion: str = Field(description="The criterion's code, e.g. B.c")
    stage: StageKey
    national: bool = Field(
        description="A criterion a national framework added: counted for its country alone"
    )
    country: str | None = Field(description="A national criterion's country; None for baseline")
    requests: int
    open: int
    resolved: int
    declined: int
    countries: int
    cities: int


class FederationAssistance(ResponseModel):
    data: list[FederationGapPublic]
    requests: int = Field(description="Every request reported, over all gaps")
