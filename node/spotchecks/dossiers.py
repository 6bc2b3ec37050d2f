"""A national node's side of a spot-check: answering the global node's signed dossier requests,
and taking in the signed outcome.

Every message proves itself: it must be signed by a key the accepted trust list (node/trust)
gives the global node, name this node's DID as audience, be within its short lifetime, and carry
a `jti` this node has not accepted before. Only then is anything in it used.

The dossier holds what the re-review needs and nothing personal: the stage report (reviewers
already named "lead reviewer" / "reviewer N"), the reviewers' assessments as that report shows
them, the city's answers, and the evidence files by digest, size, type and criterion (never the
uploader). A file is sent only when a request names its digest.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlmodel import Session, select

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import TrustList, isoformat
from sdgcities.federation import EventType
from sdgcities.federation.errors import MessageRefused
from sdgcities.federation.event_data import SpotcheckResult
from sdgcities.federation.spotcheck import (
    DOSSIER_REQUEST_TYP,
    SPOTCHECK_OUTCOME_TYP,
    DossierRequest,
    Outcome,
    SpotCheckOutcome,
)
from sdgcities.node.actor import SYSTEM
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, Evidence
from sdgcities.node.audit.service import record
from sdgcities.node.certificates import service as certificates
from sdgcities.node.certificates.models import Certificate, ProposalKind
from sdgcities.node.db import add_once
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.evidence import EvidenceStore
from sdgcities.node.evidence.errors import EvidenceError
from sdgcities.node.reports import service as reports
from sdgcities.node.state import NodeState
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from .models import ReceivedOutcome, SeenMessage

DOSSIER_FORMAT: Final = "sdgcities-dossier/1"
MAX_PROPOSAL_REASON: Final = 4000


def held_trust_list(*, session: Session, state: NodeState) -> TrustList:
    """The trust list this node holds, verified; 409 when it holds none or it fails."""
    try:
        trust_list = load_current(session=session, settings=state.settings)
    except CredentialsError as exc:
        raise Conflict(f"the stored trust list does not verify: {exc}") from exc
    if trust_list is None:
        raise Conflict(
            "this node holds no trust list yet, so it cannot check the global node's signature"
        )
    return trust_list


def remember_message(*, session: Session, typ: str, jti: str, expires_at: datetime) -> None:
    """Accept a message id once; a second use is a replay (409), whatever else it says."""
    replayed = Conflict(f"message {jti} was already used: a replay is refused")
    if session.get(SeenMessage, jti) is not None:
        raise replayed
    add_once(session, SeenMessage(jti=jti, typ=typ, expires_at=expires_at), refusal=replayed)


_Message = TypeVar("_Message", DossierRequest, SpotCheckOutcome)


def _verify_message(
    *,
    session: Session,
    state: NodeState,
    token: str,
    kind: type[_Message],
    typ: str,
    what: str,
    noun: str,
) -> _Message:
    """The global node's message to this node, verified and remembered; `what` names it in a
    refusal, `noun` in a wrong node's."""
    trust_list = held_trust_list(session=session, state=state)
    try:
        message = kind.from_jws(token, trust_list=trust_list, audience=state.settings.did)
    except MessageRefused as exc:
        raise InvalidRequest(f"{what} refused: {exc}") from exc
    if message.node_id != state.settings.node_id:
        raise InvalidRequest(
            f"the {noun} is for node {message.node_id}, this is node {state.settings.node_id}"
        )
    remember_message(session=session, typ=typ, jti=message.jti, expires_at=message.expires_at)
    return message


def _verify_request(*, session: Session, state: NodeState, token: str) -> DossierRequest:
    return _verify_message(
        session=session,
        state=state,
        token=token,
        kind=DossierRequest,
        typ=DOSSIER_REQUEST_TYP,
        what="dossier request",
        noun="request",
    )


def _certified(*, session: Session, application_id: int) -> tuple[Application, Certificate]:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"no application {application_id}")
    certificate = session.exec(
        select(Certificate).where(Certificate.application_id == application_id)
    ).first()
    if certificate is None:
        raise Conflict(
            f"application {application_id} holds no certificate: only certified applications "
            "are spot-checked"
        )
    return application, certificate


