"""The global node's side of a spot-check: drawing a round, fetching the selected dossiers,
recording the re-review's outcome and sending it back.

Candidates are the awards the member nodes reported (`ingested_event`, node/ingest): each
approved `award` decision, with the certificate its node issued for it, in the round's window,
not revoked since. The global node's own awards are not candidates: it would be checking itself.

A round locks the event-log head, numbers itself one after the last round, scores every
candidate against that head (`federation.spotcheck.select_round`), stores the document as
canonical JSON and appends `spotcheck.selected` (the round, its document's digest and the head
it was drawn on) as the very next event, all in one transaction. The document is public.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlmodel import Session, col, func, select

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import (
    TrustedNode,
    TrustList,
    canonical_json,
    content_digest,
    parse_json_object,
)
from sdgcities.federation import ChainHead, EventType
from sdgcities.federation.event_data import LogHead, SpotcheckResult, SpotcheckSelected
from sdgcities.federation.spotcheck import (
    GLOBAL_NODE_ID,
    Candidate,
    CriterionReason,
    DossierRequest,
    Outcome,
    SpotCheckOutcome,
    select_round,
)
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.db import page_of
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.events.models import EventLogHead
from sdgcities.node.events.service import HEAD_ROW_ID, append_event
from sdgcities.node.ingest.models import IngestedEvent
from sdgcities.node.membership.client import (
    FederationUnreachable,
    allowed_base_urls,
    exchange,
)
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from .models import CheckState, SpotCheck, SpotCheckRound
from .schemas import OutcomeCreate

MAX_DOSSIER_BYTES: Final = 4 * 1024 * 1024
REVIEWED = frozenset({CheckState.CONFIRMED, CheckState.NOT_CONFIRMED})


# Candidates -------------------------------------------------------------------------------------


def awards_reported(
    *, session: Session, window_from: datetime, window_until: datetime
) -> list[Candidate]:
    """The awards member nodes reported with a decision in [window_from, window_until), each with
    its certificate, leaving out certificates revoked since."""
    decisions = session.exec(
        select(IngestedEvent).where(
            IngestedEvent.type == EventType.DECISION_RECORDED.value,
            col(IngestedEvent.occurred_at) >= window_from,
            col(IngestedEvent.occurred_at) < window_until,
            IngestedEvent.node_id != GLOBAL_NODE_ID,
        )
    ).all()
    awards = [
        event
        for event in decisions
        if event.data.get("kind") == "award"
        and event.data.get("outcome") == "approved"
        and isinstance(event.subject.get("application"), int)
        and isinstance(event.subject.get("item"), int)
    ]
    if not awards:
        return []
    nodes = sorted({event.node_id for event in awards})
    # A certificate is issued in its decision's transaction, so never before the decision.
    issued: dict[tuple[str, int], IngestedEvent] = {}
    for event in session.exec(
        select(IngestedEvent).where(
            IngestedEvent.type == EventType.CREDENTIAL_ISSUED.value,
            col(IngestedEvent.node_id).in_(nodes),
            col(IngestedEvent.occurred_at) >= window_from,
        )
    ).all():
        decision = event.data.get("decision")
        if isinstance(decision, dict) and isinstance(decision.get("item"), int):
            issued[(event.node_id, decision["item"])] = event
    revoked = {
        (node_id, subject.get("credential"))
        for node_id, subject in session.exec(
            select(IngestedEvent.node_id, IngestedEvent.subject).where(
                IngestedEvent.type == EventType.CREDENTIAL_REVOKED.value,
                col(IngestedEvent.node_id).in_(nodes),
            )
        ).all()
    }
    candidates = []
    for decision_event in awards:
        certificate = issued.get((decision_event.node_id, decision_event.subject["item"]))
        if certificate is None:
            continue  # reported the decision, not yet the certificate
        credential = certificate.subject.get("credential")
        if not isinstance(credential, str) or (decision_event.node_id, credential) in revoked:
            continue
        candidates.append(
            Candidate(
                node_id=decision_event.node_id,
                application_id=decision_event.subject["application"],
                locode=str(decision_event.subject.get("locode", "")) or "unknown",
                credential_id=credential,
                event=ChainHead(decision_event.sequence, decision_event.hash),
            )
        )
    return candidates


# Rounds -----------------------------------------------------------------------------------------


def draw_round(
    *,
    session: Session,
    state: NodeState,
    rate: float | None,
    window_from: datetime | None,
    window_until: datetime | None,
    actor: Actor,
) -> SpotCheckRound:
    settings = state.settings
    since, until = _window(state=state, window_from=window_from, window_until=window_until)
    chosen_rate = settings.spotcheck_rate if rate is None else rate
    head = _lock_log_head(session)
    last = session.exec(select(func.max(SpotCheckRound.id))).one()
    round_id = (last or 0) + 1
    candidates = awards_reported(session=session, window_from=since, window_until=until)
    document = select_round(
        round_id=round_id,
        log_head=head,
        rate=chosen_rate,
        window_from=since,
        window_until=until,
        candidates=candidates,
    )
    drawn = SpotCheckRound(
        id=round_id,
        rate=chosen_rate,
        window_from=since,
        window_until=until,
        log_sequence=head.sequence,
        log_hash=head.hash,
        candidates=len(candidates),
        document=canonical_json(document).decode(),
        digest=content_digest(document),
        drawn_by=actor.user_id,
    )
    _store_round(
        session=session, drawn=drawn, candidates=candidates, document=document, actor=actor
    )
    append_event(
        session=session,
        node_id=settings.node_id,
        type=EventType.SPOTCHECK_SELECTED,
        subject={"round": round_id},
        data=SpotcheckSelected(
            document=drawn.digest,
            log_head=LogHead(sequence=head.sequence, hash=head.hash),
            rate=chosen_rate,
            candidates=len(candidates),
            selected=len(document["selected"]),
        ),
    )
    return drawn


def _window(
    *, state: NodeState, window_from: datetime | None, window_until: datetime | None
) -> tuple[datetime, datetime]:
    """The round's window, to the second: until now and the configured days back by default."""
    until = (window_until or utcnow()).replace(microsecond=0)
    since = (window_from or until - timedelta(days=state.settings.spotcheck_window_days)).replace(
        microsecond=0
    )
    if until <= since:
        raise InvalidRequest("window_until must come after window_from")
    return since, until


