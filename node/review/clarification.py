"""Clarification (§25): a reviewer asks the city about some criteria.

A reviewer who has not submitted may ask the city about some criteria; the application goes
back to the city, which may change the answers of those criteria and add evidence to them
(`access.open_clarification_criteria`), then answers every open question at once, and the
review resumes.
"""

from __future__ import annotations

from sqlmodel import Session

from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.config import Settings
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict, InvalidRequest
from sdgcities.node.notifications import service as notices
from sdgcities.node.timeutil import utcnow

from .access import clarifications_of
from .assessment import unknown_criterion
from .assignment import own_assignment
from .models import ClarificationRequest
from .schemas import ClarificationCreate, ClarificationResponse


def request_clarification(
    *,
    session: Session,
    application: Application,
    data: ClarificationCreate,
    actor: Actor,
    settings: Settings,
) -> ClarificationRequest:
    """Ask the city about some criteria; the application goes back to the city, which is told."""
    assignment = own_assignment(session=session, application=application, actor=actor)
    if application.state not in (
        ApplicationState.UNDER_REVIEW,
        ApplicationState.CLARIFICATION_REQUESTED,
    ):
        raise Conflict(
            f"application {application.id} is {application.state.value}: clarifications are "
            "asked during the review"
        )
    if assignment.submitted_at is not None:
        raise Conflict(
            f"you submitted your review of application {application.id}: only reviewers still "
            "assessing ask for clarification"
        )
    codes = applications.stage_criteria(session=session, application=application)
    for code in data.criteria:
        if code not in codes:
            raise InvalidRequest(unknown_criterion(application, code, codes))
    request = ClarificationRequest(
        application_id=saved_id(application.id),
        criteria=list(data.criteria),
        question=data.question,
        asked_by=actor.user_id,
    )
    session.add(request)
    previous = application.state
    application.state = ApplicationState.CLARIFICATION_REQUESTED
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.clarification.request",
        target_type="application",
        target_id=application.id,
        detail={"request": request.id, "criteria": list(data.criteria), "from": previous.value},
    )
    notices.notify_clarification_asked(
        session=session, settings=settings, application=application, request=request
    )
    return request


def respond_to_clarifications(
    *,
    session: Session,
    application: Application,
    data: ClarificationResponse,
    actor: Actor,
    settings: Settings,
) -> list[ClarificationRequest]:
    """The city answers every open question at once, and the review resumes; the reviewers
    are told."""
    if application.state is not ApplicationState.CLARIFICATION_REQUESTED:
        raise Conflict(
            f"application {application.id} is {application.state.value}: there is no "
            "clarification request to answer"
        )
    open_requests = {
        request.id: request
        for request in clarifications_of(session=session, application_id=application.id)
        if request.answered_at is None
    }
    for answer in data.answers:
        if answer.request_id not in open_requests:
            raise InvalidRequest(
                f"request {answer.request_id} is not an open clarification request of "
                f"application {application.id}"
            )
    answered = {answer.request_id for answer in data.answers}
    unanswered = [str(request_id) for request_id in open_requests if request_id not in answered]
    if unanswered:
        raise InvalidRequest(
            f"answer every open clarification request at once; unanswered: {', '.join(unanswered)}"
        )
    now = utcnow()
    for answer in data.answers:
        request = open_requests[answer.request_id]
        request.answer = answer.answer
        request.answered_by = actor.user_id
        request.answered_at = now
        session.add(request)
    application.state = ApplicationState.UNDER_REVIEW
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.clarification.respond",
        target_type="application",
        target_id=application.id,
        detail={"requests": sorted(answered)},
    )
    notices.notify_clarification_answered(
        session=session, settings=settings, application=application
    )
    return list(open_requests.values())
