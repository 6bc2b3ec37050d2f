"""Joining the federation and syncing the trust list from the global node (a national node)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import FrameworkRef, KeyStatus, SigningKey
from sdgcities.federation.onboarding import EndorsementRequest, JoinRequest, KeyRotation
from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.audit.service import record
from sdgcities.node.db import after_commit
from sdgcities.node.errors import Conflict, InvalidRequest
from sdgcities.node.frameworks.service import endorse_version, find_version, get_version_or_raise
from sdgcities.node.identity.models import NodeKey
from sdgcities.node.identity.service import key_path
from sdgcities.node.state import NodeState
from sdgcities.node.status.service import resign_lists_signed_with
from sdgcities.node.timeutil import utcnow
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
    """Fetch the trust list from the global node and accept it (rollback-safe), then attach the
    endorsements it carries for this node to the framework versions they name."""
    target = _global_url(state, None)
    token = fetch_trust_list(state.http, base_url=target, allowed=_allowed(session, state))
    copy, stored = accept_trust_list(
        session=session, settings=state.settings, token=token, actor=SYSTEM
    )
    if stored:
        attach_endorsements(session=session, state=state)
        _resign_status_lists_of_compromised_keys(session=session, state=state)
        # A list that now lists this node (joined, reinstated, a key rotated) lets the relay
        # report: it tries at once, not at the end of the back-off it grew while it could not.
        after_commit(session, state.relay_wake.wake)
    return copy, stored


def _resign_status_lists_of_compromised_keys(*, session: Session, state: NodeState) -> None:
    """Once the trust list marks one of this node's keys compromised, the status lists that key
    signed are re-signed with the current signing key (when that one is not compromised too:
    the node must rotate first), so its certificates received before the cut-off stay valid."""
    trust_list = load_current(session=session, settings=state.settings)
    own = trust_list.node(state.settings.node_id) if trust_list else None
    compromised = {
        period.public_key.kid
        for period in (own.keys if own else ())
        if period.status is KeyStatus.COMPROMISED
    }
    if compromised and state.signing_key.kid not in compromised:
        resign_lists_signed_with(session=session, state=state, kids=compromised, now=utcnow())


def attach_endorsements(*, session: Session, state: NodeState) -> list[str]:
    """Store each endorsement on the trust list for this node that its versions lack."""
    trust_list = load_current(session=session, settings=state.settings)
    own = trust_list.node(state.settings.node_id) if trust_list else None
    attached: list[str] = []
    for endorsement in own.frameworks if own else ():
        ref = endorsement.framework
        version = find_version(session=session, framework_id=ref.id, version=ref.version)
        if version is None or version.digest != ref.digest or version.endorsement_jws:
            continue
        endorse_version(
            session=session,
            version=version,
            token=endorsement.token,
            settings=state.settings,
            actor=SYSTEM,
        )
        attached.append(version.label)
    return attached


def send_endorsement_request(
    *, session: Session, state: NodeState, version_id: int, actor: Actor
) -> dict[str, Any]:
    """Ask the global node to endorse a published version: its stored document and digest."""
    settings = state.settings
    if settings.is_global:
        raise Conflict("the global node endorses its own frameworks directly")
    version = get_version_or_raise(session=session, version_id=version_id, actor=actor)
    if not version.is_published or version.digest is None:
        raise Conflict(f"{version.label} is a draft: publish it first")
    if version.endorsement_jws is not None:
        raise Conflict(f"{version.label} is already endorsed")
    token = EndorsementRequest.sign(
        node_id=settings.node_id,
        did=settings.did,
        framework=FrameworkRef(version.framework_id, version.version, version.digest),
        document=version.document,
        key=state.signing_key,
    )
    target = _global_url(state, None)
    status, body = post_json(
        state.http,
        base_url=target,
        path="/federation/endorsements",
        body={"token": token},
        allowed=_allowed(session, state),
    )
    if status != 202:
        raise FederationUnreachable(
            f"the global node refused the endorsement request ({status}): "
            f"{body.get('detail', body)}"
        )
    record(
        session=session,
        actor=actor,
        action="framework.request_endorsement",
        target_type="framework_version",
        target_id=version_id,
        detail={"request": body.get("id")},
    )
    return body


def rotate_signing_key(*, session: Session, state: NodeState, actor: Actor) -> SigningKey:
    """Generate a new signing key, announce it to the global node (signed by the current key and
    by the new one) and, once the global node has added it, store it as this node's active key.

    The key file is written before the announcement, so the global node never lists a key whose
    private half could be lost; it is removed again if the announcement fails. The old key stays
    active here and on the trust list: the secretariat retires it on the global node once the
    switch is done, so certificates it signed keep verifying.
    """
    settings = state.settings
    target = _global_url(state, None)
    current = state.signing_key
    new_key = SigningKey.generate(current.algorithm)
    token = KeyRotation.sign(
        node_id=settings.node_id, did=settings.did, current_key=current, new_key=new_key
    )
    path = key_path(settings, new_key.kid)
    new_key.save(path, settings.key_passphrase.get_secret_value())
    try:
        status, body = post_json(
            state.http,
            base_url=target,
            path="/federation/keys/rotate",
            body={"token": token},
            allowed=_allowed(session, state),
        )
        if status != 201:
            raise FederationUnreachable(
                f"the global node refused the key rotation ({status}): {body.get('detail', body)}"
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    session.add(
        NodeKey(
            kid=new_key.kid,
            algorithm=new_key.algorithm.value,
            public_jwk=new_key.public_key.to_jwk(),
            valid_from=_valid_from(body),
        )
    )
    session.flush()
    record(
        session=session,
        actor=actor,
        action="identity.key_rotate",
        target_type="node_key",
        target_id=new_key.kid,
        detail={"previous": current.kid},
    )
    return new_key


def _valid_from(answer: dict[str, Any]) -> datetime:
    """When the global node says the key is valid from, so both registries agree."""
    try:
        moment = datetime.fromisoformat(str(answer.get("valid_from")))
    except ValueError:
        return utcnow()
    return moment if moment.tzinfo is not None else utcnow()