def _moment(value: datetime | None) -> str | None:
    return None if value is None else isoformat(value)


def dossier_for(*, session: Session, state: NodeState, token: str) -> dict[str, Any]:
    """The dossier a verified request asks for (a request naming a file is for `evidence_for`)."""
    request = _verify_request(session=session, state=state, token=token)
    if request.evidence is not None:
        raise InvalidRequest(
            "this request names an evidence file: send it to /federation/dossiers/evidence"
        )
    application, certificate = _certified(session=session, application_id=request.application_id)
    report = reports.get_report_or_raise(session=session, application=application)
    framework = applications.framework_of(session=session, application=application)
    evidence = applications.evidence_of(session=session, application=application)
    digests = {e.id: e.digest for e in evidence}
    document: dict[str, Any] = report.document
    reviews = [
        {
            "reviewer": reason["reviewer"],
            "criterion": criterion["code"],
            "verdict": reason["verdict"],
            "reasons": reason["text"],
            "evidence": [
                digests[cited["id"]]
                for cited in reason.get("evidence", [])
                if cited["id"] in digests
            ],
        }
        for criterion in document.get("criteria", [])
        for reason in criterion.get("reasons", [])
        if reason.get("source") == "reviewer"
    ]
    record(
        session=session,
        actor=SYSTEM,
        action="spotcheck.dossier_sent",
        target_type="application",
        target_id=application.id,
        detail={"round": request.round_id, "jti": request.jti},
    )
    return {
        "format": DOSSIER_FORMAT,
        "nodeId": state.settings.node_id,
        "round": request.round_id,
        "application": {
            "id": application.id,
            "locode": application.city_locode,
            "stage": application.stage,
            "state": application.state.value,
            "submittedAt": _moment(application.submitted_at),
            "framework": {
                "id": framework.framework_id,
                "version": framework.version,
                "digest": framework.digest,
            },
        },
        "certificate": {
            "id": certificate.id,
            "status": certificate.status.value,
            "level": certificate.level,
            "validFrom": _moment(certificate.valid_from),
            "validUntil": _moment(certificate.valid_until),
        },
        "report": {"version": report.version, "digest": report.digest, "document": document},
        "answers": [
            {
                "criterion": answer.criterion_code,
                "narrative": answer.narrative,
                "indicatorValues": answer.indicator_values,
            }
            for answer in sorted(
                applications.answers_of(session=session, application=application),
                key=lambda a: a.criterion_code,
            )
        ],
        "reviews": reviews,
        "evidence": [_evidence_entry(e) for e in evidence],
    }


def _evidence_entry(evidence: Evidence) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "criterion": evidence.criterion_code,
        "digest": evidence.digest,
        "size": evidence.size,
        "mediaType": evidence.media_type.value,
    }


def evidence_for(*, session: Session, state: NodeState, token: str) -> tuple[Path, str]:
    """The stored file (checked against its digest) a verified request names, and its type."""
    request = _verify_request(session=session, state=state, token=token)
    if request.evidence is None:
        raise InvalidRequest("the request names no evidence file (its digest in 'evidence')")
    application, _ = _certified(session=session, application_id=request.application_id)
    found = next(
        (
            e
            for e in applications.evidence_of(session=session, application=application)
            if e.digest == request.evidence
        ),
        None,
    )
    if found is None:
        raise NotFound(f"application {application.id} has no evidence {request.evidence}")
    store = EvidenceStore(state.settings.evidence_dir, max_bytes=state.settings.evidence_max_bytes)
    try:
        path = store.open_verified(found.digest)
    except EvidenceError as exc:
        raise applications.node_error_for(exc) from exc
    record(
        session=session,
        actor=SYSTEM,
        action="spotcheck.evidence_sent",
        target_type="application",
        target_id=application.id,
        detail={"round": request.round_id, "digest": found.digest, "jti": request.jti},
    )
    return path, found.media_type.value


