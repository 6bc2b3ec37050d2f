"""The technical review: conflicts of interest, reviewer assignment, assessments,
clarifications and the lead reviewer's consolidation (see the workflow modules for the rules).

Administrators assign reviewers; reviewers act on the applications assigned to them only (any
other answers 404, as for a city applicant and another city's application); the city answers
the reviewers' questions. Refusals: 409 when the application or the review is not in a state
that allows it (with the state in the message), 422 when the request names the wrong reviewers,
criteria or evidence, 403 when a reviewer who is not the lead consolidates.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlmodel import Session

from sdgcities.node.accounts.models import Role, User
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application
from sdgcities.node.cities.schemas import Locode
from sdgcities.node.db import saved_id
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.reports.schemas import StageReportPublic
from sdgcities.node.reports.service import conclude_review, report_public
from sdgcities.node.schemas import Id, Limit, Offset

from . import assessment, assignment, clarification, conflicts
from .access import assignments_of, clarifications_of, consolidation_of
from .models import ClarificationRequest, CriterionAssessment, ReviewAssignment, ReviewConsolidation
from .schemas import (
    AssessmentPublic,
    AssessmentUpdate,
    AssignmentCreate,
    AssignmentPublic,
    AssignmentsPublic,
    CandidatePublic,
    CandidatesPublic,
    ClarificationCreate,
    ClarificationPublic,
    ClarificationResponse,
    ClarificationsPublic,
    ConflictCreate,
    ConflictPublic,
    ConflictsPublic,
    ConsolidatedVerdictPublic,
    ConsolidationCreate,
    ConsolidationPublic,
    ReviewDetail,
    ReviewerReplace,
)

router = APIRouter(tags=["review"])

Admin = Annotated[Actor, access(Role.ADMINISTRATOR)]
Reviewer = Annotated[Actor, access(Role.REVIEWER)]
StaffReader = Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT)]
ConflictDeclarer = Annotated[Actor, access(Role.ADMINISTRATOR, Role.REVIEWER)]
ReviewReader = Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT, Role.REVIEWER)]
ClarificationReader = Annotated[
    Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT, Role.REVIEWER, Role.CITY_APPLICANT)
]
CityWriter = Annotated[Actor, access(Role.ADMINISTRATOR, Role.CITY_APPLICANT)]
Code = Annotated[str, Path(max_length=32)]


def _assignment_public(session: Session, assignment: ReviewAssignment) -> AssignmentPublic:
    reviewer = session.get(User, assignment.reviewer_id)
    assert reviewer is not None
    return AssignmentPublic(
        id=saved_id(assignment.id),
        application_id=assignment.application_id,
        reviewer_id=assignment.reviewer_id,
        reviewer_name=reviewer.name,
        lead=assignment.lead,
        assigned_at=assignment.assigned_at,
        submitted_at=assignment.submitted_at,
    )


def _assessment_public(
    assessment: CriterionAssessment, assignments: dict[int | None, ReviewAssignment]
) -> AssessmentPublic:
    return AssessmentPublic(
        assignment_id=assessment.assignment_id,
        reviewer_id=assignments[assessment.assignment_id].reviewer_id,
        criterion_code=assessment.criterion_code,
        verdict=assessment.verdict,
        reasons=assessment.reasons,
        evidence_ids=assessment.evidence_ids,
        updated_at=assessment.updated_at,
    )


def _consolidation_public(consolidation: ReviewConsolidation) -> ConsolidationPublic:
    return ConsolidationPublic(
        application_id=consolidation.application_id,
        recommendation=consolidation.recommendation,
        summary=consolidation.summary,
        verdicts=[ConsolidatedVerdictPublic.model_validate(v) for v in consolidation.verdicts],
        consolidated_at=consolidation.consolidated_at,
    )


def _clarification_public(request: ClarificationRequest) -> ClarificationPublic:
    return ClarificationPublic.model_validate(request)


def _detail(
    session: Session, state: StateDep, application: Application, actor: Actor
) -> ReviewDetail:
    assignments = assignments_of(session=session, application_id=application.id)
    by_id = {assignment.id: assignment for assignment in assignments}
    consolidation = consolidation_of(session=session, application_id=application.id)
    return ReviewDetail(
        application_id=saved_id(application.id),
        state=application.state,
        reviewers_required=state.settings.reviewers_per_application,
        assignments=[_assignment_public(session, a) for a in assignments],
        assessments=[
            _assessment_public(visible, by_id)
            for visible in assessment.visible_assessments(
                session=session, application=application, actor=actor
            )
        ],
        clarifications=[
            _clarification_public(request)
            for request in clarifications_of(session=session, application_id=application.id)
        ],
        consolidation=_consolidation_public(consolidation) if consolidation else None,
    )


def _application(
    session: Session, actor: Actor, application_id: int, *, for_update: bool = False
) -> Application:
    return applications.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=for_update
    )


# Conflicts of interest --------------------------------------------------------------------------


@router.post("/review/conflicts", status_code=status.HTTP_201_CREATED)
def declare_conflict(
    session: SessionDep, actor: ConflictDeclarer, body: ConflictCreate
) -> ConflictPublic:
    """Declare a conflict of interest with a city: the reviewer is never assigned to review
    it. A reviewer declares their own; an administrator names the reviewer."""
    conflict = conflicts.declare_conflict(session=session, data=body, actor=actor)
    return ConflictPublic.model_validate(conflict)


@router.get("/review/conflicts")
def list_conflicts(
    session: ReadSessionDep,
    actor: ReviewReader,
    reviewer_id: Id | None = None,
    city_locode: Annotated[Locode | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> ConflictsPublic:
    """Declared conflicts, newest first (a reviewer's: their own only)."""
    declared, count = conflicts.list_conflicts(
        session=session,
        actor=actor,
        offset=offset,
        limit=limit,
        reviewer_id=reviewer_id,
        city_locode=city_locode,
    )
    return ConflictsPublic(data=[ConflictPublic.model_validate(c) for c in declared], count=count)


# Assignment -------------------------------------------------------------------------------------


@router.get("/review/assignments")
def list_assignments(
    session: ReadSessionDep,
    actor: ReviewReader,
    reviewer_id: Id | None = None,
    pending: Annotated[
        bool | None, Query(description="true: not submitted yet; false: submitted")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> AssignmentsPublic:
    """Review assignments, newest first (a reviewer's: their own, their work queue)."""
    found, count = assignment.list_assignments(
        session=session,
        actor=actor,
        offset=offset,
        limit=limit,
        reviewer_id=reviewer_id,
        pending=pending,
    )
    return AssignmentsPublic(data=[_assignment_public(session, a) for a in found], count=count)


@router.post("/applications/{application_id}/reviewers", status_code=status.HTTP_201_CREATED)
def assign_reviewers(
    session: SessionDep,
    state: StateDep,
    actor: Admin,
    application_id: Id,
    body: AssignmentCreate,
) -> ReviewDetail:
    """Assign the reviewers of a submitted application (at least
    `SDGCITIES_REVIEWERS_PER_APPLICATION`, one of them the lead); it goes under review."""
    application = _application(session, actor, application_id, for_update=True)
    assignment.assign_reviewers(
        session=session,
        application=application,
        reviewer_ids=body.reviewer_ids,
        lead_id=body.lead_id,
        required=state.settings.reviewers_per_application,
        actor=actor,
        settings=state.settings,
    )
    return _detail(session, state, application, actor)


@router.get("/applications/{application_id}/reviewers/candidates")
def reviewer_candidates(
    session: ReadSessionDep, state: StateDep, actor: StaffReader, application_id: Id
) -> CandidatesPublic:
    """The reviewers who may be assigned (or put in another's place): active, not bound to
    the city, without a conflict with it, not assigned yet, and on the global node in the
    technical team of the application's language; those who share a language with the city
    first, then the least busy."""
    application = _application(session, actor, application_id)
    team = assignment.team_of(application=application, node_id=state.settings.node_id)
    found = assignment.candidates_for(session=session, application=application, team=team)
    return CandidatesPublic(
        team=team,
        data=[
            CandidatePublic(
                id=saved_id(c.reviewer.id),
                name=c.reviewer.name,
                languages=c.reviewer.languages,
                teams=c.teams,
                shares_language=c.shares_language,
                open_reviews=c.open_reviews,
            )
            for c in found
        ],
        count=len(found),
    )


@router.post("/applications/{application_id}/reviewers/{reviewer_id}/replace")
def replace_reviewer(
    session: SessionDep,
    state: StateDep,
    actor: Admin,
    application_id: Id,
    reviewer_id: Id,
    body: ReviewerReplace,
) -> ReviewDetail:
    """Put another reviewer in one's place during the review; the replaced reviewer's
    assessments are dropped and the lead role passes to the replacement."""
    application = _application(session, actor, application_id, for_update=True)
    assignment.replace_reviewer(
        session=session,
        application=application,
        reviewer_id=reviewer_id,
        replacement_id=body.replacement_id,
        actor=actor,
        settings=state.settings,
    )
    return _detail(session, state, application, actor)


@router.get("/applications/{application_id}/review")
def get_review(
    session: ReadSessionDep, state: StateDep, actor: ReviewReader, application_id: Id
) -> ReviewDetail:
    """The review of an application: reviewers, assessments, clarifications, consolidation."""
    application = _application(session, actor, application_id)
    return _detail(session, state, application, actor)


# Assessment -------------------------------------------------------------------------------------


@router.put("/applications/{application_id}/review/assessments/{code}")
def assess_criterion(
    session: SessionDep, actor: Reviewer, application_id: Id, code: Code, body: AssessmentUpdate
) -> AssessmentPublic:
    """Your verdict on a criterion, with reasons and the evidence of that criterion it rests
    on; replaces your previous one until you submit your review."""
    application = _application(session, actor, application_id, for_update=True)
    assessed = assessment.assess_criterion(
        session=session, application=application, code=code, data=body, actor=actor
    )
    assignments = {a.id: a for a in assignments_of(session=session, application_id=application.id)}
    return _assessment_public(assessed, assignments)


@router.post("/applications/{application_id}/review/submit")
def submit_review(
    session: SessionDep, state: StateDep, actor: Reviewer, application_id: Id
) -> ReviewDetail:
    """Submit your review: every criterion assessed. Your assessments are frozen after it."""
    application = _application(session, actor, application_id, for_update=True)
    assessment.submit_review(session=session, application=application, actor=actor)
    return _detail(session, state, application, actor)


# Clarification ----------------------------------------------------------------------------------


@router.post("/applications/{application_id}/clarifications", status_code=status.HTTP_201_CREATED)
def request_clarification(
    session: SessionDep,
    state: StateDep,
    actor: Reviewer,
    application_id: Id,
    body: ClarificationCreate,
) -> ClarificationPublic:
    """Ask the city about some criteria: the application goes back to the city, which may
    change those criteria's answers and add evidence to them until it responds."""
    application = _application(session, actor, application_id, for_update=True)
    request = clarification.request_clarification(
        session=session, application=application, data=body, actor=actor, settings=state.settings
    )
    return _clarification_public(request)


@router.get("/applications/{application_id}/clarifications")
def list_clarifications(
    session: ReadSessionDep, actor: ClarificationReader, application_id: Id
) -> ClarificationsPublic:
    """The reviewers' questions and the city's answers, oldest first."""
    application = _application(session, actor, application_id)
    requests = clarifications_of(session=session, application_id=application.id)
    return ClarificationsPublic(
        data=[_clarification_public(r) for r in requests], count=len(requests)
    )


@router.post("/applications/{application_id}/clarifications/respond")
def respond_to_clarifications(
    session: SessionDep,
    state: StateDep,
    actor: CityWriter,
    application_id: Id,
    body: ClarificationResponse,
) -> ClarificationsPublic:
    """Answer every open question at once; the application returns to the reviewers."""
    application = _application(session, actor, application_id, for_update=True)
    clarification.respond_to_clarifications(
        session=session, application=application, data=body, actor=actor, settings=state.settings
    )
    requests = clarifications_of(session=session, application_id=application.id)
    return ClarificationsPublic(
        data=[_clarification_public(r) for r in requests], count=len(requests)
    )


# Consolidation ----------------------------------------------------------------------------------


@router.post("/applications/{application_id}/review/consolidate")
def consolidate_review(
    session: SessionDep,
    state: StateDep,
    actor: Reviewer,
    application_id: Id,
    body: ConsolidationCreate,
) -> StageReportPublic:
    """The lead reviewer's consolidated verdicts and recommendation, once every reviewer has
    submitted; generates the stage report. `recommended` needs every criterion met."""
    application = _application(session, actor, application_id, for_update=True)
    _, report = conclude_review(
        session=session, settings=state.settings, application=application, data=body, actor=actor
    )
    return report_public(session=session, report=report)
