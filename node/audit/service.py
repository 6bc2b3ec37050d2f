from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col

from sdgcities.node.actor import Actor
from sdgcities.node.db import page_of

from .models import AuditEntry


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_user_id=actor.user_id,
        actor_role=actor.role.value,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    *,
    session: Session,
    offset: int,
    limit: int,
    action: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> tuple[list[AuditEntry], int]:
    """The entries matching every filter given, newest first; `since` inclusive, `before`
    exclusive."""
    conditions: list[Any] = []
    if action:
        conditions.append(AuditEntry.action == action)
    if actor_user_id is not None:
        conditions.append(AuditEntry.actor_user_id == actor_user_id)
    if since is not None:
        conditions.append(col(AuditEntry.at) >= since)
    if before is not None:
        conditions.append(col(AuditEntry.at) < before)
    return page_of(
        session,
        AuditEntry,
        conditions=conditions,
        order_by=[col(AuditEntry.id).desc()],
        offset=offset,
        limit=limit,
    )