def receive_outcome(
    *, session: Session, state: NodeState, token: str
) -> tuple[ReceivedOutcome, bool]:
    """Take in the global node's signed outcome; `False` when this round's outcome for the
    application was already taken (a re-delivery: nothing happens twice).

    A negative outcome puts a suspension proposal on the committee's next agenda; the committee
    decides, not the global node.
    """
    outcome = _verify_message(
        session=session,
        state=state,
        token=token,
        kind=SpotCheckOutcome,
        typ=SPOTCHECK_OUTCOME_TYP,
        what="spot-check outcome",
        noun="outcome",
    )
    application, certificate = _certified(session=session, application_id=outcome.application_id)
    if certificate.id != outcome.credential_id:
        raise InvalidRequest(
            f"the outcome names certificate {outcome.credential_id}, but application "
            f"{application.id}'s certificate is {certificate.id}"
        )
    existing = _outcome_taken(session=session, outcome=outcome)
    if existing is not None:
        return existing, False
    received = ReceivedOutcome(
        round_id=outcome.round_id,
        application_id=outcome.application_id,
        certificate_id=certificate.id,
        outcome=outcome.outcome,
        summary=outcome.summary,
        reasons=[r.to_json() for r in outcome.reasons],
        token=token,
    )
    if outcome.outcome is Outcome.NOT_CONFIRMED:
        _propose_suspension(session=session, received=received, outcome=outcome)
    _store_received(session=session, received=received, outcome=outcome)
    _append_result_event(
        session=session,
        state=state,
        received=received,
        outcome=outcome,
        locode=application.city_locode,
    )
    return received, True


def _outcome_taken(*, session: Session, outcome: SpotCheckOutcome) -> ReceivedOutcome | None:
    """The outcome this round already gave the application, if any; 409 if it said otherwise."""
    existing = session.exec(
        select(ReceivedOutcome).where(
            ReceivedOutcome.round_id == outcome.round_id,
            ReceivedOutcome.application_id == outcome.application_id,
        )
    ).first()
    if existing is not None and existing.outcome is not outcome.outcome:
        raise Conflict(
            f"round {outcome.round_id} already gave application {outcome.application_id} the "
            f"outcome {existing.outcome.value}"
        )
    return existing


def _propose_suspension(
    *, session: Session, received: ReceivedOutcome, outcome: SpotCheckOutcome
) -> None:
    """Put a suspension on the committee's agenda, or note on `received` why none is proposed."""
    try:
        proposal = certificates.propose(
            session=session,
            certificate_id=received.certificate_id,
            kind=ProposalKind.SUSPENSION,
            reason=_proposal_reason(outcome),
            actor=SYSTEM,
        )
        received.proposal_id = proposal.id
    except Conflict as exc:  # already suspended, revoked, or a suspension already proposed
        received.note = exc.message[:500]


def _store_received(
    *, session: Session, received: ReceivedOutcome, outcome: SpotCheckOutcome
) -> None:
    session.add(received)
    session.flush()
    record(
        session=session,
        actor=SYSTEM,
        action="spotcheck.outcome_received",
        target_type="certificate",
        target_id=received.certificate_id,
        detail={
            "round": outcome.round_id,
            "outcome": outcome.outcome.value,
            "proposal": received.proposal_id,
        },
    )


def _append_result_event(
    *,
    session: Session,
    state: NodeState,
    received: ReceivedOutcome,
    outcome: SpotCheckOutcome,
    locode: str,
) -> None:
    append_event(
        session=session,
        node_id=state.settings.node_id,
        type=EventType.SPOTCHECK_RESULT,
        subject={
            "locode": locode,
            "application": outcome.application_id,
            "credential": received.certificate_id,
            "round": outcome.round_id,
        },
        data=SpotcheckResult(
            outcome=outcome.outcome.value,
            by=outcome.issuer,
            criteria=tuple(sorted({r.criterion for r in outcome.reasons})),
            suspension_proposed=received.proposal_id is not None,
        ),
        occurred_at=utcnow(),
    )


def _proposal_reason(outcome: SpotCheckOutcome) -> str:
    parts = [
        f"Spot-check round {outcome.round_id} by the global node: not confirmed.",
        outcome.summary,
        *(f"{r.criterion}: {r.text}" for r in outcome.reasons),
    ]
    text = " ".join(part for part in parts if part)
    return text if len(text) <= MAX_PROPOSAL_REASON else text[: MAX_PROPOSAL_REASON - 1] + "…"
