"""Assessment (§25): each reviewer's verdicts on the stage's criteria.

Each reviewer gives each criterion a verdict (met, partly met, not met) with reasons and the
evidence of that criterion it rests on; an assessment can be changed until the reviewer submits
their review, which needs every criterion assessed and freezes it. A reviewer sees the others'
assessments only after submitting their own, so that each review is independent.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, ApplicationState, Evidence
from sdgcities.node.audit.service import record
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.timeutil import utcnow

from .access import assessments_of, assignments_of
from .assignment import own_assignment
from .models import CriterionAssessment, ReviewAssignment
from .schemas import AssessmentUpdate

REVIEW_READERS = frozenset({Role.ADMINISTRATOR, Role.SECRETARIAT})


def check_under_review(application: Application, doing: str) -> None:
    if application.state is ApplicationState.UNDER_REVIEW:
        return
    if application.state is ApplicationState.CLARIFICATION_REQUESTED:
        raise Conflict(
            f"application {application.id} is clarification_requested: {doing} waits until the "
            "city has answered"
        )
    raise Conflict(
        f"application {application.id} is {application.state.value}: {doing} is possible only "
        "while it is under_review"
    )


def _check_not_submitted(assignment: ReviewAssignment) -> None:
    if assignment.submitted_at is not None:
        raise Conflict(
            f"you submitted your review of application {assignment.application_id} at "
            f"{assignment.submitted_at.isoformat(timespec='seconds')}; it is frozen"
        )


def unknown_criterion(application: Application, code: str, codes: Sequence[str]) -> str:
    return (
        f"stage {application.stage} has no criterion {code!r}; its criteria are {', '.join(codes)}"
    )


def _check_evidence(
    *, session: Session, application: Application, code: str, evidence_ids: Sequence[int]
) -> None:
    if not evidence_ids:
        return
    found = {
        evidence.id: evidence
        for evidence in session.exec(
            select(Evidence).where(col(Evidence.id).in_(list(evidence_ids)))
        ).all()
    }
    for evidence_id in evidence_ids:
        evidence = found.get(evidence_id)
        if (
            evidence is None
            or evidence.application_id != application.id
            or evidence.criterion_code != code
        ):
            raise InvalidRequest(
                f"evidence {evidence_id} is not attached to criterion {code} of application "
                f"{application.id}"
            )


def assess_criterion(
    *,
    session: Session,
    application: Application,
    code: str,
    data: AssessmentUpdate,
    actor: Actor,
) -> CriterionAssessment:
    """Record or change the caller's verdict on one criterion, until they submit their review."""
    assignment = own_assignment(session=session, application=application, actor=actor)
    check_under_review(application, "assessing")
    _check_not_submitted(assignment)
    codes = applications.stage_criteria(session=session, application=application)
    if code not in codes:
        raise NotFound(unknown_criterion(application, code, codes))
    _check_evidence(
        session=session, application=application, code=code, evidence_ids=data.evidence_ids
    )
    assessment = session.exec(
        select(CriterionAssessment).where(
            CriterionAssessment.assignment_id == assignment.id,
            CriterionAssessment.criterion_code == code,
        )
    ).first()
    if assessment is None:
        assessment = CriterionAssessment(
            assignment_id=saved_id(assignment.id),
            criterion_code=code,
            verdict=data.verdict,
            reasons=data.reasons,
        )
    assessment.verdict = data.verdict
    assessment.reasons = data.reasons
    assessment.evidence_ids = list(data.evidence_ids)
    assessment.updated_at = utcnow()
    session.add(assessment)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.assess",
        target_type="application",
        target_id=application.id,
        detail={
            "criterion": code,
            "verdict": data.verdict.value,
            "evidence": list(data.evidence_ids),
        },
    )
    return assessment


def visible_assessments(
    *, session: Session, application: Application, actor: Actor
) -> list[CriterionAssessment]:
    """Everything for administrators and the secretariat; a reviewer's own, and the others'
    once the reviewer has submitted theirs."""
    assignments = assignments_of(session=session, application_id=application.id)
    if actor.role is Role.REVIEWER:
        own = next((a for a in assignments if a.reviewer_id == actor.user_id), None)
        if own is None:
            return []
        if own.submitted_at is None:
            assignments = [own]
    elif actor.role not in REVIEW_READERS:
        return []
    return assessments_of(session=session, assignments=assignments)


def submit_review(*, session: Session, application: Application, actor: Actor) -> ReviewAssignment:
    """The caller's review is complete: every criterion assessed. Freezes their assessments."""
    assignment = own_assignment(session=session, application=application, actor=actor)
    check_under_review(application, "submitting a review")
    _check_not_submitted(assignment)
    codes = applications.stage_criteria(session=session, application=application)
    assessed = {a.criterion_code for a in assessments_of(session=session, assignments=[assignment])}
    missing = [code for code in codes if code not in assessed]
    if missing:
        raise InvalidRequest(
            f"assess every criterion of stage {application.stage} before submitting; missing: "
            f"{', '.join(missing)}",
            extra={"missing": missing},
        )
    assignment.submitted_at = utcnow()
    session.add(assignment)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.submit",
        target_type="application",
        target_id=application.id,
        detail={"assignment": assignment.id},
    )
    return assignment
