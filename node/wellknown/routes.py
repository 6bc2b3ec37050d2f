from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from sdgcities.credentials import did_document, jwks
from sdgcities.node.deps import Anyone, SessionDep, StateDep
from sdgcities.node.identity.service import published_keys

router = APIRouter(tags=["well-known"])


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