def _lock_log_head(session: Session) -> ChainHead:
    # The head row's lock orders rounds and events: the round's number and head cannot be
    # taken by another round, and `spotcheck.selected` is the event right after the head.
    sequence, head_hash = session.exec(
        select(EventLogHead.sequence, EventLogHead.hash)
        .where(EventLogHead.id == HEAD_ROW_ID)
        .with_for_update()
    ).one()
    return ChainHead(sequence, head_hash)


def _store_round(
    *,
    session: Session,
    drawn: SpotCheckRound,
    candidates: Sequence[Candidate],
    document: dict[str, Any],
    actor: Actor,
) -> None:
    """The round, a check for each application it selected, and the audit record."""
    session.add(drawn)
    session.flush()
    by_key = {c.key: c for c in candidates}
    for entry in document["selected"]:
        chosen = by_key[(entry["nodeId"], entry["application"])]
        session.add(
            SpotCheck(
                round_id=drawn.id,
                node_id=chosen.node_id,
                application_id=chosen.application_id,
                locode=chosen.locode,
                credential_id=chosen.credential_id,
            )
        )
    session.flush()
    record(
        session=session,
        actor=actor,
        action="spotcheck.draw",
        target_type="spotcheck_round",
        target_id=drawn.id,
        detail={"candidates": len(candidates), "selected": len(document["selected"])},
    )


def get_round_or_raise(*, session: Session, round_id: int) -> SpotCheckRound:
    found = session.get(SpotCheckRound, round_id)
    if found is None:
        raise NotFound(f"no spot-check round {round_id}")
    return found


def list_rounds(*, session: Session, offset: int, limit: int) -> tuple[list[SpotCheckRound], int]:
    return page_of(
        session,
        SpotCheckRound,
        conditions=[],
        order_by=[col(SpotCheckRound.id).desc()],
        offset=offset,
        limit=limit,
    )


def document_of(drawn: SpotCheckRound) -> dict[str, Any]:
    return parse_json_object(drawn.document, what="round document")


def checks_of(*, session: Session, round_id: int) -> list[SpotCheck]:
    return list(
        session.exec(
            select(SpotCheck).where(SpotCheck.round_id == round_id).order_by(col(SpotCheck.id))
        ).all()
    )


