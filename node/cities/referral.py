"""Which node certifies a city (§26b, §27): the global node takes the cities of countries with no
national node, and refers the others to their national node.

The national nodes are the global node's trust registry (`member_node`, ids are ISO country
codes). A member that is active or suspended keeps its country's cities: a suspension is
temporary and the node still exists, so the city is referred there to apply once it is
reinstated (a certificate it issued while suspended would not verify). A withdrawn member has
left for good, and the global node takes its country's cities again. A national node never
refers: it registers its own country's cities only (`service.create_city`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sdgcities.credentials import NodeStatus
from sdgcities.node.config import GLOBAL_NODE_ID
from sdgcities.node.errors import Conflict
from sdgcities.node.members.models import MemberNode

# The statuses in which a national node keeps its country's cities.
REFERRING_STATUSES = frozenset({NodeStatus.ACTIVE, NodeStatus.SUSPENDED})


def national_node_for(*, session: Session, country: str) -> MemberNode | None:
    """The national node that certifies `country`'s cities, if the trust registry has one."""
    member = session.get(MemberNode, country)
    if member is None or member.status not in REFERRING_STATUSES:
        return None
    return member


def referral_of(member: MemberNode) -> dict[str, Any]:
    return {
        "node_id": member.node_id,
        "name": member.name,
        "base_url": member.base_url,
        "status": member.status.value,
    }


def check_certified_here(*, session: Session, node_id: str, locode: str) -> None:
    """On the global node, refuse (409, with the referral) a city whose country has a national
    node; anywhere else, nothing to check."""
    if node_id != GLOBAL_NODE_ID:
        return
    country = locode[:2]
    member = national_node_for(session=session, country=country)
    if member is None:
        return
    where = f"apply at {member.base_url}"
    if member.status is NodeStatus.SUSPENDED:
        where = (
            f"that node is suspended at present, and a suspension is temporary: {where} once "
            "it is reinstated"
        )
    raise Conflict(
        f"{country} has a national node, {member.name} ({member.node_id}): the global node "
        f"certifies only cities of countries without one, so city {locode} is certified "
        f"there; {where}",
        extra={"referral": referral_of(member)},
    )
