"""Where an application stands, for the city: its steps so far and what is expected next.

Read from the same records the API serves (the application, its review assignments,
clarification requests and consolidation, and the committee's decision); the words are
messages marked here and translated in the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel import Session

from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.committee.decisions import decision_on
from sdgcities.node.committee.models import ItemOutcome
from sdgcities.node.review.access import assignments_of, clarifications_of, consolidation_of
from sdgcities.node.review.models import Recommendation

from ..i18n import N_

STATE_NAMES: Final = {
    ApplicationState.DRAFT: N_("Draft"),
    ApplicationState.SUBMITTED: N_("Submitted"),
    ApplicationState.UNDER_REVIEW: N_("In review"),
    ApplicationState.CLARIFICATION_REQUESTED: N_("Clarification asked"),
    ApplicationState.RECOMMENDED: N_("Recommended"),
    ApplicationState.NOT_RECOMMENDED: N_("Not recommended"),
    ApplicationState.AWARDED: N_("Certified"),
    ApplicationState.DECLINED: N_("Declined"),
    ApplicationState.WITHDRAWN: N_("Withdrawn"),
}
CERTIFICATE_STATUS_NAMES: Final = {
    "active": N_("Valid"),
    "suspended": N_("Suspended"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
}
NEXT_STEPS: Final = {
    ApplicationState.DRAFT: N_(
        "Answer every criterion, add your evidence, then submit the self-assessment for review."
    ),
    ApplicationState.SUBMITTED: N_(
        "Nothing for now: reviewers are being assigned to your application."
    ),
    ApplicationState.UNDER_REVIEW: N_(
        "Nothing for now: the technical team is reviewing your application. It may ask you "
        "questions."
    ),
    ApplicationState.CLARIFICATION_REQUESTED: N_(
        "The reviewers have asked you questions: answer them so that the review can go on."
    ),
    ApplicationState.RECOMMENDED: N_(
        "Nothing for now: the technical team recommended your city, and the committee decides "
        "at its next meeting."
    ),
    ApplicationState.NOT_RECOMMENDED: N_(
        "Read the stage report: it lists the gaps and the tools that help close them. You may "
        "apply again."
    ),
    ApplicationState.AWARDED: N_("Your city is certified for this stage."),
    ApplicationState.DECLINED: N_(
        "The committee declined the certificate. Read the stage report; you may apply again."
    ),
    ApplicationState.WITHDRAWN: N_("This application was withdrawn. You may start a new one."),
}


@dataclass(frozen=True)
class Step:
    label: str  # a message, translated by the template
    at: datetime | None  # None: still to come
    current: bool = False


def timeline(*, session: Session, application: Application) -> list[Step]:
    """The application's steps so far, oldest first, then the steps still to come."""
    done: list[Step] = [Step(N_("Started"), application.created_at)]
    if application.submitted_at is not None:
        done.append(Step(N_("Submitted"), application.submitted_at))
    assignments = assignments_of(session=session, application_id=application.id)
    if assignments:
        done.append(Step(N_("In review"), min(a.assigned_at for a in assignments)))
    for request in clarifications_of(session=session, application_id=application.id):
        done.append(Step(N_("Clarification asked"), request.asked_at))
        if request.answered_at is not None:
            done.append(Step(N_("Clarification answered"), request.answered_at))
    consolidation = consolidation_of(session=session, application_id=application.id)
    if consolidation is not None:
        recommended = consolidation.recommendation is Recommendation.RECOMMENDED
        label = N_("Recommended") if recommended else N_("Not recommended")
        done.append(Step(label, consolidation.consolidated_at))
    item = decision_on(session=session, application=application)
    if item is not None and item.decided_at is not None:
        approved = item.outcome is ItemOutcome.APPROVED
        done.append(Step(N_("Certified") if approved else N_("Declined"), item.decided_at))
    if application.withdrawn_at is not None:
        done.append(Step(N_("Withdrawn"), application.withdrawn_at))
    done.sort(key=lambda step: step.at or application.created_at)
    done[-1] = Step(done[-1].label, done[-1].at, current=True)
    return done + [Step(label, None) for label in _still_to_come(application.state)]


def _still_to_come(state: ApplicationState) -> list[str]:
    if state is ApplicationState.DRAFT:
        return [N_("Submitted"), N_("In review"), N_("Review completed"), N_("Decided")]
    if state is ApplicationState.SUBMITTED:
        return [N_("In review"), N_("Review completed"), N_("Decided")]
    if state in (ApplicationState.UNDER_REVIEW, ApplicationState.CLARIFICATION_REQUESTED):
        return [N_("Review completed"), N_("Decided")]
    if state is ApplicationState.RECOMMENDED:
        return [N_("Decided")]
    return []
