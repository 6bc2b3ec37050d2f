from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from sdgcities.node.actor import Actor

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
    *, session: Session, offset: int, limit: int, action: str | None = None
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    count_query = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
        count_query = count_query.where(AuditEntry.action == action)
    entries = session.exec(
        query.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(entries), session.exec(count_query).one()