def get_check_or_raise(*, session: Session, check_id: int, lock: bool = False) -> SpotCheck:
    query = select(SpotCheck).where(SpotCheck.id == check_id)
    if lock:
        query = query.with_for_update()
    check = session.exec(query).first()
    if check is None:
        raise NotFound(f"no spot-check {check_id}")
    return check


# Talking to the awarding node -------------------------------------------------------------------


def _member(*, session: Session, state: NodeState, node_id: str) -> tuple[TrustedNode, set[str]]:
    try:
        trust_list: TrustList | None = load_current(session=session, settings=state.settings)
    except CredentialsError as exc:
        raise Conflict(f"the published trust list does not verify: {exc}") from exc
    node = trust_list.node(node_id) if trust_list is not None else None
    if trust_list is None or node is None:
        raise Conflict(f"node {node_id} is not on the trust list: it cannot be asked")
    return node, allowed_base_urls(global_url=None, trust_list=trust_list)


def _post_token(
    *,
    state: NodeState,
    node: TrustedNode,
    allowed: set[str],
    path: str,
    token: str,
    max_bytes: int,
) -> tuple[int, bytes, str]:
    answer = exchange(
        state.http,
        method="POST",
        url=node.base_url + path,
        allowed=allowed,
        content=json.dumps({"token": token}).encode(),
        headers={"Content-Type": "application/json"},
        max_response_bytes=max_bytes,
    )
    return answer.status, answer.body, answer.headers.get("content-type", "")


def _refusal(node: TrustedNode, status: int, body: bytes, what: str) -> FederationUnreachable:
    try:
        detail: Any = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        detail = body[:200].decode("utf-8", "replace")
    return FederationUnreachable(f"node {node.id} refused the {what} ({status}): {detail}")


def _ask_awarding_node(
    *,
    session: Session,
    state: NodeState,
    check: SpotCheck,
    path: str,
    max_bytes: int,
    what: str,
    evidence: str | None = None,
) -> tuple[TrustedNode, bytes]:
    """The awarding node's answer to a dossier request for `check` (with `evidence`, for that
    file), signed by this node's key; `FederationUnreachable` unless it answers 200."""
    node, allowed = _member(session=session, state=state, node_id=check.node_id)
    token = DossierRequest.sign(
        key=state.signing_key,
        issuer=state.settings.did,
        audience=node.did,
        node_id=check.node_id,
        round_id=check.round_id,
        application_id=check.application_id,
        evidence=evidence,
    )
    status, body, _ = _post_token(
        state=state, node=node, allowed=allowed, path=path, token=token, max_bytes=max_bytes
    )
    if status != 200:
        raise _refusal(node, status, body, what)
    return node, body


def fetch_dossier(*, session: Session, state: NodeState, check_id: int, actor: Actor) -> SpotCheck:
    """Ask the awarding node for the dossier, with a request signed by this node's key."""
    check = get_check_or_raise(session=session, check_id=check_id, lock=True)
    if check.state in REVIEWED:
        raise Conflict(f"spot-check {check.id} is already reviewed ({check.state.value})")
    node, body = _ask_awarding_node(
        session=session,
        state=state,
        check=check,
        path="/federation/dossiers",
        max_bytes=MAX_DOSSIER_BYTES,
        what="dossier request",
    )
    try:
        dossier = parse_json_object(body, what="the dossier")
    except CredentialsError as exc:
        raise FederationUnreachable(f"node {node.id} answered a dossier that is not JSON") from exc
    application = dossier.get("application")
    certificate = dossier.get("certificate")
    if (
        dossier.get("nodeId") != check.node_id
        or not isinstance(application, dict)
        or application.get("id") != check.application_id
        or not isinstance(certificate, dict)
        or certificate.get("id") != check.credential_id
    ):
        raise FederationUnreachable(
            f"node {node.id} answered the dossier of another application or certificate"
        )
    check.dossier = dossier
    check.dossier_digest = content_digest(dossier)
    check.fetched_at = utcnow()
    check.state = CheckState.DOSSIER_FETCHED
    session.add(check)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="spotcheck.fetch_dossier",
        target_type="spotcheck",
        target_id=check.id,
        detail={"digest": check.dossier_digest},
    )
    return check


