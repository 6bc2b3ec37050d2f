"""Small builders for events, chains and trust lists."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sdgcities.credentials import (
    KeyPeriod,
    KeyStatus,
    NodeStatus,
    SigningKey,
    TrustedNode,
    TrustList,
)
from sdgcities.federation import Event, EventType

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_chain(
    count: int,
    *,
    node_id: str = "KE",
    previous: Event | None = None,
    data: Mapping[str, Any] | None = None,
    type: EventType = EventType.CREDENTIAL_ISSUED,
) -> list[Event]:
    events: list[Event] = []
    for n in range(count):
        previous = Event.create(
            previous,
            node_id=node_id,
            type=type,
            occurred_at=T0 + timedelta(minutes=n),
            subject={"locode": "KE-NBO", "credential": f"urn:uuid:{n}"},
            data=dict(data) if data is not None else {"n": n},
        )
        events.append(previous)
    return events


def trusted_node(
    node_id: str,
    key: SigningKey,
    *,
    status: NodeStatus = NodeStatus.ACTIVE,
    status_since: datetime = T0 - timedelta(days=365),
    key_status: KeyStatus = KeyStatus.ACTIVE,
    key_status_since: datetime | None = None,
) -> TrustedNode:
    host = f"{node_id.lower()}.example.org"
    return TrustedNode(
        id=node_id,
        did=f"did:web:{host}",
        name=f"node {node_id}",
        base_url=f"https://{host}",
        status=status,
        status_since=status_since,
        keys=(
            KeyPeriod(
                public_key=key.public_key,
                status=key_status,
                valid_from=T0 - timedelta(days=365),
                status_since=key_status_since,
            ),
        ),
    )


def trust_list(*nodes: TrustedNode) -> TrustList:
    return TrustList(
        issuer="did:web:global.example.org",
        sequence=1,
        issued_at=T0,
        next_update=T0 + timedelta(days=7),
        nodes=nodes,
    )
