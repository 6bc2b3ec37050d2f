"""Joining the federation and syncing the trust list from the global node (a national node)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sdgcities.credentials import Error as CredentialsError
from sdgcities.federation.onboarding import JoinRequest
from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.audit.service import record
from sdgcities.node.errors import Conflict, InvalidRequest
from sdgcities.node.state import NodeState
from sdgcities.node.trust.models import TrustListCopy
from sdgcities.node.trust.service import accept_trust_list, load_current

from .client import FederationUnreachable, allowed_base_urls, fetch_trust_list, post_json


def _allowed(session: Session, state: NodeState) -> set[str]:
    try:
        current = load_current(session=session, settings=state.settings)
    except CredentialsError:
        current = None
    return allowed_base_urls(global_url=state.settings.global_url, trust_list=current)


def _global_url(state: NodeState, override: str | None) -> str:
    url = override or state.settings.global_url
    if url is None:
        raise Conflict("no global node is configured (SDGCITIES_GLOBAL_URL)")
    return url


def send_join_request(
    *, session: Session, state: NodeState, global_url: str | None, actor: Actor
) -> dict[str, Any]:
    """Sign a join request with this node's key and send it; the global node's answer."""
    settings = state.settings
    if settings.is_global:
        raise Conflict("the global node does not join itself")
    target = _global_url(state, global_url)
    if global_url is not None and settings.global_url not in (None, target):
        raise InvalidRequest(f"{target} is not the configured global node")
    token = JoinRequest.sign(
        node_id=settings.node_id,
        base_url=settings.base_url,
        name=settings.node_name,
        key=state.signing_key,
    )
    allowed = _allowed(session, state) | {target.rstrip("/")}
    status, body = post_json(
        state.http, base_url=target, path="/federation/join", body={"token": token}, allowed=allowed
    )
    if status != 202:
        raise FederationUnreachable(
            f"the global node refused the join request ({status}): {body.get('detail', body)}"
        )
    record(
        session=session,
        actor=actor,
        action="federation.join_request",
        target_type="join_request",
        target_id=body.get("id", "?"),
    )
    return body


def sync_trust_list(*, session: Session, state: NodeState) -> tuple[TrustListCopy, bool]:
    """Fetch the trust list from the global node and accept it (rollback-safe)."""
    target = _global_url(state, None)
    token = fetch_trust_list(state.http, base_url=target, allowed=_allowed(session, state))
    copy, stored = accept_trust_list(
        session=session, settings=state.settings, token=token, actor=SYSTEM
    )
    return copy, stored