def fetch_evidence(
    *, session: Session, state: NodeState, check_id: int, digest: str
) -> tuple[bytes, str]:
    """One evidence file of a fetched dossier, from the awarding node, checked against its
    digest; with the media type the dossier gives it."""
    check = get_check_or_raise(session=session, check_id=check_id)
    if check.dossier is None:
        raise Conflict(f"spot-check {check.id} has no dossier yet: fetch it first")
    entry = next((e for e in check.dossier.get("evidence", []) if e.get("digest") == digest), None)
    if entry is None:
        raise NotFound(f"the dossier of spot-check {check.id} lists no evidence {digest}")
    node, body = _ask_awarding_node(
        session=session,
        state=state,
        check=check,
        path="/federation/dossiers/evidence",
        max_bytes=state.settings.evidence_max_bytes,
        what="evidence request",
        evidence=digest,
    )
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise FederationUnreachable(f"node {node.id} answered a file that is not {digest}")
    return body, str(entry.get("mediaType", "application/octet-stream"))


def record_outcome(
    *, session: Session, state: NodeState, check_id: int, data: OutcomeCreate, actor: Actor
) -> SpotCheck:
    """Store the re-review's finding, append `spotcheck.result`, and send the outcome signed."""
    check = get_check_or_raise(session=session, check_id=check_id, lock=True)
    if check.state in REVIEWED:
        raise Conflict(f"spot-check {check.id} is already reviewed ({check.state.value})")
    if check.dossier is None:
        raise Conflict(f"spot-check {check.id} has no dossier yet: fetch it before reviewing")
    codes = _criteria_of(check.dossier)
    unknown = sorted({r.criterion for r in data.reasons} - codes)
    if unknown:
        raise InvalidRequest(f"the dossier's report has no criterion {', '.join(unknown)}")
    check.state = (
        CheckState.CONFIRMED if data.outcome is Outcome.CONFIRMED else CheckState.NOT_CONFIRMED
    )
    check.summary = data.summary
    check.reasons = [{"criterion": r.criterion, "text": r.text} for r in data.reasons]
    check.reviewed_by = actor.user_id
    check.reviewed_at = utcnow()
    session.add(check)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="spotcheck.review",
        target_type="spotcheck",
        target_id=check.id,
        detail={"outcome": data.outcome.value},
    )
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.SPOTCHECK_RESULT,
        subject={
            "round": check.round_id,
            "node": check.node_id,
            "application": check.application_id,
            "locode": check.locode,
            "credential": check.credential_id,
        },
        data=SpotcheckResult(
            outcome=data.outcome.value,
            criteria=tuple(sorted({r.criterion for r in data.reasons})),
        ),
    )
    return deliver(session=session, state=state, check=check)


def _criteria_of(dossier: dict[str, Any]) -> set[str]:
    report = dossier.get("report")
    document = report.get("document") if isinstance(report, dict) else None
    criteria = document.get("criteria") if isinstance(document, dict) else None
    return {str(c.get("code")) for c in criteria or [] if isinstance(c, dict)}


def deliver(*, session: Session, state: NodeState, check: SpotCheck) -> SpotCheck:
    """Send the reviewed outcome, signed, to the awarding node. A failure is kept on the check
    (`delivery_error`) rather than undoing the review: delivery can be retried."""
    if check.state not in REVIEWED:
        raise Conflict(f"spot-check {check.id} is not reviewed yet: nothing to deliver")
    if check.delivered_at is not None:
        raise Conflict(f"the outcome of spot-check {check.id} was already delivered")
    try:
        node, allowed = _member(session=session, state=state, node_id=check.node_id)
        token = SpotCheckOutcome.sign(
            key=state.signing_key,
            issuer=state.settings.did,
            audience=node.did,
            node_id=check.node_id,
            round_id=check.round_id,
            application_id=check.application_id,
            credential_id=check.credential_id,
            outcome=Outcome(check.state.value),
            summary=check.summary or "",
            reasons=_reasons(check.reasons),
        )
        check.outcome_token = token
        status, body, _ = _post_token(
            state=state,
            node=node,
            allowed=allowed,
            path="/federation/spot-check-outcomes",
            token=token,
            max_bytes=64 * 1024,
        )
        if status not in (200, 201):
            raise _refusal(node, status, body, "outcome")
    except (Conflict, InvalidRequest) as exc:
        check.delivery_error = exc.message[:2000]
    else:
        check.delivered_at = utcnow()
        check.delivery_error = None
    session.add(check)
    session.flush()
    return check


def _reasons(stored: Sequence[dict[str, str]]) -> tuple[CriterionReason, ...]:
    return tuple(CriterionReason(r["criterion"], r["text"]) for r in stored)
