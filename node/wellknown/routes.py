from __future__ import annotations

import hashlib
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import text

from sdgcities.credentials import did_document, jwks
from sdgcities.credentials.context import (
    JSON_LD_MEDIA_TYPE,
    SDGCITIES_CONTEXT_PATH,
    sdgcities_context_document,
)
from sdgcities.node.deps import Anyone, SessionDep, StateDep
from sdgcities.node.http_caching import etag_matches
from sdgcities.node.identity.service import published_keys

router = APIRouter(tags=["well-known"])

# A published context never changes (a new version gets a new URL), so caches may keep it.
CONTEXT_CACHE = "public, max-age=31536000, immutable"


@router.get("/.well-known/did.json")
def get_did_document(session: SessionDep, state: StateDep, _actor: Anyone) -> dict[str, Any]:
    """The node's keys; on the global node also the root key(s) it pins, which sign the trust
    list and the endorsements under the global node's DID (assertions only)."""
    settings = state.settings
    keys = [period.public_key for period in published_keys(session=session)]
    root_keys = settings.pinned_root_keys if settings.is_global else ()
    return did_document(settings.did, keys, assertion_only=root_keys)


@router.get("/.well-known/jwks.json")
def get_jwks(session: SessionDep, state: StateDep, _actor: Anyone) -> dict[str, Any]:
    return jwks(state.settings.did, (p.public_key for p in published_keys(session=session)))


@router.get("/healthz")
def healthz(session: SessionDep, state: StateDep, _actor: Anyone) -> dict[str, str]:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok", "node": state.settings.node_id, "did": state.settings.did}


@router.get("/version")
def version(request: Request, state: StateDep, _actor: Anyone) -> dict[str, str]:
    """The software version and the node's id; reads nothing, so it also serves as the
    baseline for request benchmarks (`bench/verify_api.py`)."""
    return {"version": request.app.version, "node": state.settings.node_id}


@router.get(
    SDGCITIES_CONTEXT_PATH,
    response_class=Response,
    responses={
        200: {"content": {JSON_LD_MEDIA_TYPE: {"schema": {"type": "object"}}}},
        304: {"description": "Unchanged since the `If-None-Match` ETag"},
    },
)
def read_sdgcities_context(
    _actor: Anyone, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The project's JSON-LD context, `https://w3id.org/sdgcities/v1`: byte for byte the copy
    shipped in the package, which every certificate lists after the VCDM 2.0 and Open Badges
    contexts. `ETag` is its SHA-256; it never changes, so it may be cached for a year."""
    document = sdgcities_context_document()
    headers = {"ETag": _context_etag(), "Cache-Control": CONTEXT_CACHE}
    if if_none_match is not None and etag_matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(document, media_type=JSON_LD_MEDIA_TYPE, headers=headers)


@cache
def _context_etag() -> str:
    return f'"{hashlib.sha256(sdgcities_context_document()).hexdigest()}"'
