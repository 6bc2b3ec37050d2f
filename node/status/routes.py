from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from sqlmodel import col, select

from sdgcities.credentials import STATUS_PURPOSE, VC_JWT_TYP, isoformat
from sdgcities.node.deps import Anyone, ReadSessionDep, StateDep
from sdgcities.node.errors import NotFound
from sdgcities.node.http_caching import etag_matches
from sdgcities.node.timeutil import utcnow

from .models import StatusListRecord
from .service import get_status_list, list_url

router = APIRouter(tags=["status"])

MEDIA_TYPE = f"application/{VC_JWT_TYP}"
MAX_AGE_SECONDS = 300
"""How long a cache may keep a list: short, so a revocation reaches verifiers within minutes."""


@router.get("/status")
def list_status_lists(
    session: ReadSessionDep, state: StateDep, _actor: Anyone
) -> dict[str, list[dict[str, str]]]:
    """Every status list this node publishes, so verifiers can gather them for offline use
    (`sdgcities trust sync`): `{"lists": [{"id", "purpose", "url", "validUntil"}]}`."""
    records = session.exec(select(StatusListRecord).order_by(col(StatusListRecord.list_id))).all()
    return {
        "lists": [
            {
                "id": record.list_id,
                "purpose": STATUS_PURPOSE,
                "url": list_url(state.settings.base_url, record.list_id),
                "validUntil": isoformat(record.valid_until),
            }
            for record in records
        ]
    }


@router.get(
    "/status/{list_id}",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPE: {"schema": {"type": "string"}}}},
        304: {"description": "The list is unchanged since the `If-None-Match` ETag"},
        404: {"description": "No such list"},
    },
)
def read_status_list(
    session: ReadSessionDep,
    _actor: Anyone,
    list_id: Annotated[str, Path(max_length=64)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A signed `BitstringStatusListCredential` (`application/vc+jwt`), as DESIGN §6 has it.

    Answers with an `ETag` (the SHA-256 of the token) and `Cache-Control: public, max-age=N`,
    N being 300 seconds or the list's remaining validity if shorter; `If-None-Match` with the
    current ETag answers 304 without a body.
    """
    record = get_status_list(session=session, list_id=list_id)
    if record is None:
        raise NotFound(f"no status list {list_id}")
    seconds_left = int((record.valid_until - utcnow()).total_seconds())
    headers = {
        "ETag": record.etag,
        "Cache-Control": f"public, max-age={max(0, min(MAX_AGE_SECONDS, seconds_left))}",
    }
    if if_none_match is not None and etag_matches(if_none_match, record.etag):
        return Response(status_code=304, headers=headers)
    return Response(record.token, media_type=MEDIA_TYPE, headers=headers)
