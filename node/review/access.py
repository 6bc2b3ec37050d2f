"""What the review tells other features: who is assigned to an application, which criteria a
city may change while it answers a clarification, and the review's records (assignments,
assessments, clarifications, consolidation) as the workflows, the reports and the pages read
them.

Kept apart from the workflow modules (it imports only the review's tables), so that
node/applications can ask it without importing the review workflow, which itself builds on
node/applications.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from .models import ClarificationRequest, CriterionAssessment, ReviewAssignment, ReviewConsolidation


def assigned_application_ids(reviewer_id: int | None) -> SelectOfScalar[int]:
    """The ids of the applications assigned to `reviewer_id`, as a subquery."""
    return select(col(ReviewAssignment.application_id)).where(
        ReviewAssignment.reviewer_id == reviewer_id
    )


def is_assigned(*, session: Session, application_id: int | None, reviewer_id: int | None) -> bool:
    if application_id is None or reviewer_id is None:
        return False
    found = session.exec(
        select(ReviewAssignment.id).where(
            ReviewAssignment.application_id == application_id,
            ReviewAssignment.reviewer_id == reviewer_id,
        )
    ).first()
    return found is not None


def open_clarification_criteria(*, session: Session, application_id: int | None) -> set[str]:
    """The criteria named by the clarification requests the city has not answered yet."""
    requests = session.exec(
        select(ClarificationRequest).where(
            ClarificationRequest.application_id == application_id,
            col(ClarificationRequest.answered_at).is_(None),
        )
    ).all()
    return {code for request in requests for code in request.criteria}


def assignments_of(*, session: Session, application_id: int | None) -> list[ReviewAssignment]:
    return list(
        session.exec(
            select(ReviewAssignment)
            .where(ReviewAssignment.application_id == application_id)
            .order_by(col(ReviewAssignment.id))
        ).all()
    )


def assessments_of(
    *, session: Session, assignments: Sequence[ReviewAssignment]
) -> list[CriterionAssessment]:
    ids = [assignment.id for assignment in assignments]
    if not ids:
        return []
    return list(
        session.exec(
            select(CriterionAssessment)
            .where(col(CriterionAssessment.assignment_id).in_(ids))
            .order_by(col(CriterionAssessment.assignment_id), col(CriterionAssessment.id))
        ).all()
    )


def clarifications_of(
    *, session: Session, application_id: int | None
) -> list[ClarificationRequest]:
    return list(
        session.exec(
            select(ClarificationRequest)
            .where(ClarificationRequest.application_id == application_id)
            .order_by(col(ClarificationRequest.id))
        ).all()
    )


def consolidation_of(*, session: Session, application_id: int | None) -> ReviewConsolidation | None:
    return session.exec(
        select(ReviewConsolidation).where(ReviewConsolidation.application_id == application_id)
    ).first()
