from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from sdgcities.node.deps import Admin, SessionDep
from sdgcities.node.schemas import Limit, Offset, Page, ResponseModel

from .service import list_entries

router = APIRouter(prefix="/admin", tags=["audit"])


class AuditEntryPublic(ResponseModel):
    id: int
    at: datetime
    actor_user_id: int | None
    actor_role: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]


class AuditEntriesPublic(Page):
    data: list[AuditEntryPublic]


@router.get("/audit")
def read_audit_log(
    session: SessionDep,
    _actor: Admin,
    action: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> AuditEntriesPublic:
    entries, count = list_entries(session=session, offset=offset, limit=limit, action=action)
    return AuditEntriesPublic(
        data=[AuditEntryPublic.model_validate(e) for e in entries], count=count
    )
