"""`/federation/assistance`: technical assistance requests across the federation, by gap.

Mounted on the global node only. §37 has the global level plan capacity building from what the
nodes ask for; the secretariat and administrators read it, and so do the global committee's
members, who monitor the national nodes (report §26a). Counts only: no city, no person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import ReadSessionDep, access
from sdgcities.node.frameworks import StageKey

from .assistance import federation_gaps
from .schemas import FederationAssistance, FederationGapPublic

router = APIRouter(prefix="/federation/assistance", tags=["federation assistance"])

Readers = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR, Role.COMMITTEE_MEMBER)]


@router.get("")
def read_federation_assistance(
    session: ReadSessionDep,
    _actor: Readers,
    stage: Annotated[StageKey | None, Query(description="Only this stage's gaps")] = None,
) -> FederationAssistance:
    """Every gap cities of the federation asked technical assistance with, the most asked-about
    first: a baseline criterion counted across countries (every national framework keeps its
    code), a criterion a national framework added within its country."""
    gaps = federation_gaps(session=session, stage=stage)
    return FederationAssistance(
        data=[FederationGapPublic.model_validate(gap) for gap in gaps],
        requests=sum(gap.requests for gap in gaps),
    )
