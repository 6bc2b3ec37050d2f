"""The technical review (§25, §26): assignment, assessment, clarification, consolidation.

    submitted ──assign──▶ under_review ──consolidate (lead)──▶ recommended | not_recommended
                            │     ▲
              ask (reviewer)│     │respond (city)
                            ▼     │
                    clarification_requested

Assignment: an administrator assigns at least `Settings.reviewers_per_application` distinct
reviewers at once, exactly one of them the lead. A reviewer is refused when their account is
not a reviewer's, is deactivated, is bound to the applicant city, or when they declared a
conflict of interest with that city, and on the global node when they are not in the technical
team of the application's UN language (`team_of`, §26b). A reviewer sees only the applications
assigned to them (node/applications asks `access.is_assigned`). During the review an
administrator may replace a reviewer (the same rules hold for the replacement); a reviewer who
declares a conflict with the city after being assigned can do nothing more on it until replaced.

Assessment: each reviewer gives each criterion a verdict (met, partly met, not met) with reasons
and the evidence of that criterion it rests on; an assessment can be changed until the reviewer
submits their review, which needs every criterion assessed and freezes it. A reviewer sees the
others' assessments only after submitting their own, so that each review is independent.

Clarification: a reviewer who has not submitted may ask the city about some criteria; the
application goes back to the city, which may change the answers of those criteria and add
evidence to them, then answers every open question at once, and the review resumes.

Consolidation: only the lead, only once every reviewer has submitted. For each criterion the
lead may give a verdict with reasons; a criterion the lead leaves out takes the most cautious of
the reviewers' verdicts (not met, then partly met, then met): the consolidated result never
claims more than any reviewer found. A recommendation needs every criterion met: partly met is
a gap, as not met is. The consolidation appends `review.completed` to the event log; the stage
report follows in the same transaction (`node.reports.service.conclude_review`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from sdgcities.federation import EventType
from sdgcities.node.accounts.models import Role, User
from sdgcities.node.accounts.teams import UN_LANGUAGES, primary_subtag, teams_of
from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, ApplicationState, Evidence
from sdgcities.node.audit.service import record
from sdgcities.node.cities.service import get_city_or_raise
from sdgcities.node.config import GLOBAL_NODE_ID, Settings
from sdgcities.node.db import page_of, saved_id
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.notifications import service as notices
from sdgcities.node.timeutil import utcnow

from .models import (
    ClarificationRequest,
    CriterionAssessment,
    Recommendation,
    ReviewAssignment,
    ReviewConsolidation,
    ReviewerConflict,
    Verdict,
)
from .schemas import (
    AssessmentUpdate,
    ClarificationCreate,
    ClarificationResponse,
    ConflictCreate,
    ConsolidationCreate,
)

# Most cautious first: the default consolidated verdict is the first of these any reviewer gave.
CAUTION_ORDER = (Verdict.NOT_MET, Verdict.PARTLY_MET, Verdict.MET)
REVIEW_READERS = frozenset({Role.ADMINISTRATOR, Role.SECRETARIAT})
OPEN_REVIEW_STATES = (ApplicationState.UNDER_REVIEW, ApplicationState.CLARIFICATION_REQUESTED)


# Conflicts of interest --------------------------------------------------------------------------


def declare_conflict(*, session: Session, data: ConflictCreate, actor: Actor) -> ReviewerConflict:
    """A reviewer declares their own conflict; an administrator declares one for a reviewer."""
    if actor.role is Role.REVIEWER:
        if data.reviewer_id is not None and data.reviewer_id != actor.user_id:
            raise Forbidden("a reviewer declares their own conflicts of interest only")
        reviewer_id = saved_id(actor.user_id)
    else:
        if data.reviewer_id is None:
            raise InvalidRequest("reviewer_id is required: name the reviewer the conflict is for")
        reviewer = session.get(User, data.reviewer_id)
        if reviewer is None or reviewer.role is not Role.REVIEWER:
            raise InvalidRequest(f"user {data.reviewer_id} is not a reviewer")
        reviewer_id = data.reviewer_id
    get_city_or_raise(session=session, locode=data.city_locode, actor=actor)
    existing = _conflict(session=session, reviewer_id=reviewer_id, locode=data.city_locode)
    if existing is not None:
        raise Conflict(
            f"reviewer {reviewer_id} already declared a conflict of interest with city "
            f"{data.city_locode} on {existing.declared_at.date().isoformat()}"
        )
    conflict = ReviewerConflict(
        reviewer_id=reviewer_id,
        city_locode=data.city_locode,
        reason=data.reason,
        declared_by=actor.user_id,
    )
    session.add(conflict)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.conflict.declare",
        target_type="user",
        target_id=reviewer_id,
        detail={"city": data.city_locode, "conflict": conflict.id},
    )
    return conflict


def _conflict(*, session: Session, reviewer_id: int, locode: str) -> ReviewerConflict | None:
    return session.exec(
        select(ReviewerConflict).where(
            ReviewerConflict.reviewer_id == reviewer_id, ReviewerConflict.city_locode == locode
        )
    ).first()


def list_conflicts(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    reviewer_id: int | None = None,
    city_locode: str | None = None,
) -> tuple[list[ReviewerConflict], int]:
    """A reviewer's own conflicts; administrators and the secretariat see everyone's."""
    conditions = []
    if actor.role is Role.REVIEWER:
        conditions.append(col(ReviewerConflict.reviewer_id) == actor.user_id)
    if reviewer_id is not None:
        conditions.append(col(ReviewerConflict.reviewer_id) == reviewer_id)
    if city_locode is not None:
        conditions.append(col(ReviewerConflict.city_locode) == city_locode)
    return page_of(
        session,
        ReviewerConflict,
        conditions=conditions,
        order_by=[col(ReviewerConflict.id).desc()],
        offset=offset,
        limit=limit,
    )


# Assignment -------------------------------------------------------------------------------------


def team_of(*, application: Application, node_id: str) -> str | None:
    """The technical team an application is routed to: on the global node, its UN language's
    (§26b); on a national node none, since a language is advice there."""
    if node_id != GLOBAL_NODE_ID:
        return None
    if application.language is None:
        raise Conflict(
            f"application {application.id} has no language, so no technical team: route it "
            f"first (PUT /applications/{application.id}/language, one of "
            f"{', '.join(UN_LANGUAGES)})"
        )
    return application.language


def _check_reviewer(
    *, session: Session, application: Application, user_id: int, team: str | None = None
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise InvalidRequest(f"user {user_id} does not exist")
    if user.role is not Role.REVIEWER:
        raise InvalidRequest(f"user {user_id} is a {user.role.value}, not a reviewer")
    if not user.active:
        raise Conflict(f"reviewer {user_id}'s account is deactivated")
    locode = application.city_locode
    if user.city_locode == locode:
        raise Conflict(
            f"reviewer {user_id}'s account is bound to city {locode}, the applicant: a city is "
            "not reviewed by its own people"
        )
    conflict = _conflict(session=session, reviewer_id=user_id, locode=locode)
    if conflict is not None:
        raise Conflict(
            f"reviewer {user_id} declared a conflict of interest with city {locode} on "
            f"{conflict.declared_at.date().isoformat()}"
        )
    if team is not None and team not in teams_of(user.languages):
        raise Conflict(
            f"application {application.id} is routed to the {team} technical team, and reviewer "
            f"{user_id} is not in it (teams: {', '.join(teams_of(user.languages)) or 'none'}); "
            "a reviewer's teams are the UN languages among their account's languages"
        )
    return user


def assign_reviewers(
    *,
    session: Session,
    application: Application,
    reviewer_ids: Sequence[int],
    lead_id: int,
    required: int,
    actor: Actor,
    settings: Settings,
) -> list[ReviewAssignment]:
    """Assign the reviewers of a submitted application (`application` locked by the caller);
    on the global node, every one of them from its language's team. Each is told."""
    if application.state is not ApplicationState.SUBMITTED:
        raise Conflict(
            f"application {application.id} is {application.state.value}; reviewers are assigned "
            "once, to a submitted application"
        )
    team = team_of(application=application, node_id=settings.node_id)
    distinct = list(dict.fromkeys(reviewer_ids))
    if len(distinct) < required:
        raise InvalidRequest(
            f"at least {required} distinct reviewers are needed; {len(distinct)} given"
        )
    if lead_id not in distinct:
        raise InvalidRequest(f"the lead, user {lead_id}, is not among the reviewers")
    for user_id in distinct:
        _check_reviewer(session=session, application=application, user_id=user_id, team=team)
    assignments = [
        ReviewAssignment(
            application_id=saved_id(application.id),
            reviewer_id=user_id,
            lead=user_id == lead_id,
            assigned_by=actor.user_id,
        )
        for user_id in distinct
    ]
    session.add_all(assignments)
    application.state = ApplicationState.UNDER_REVIEW
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.assign",
        target_type="application",
        target_id=application.id,
        detail={"reviewers": distinct, "lead": lead_id} | ({"team": team} if team else {}),
    )
    notices.notify_review_assigned(
        session=session, settings=settings, application=application, reviewer_ids=distinct
    )
    return assignments


@dataclass(frozen=True, slots=True)
class Candidate:
    reviewer: User
    shares_language: bool
    open_reviews: int

    @property
    def teams(self) -> list[str]:
        return teams_of(self.reviewer.languages)


def candidates_for(
    *, session: Session, application: Application, team: str | None = None
) -> list[Candidate]:
    """The reviewers who may be assigned to `application`: active, not bound to the city, with
    no conflict declared with it, not assigned already, and in `team` when the application is
    routed to one (the global node, §26b). Those who share a language with the city come
    first, then the least busy."""
    locode = application.city_locode
    conflicted = select(ReviewerConflict.reviewer_id).where(ReviewerConflict.city_locode == locode)
    assigned = select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application.id
    )
    reviewers = session.exec(
        select(User).where(
            User.role == Role.REVIEWER,
            col(User.active).is_(True),
            or_(col(User.city_locode).is_(None), col(User.city_locode) != locode),
            col(User.id).not_in(conflicted),
            col(User.id).not_in(assigned),
        )
    ).all()
    busy = dict(
        session.exec(
            select(ReviewAssignment.reviewer_id, func.count())
            .join(Application, col(Application.id) == ReviewAssignment.application_id)
            .where(
                col(ReviewAssignment.submitted_at).is_(None),
                col(Application.state).in_(OPEN_REVIEW_STATES),
            )
            .group_by(col(ReviewAssignment.reviewer_id))
        ).all()
    )
    city = get_city_or_raise(session=session, locode=locode, actor=SYSTEM)
    city_languages = {primary_subtag(language) for language in city.languages}
    found = [
        Candidate(
            reviewer=reviewer,
            shares_language=bool(
                city_languages & {primary_subtag(lang) for lang in reviewer.languages}
            ),
            open_reviews=busy.get(saved_id(reviewer.id), 0),
        )
        for reviewer in reviewers
        if team is None or team in teams_of(reviewer.languages)
    ]
    found.sort(key=lambda c: (not c.shares_language, c.open_reviews, saved_id(c.reviewer.id)))
    return found


def assignments_of(*, session: Session, application_id: int | None) -> list[ReviewAssignment]:
    return list(
        session.exec(
            select(ReviewAssignment)
            .where(ReviewAssignment.application_id == application_id)
            .order_by(col(ReviewAssignment.id))
        ).all()
    )


def list_assignments(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    reviewer_id: int | None = None,
    pending: bool | None = None,
) -> tuple[list[ReviewAssignment], int]:
    """A reviewer's own assignments (their queue); administrators and the secretariat see all."""
    conditions = []
    if actor.role is Role.REVIEWER:
        conditions.append(col(ReviewAssignment.reviewer_id) == actor.user_id)
    if reviewer_id is not None:
        conditions.append(col(ReviewAssignment.reviewer_id) == reviewer_id)
    if pending is not None:
        submitted = col(ReviewAssignment.submitted_at)
        conditions.append(submitted.is_(None) if pending else submitted.is_not(None))
    return page_of(
        session,
        ReviewAssignment,
        conditions=conditions,
        order_by=[col(ReviewAssignment.id).desc()],
        offset=offset,
        limit=limit,
    )


def own_assignment(*, session: Session, application: Application, actor: Actor) -> ReviewAssignment:
    """The caller's assignment to `application` (locked: their review is about to change)."""
    assignment = session.exec(
        select(ReviewAssignment)
        .where(
            ReviewAssignment.application_id == application.id,
            ReviewAssignment.reviewer_id == actor.user_id,
        )
        .with_for_update()
    ).first()
    if assignment is None:
        # Only a reviewer's visibility check lets a caller this far, and it needs the row.
        raise NotFound(f"no application {application.id}")
    # A conflict declared after the assignment stops the review until the reviewer is replaced.
    conflict = _conflict(
        session=session, reviewer_id=assignment.reviewer_id, locode=application.city_locode
    )
    if conflict is not None:
        raise Conflict(
            f"you declared a conflict of interest with city {application.city_locode}: an "
            f"administrator replaces you on application {application.id}"
        )
    return assignment


def replace_reviewer(
    *,
    session: Session,
    application: Application,
    reviewer_id: int,
    replacement_id: int,
    actor: Actor,
    settings: Settings,
) -> ReviewAssignment:
    """Put another reviewer in one's place during the review (a conflict declared late, a
    reviewer who cannot go on). The replaced reviewer's assessments go with them: the review
    counts only the assigned reviewers' work. The lead's role passes to the replacement."""
    if application.state not in (
        ApplicationState.UNDER_REVIEW,
        ApplicationState.CLARIFICATION_REQUESTED,
    ):
        raise Conflict(
            f"application {application.id} is {application.state.value}; reviewers are "
            "replaced only during the review"
        )
    assignments = {
        a.reviewer_id: a for a in assignments_of(session=session, application_id=application.id)
    }
    replaced = assignments.get(reviewer_id)
    if replaced is None:
        raise NotFound(f"reviewer {reviewer_id} is not assigned to application {application.id}")
    if replacement_id in assignments:
        raise Conflict(
            f"reviewer {replacement_id} is already assigned to application {application.id}"
        )
    _check_reviewer(
        session=session,
        application=application,
        user_id=replacement_id,
        team=team_of(application=application, node_id=settings.node_id),
    )
    dropped = assessments_of(session=session, assignments=[replaced])
    for assessment in dropped:
        session.delete(assessment)
    session.delete(replaced)
    session.flush()
    replacement = ReviewAssignment(
        application_id=saved_id(application.id),
        reviewer_id=replacement_id,
        lead=replaced.lead,
        assigned_by=actor.user_id,
    )
    session.add(replacement)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.replace",
        target_type="application",
        target_id=application.id,
        detail={
            "replaced": reviewer_id,
            "replacement": replacement_id,
            "lead": replaced.lead,
            "had_submitted": replaced.submitted_at is not None,
            "assessments_dropped": len(dropped),
        },
    )
    notices.notify_review_assigned(
        session=session, settings=settings, application=application, reviewer_ids=[replacement_id]
    )
    return replacement


# Assessment -------------------------------------------------------------------------------------


def _check_under_review(application: Application, doing: str) -> None:
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


def _stage_codes(*, session: Session, application: Application) -> tuple[str, ...]:
    return applications.stage_criteria(session=session, application=application)


def _unknown_criterion(application: Application, code: str, codes: Sequence[str]) -> str:
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
    _check_under_review(application, "assessing")
    _check_not_submitted(assignment)
    codes = _stage_codes(session=session, application=application)
    if code not in codes:
        raise NotFound(_unknown_criterion(application, code, codes))
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
    _check_under_review(application, "submitting a review")
    _check_not_submitted(assignment)
    codes = _stage_codes(session=session, application=application)
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


# Clarification ----------------------------------------------------------------------------------


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
    codes = _stage_codes(session=session, application=application)
    for code in data.criteria:
        if code not in codes:
            raise InvalidRequest(_unknown_criterion(application, code, codes))
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


# Consolidation ----------------------------------------------------------------------------------


def most_cautious(verdicts: Sequence[Verdict]) -> Verdict:
    return next(verdict for verdict in CAUTION_ORDER if verdict in verdicts)


def consolidation_of(*, session: Session, application_id: int | None) -> ReviewConsolidation | None:
    return session.exec(
        select(ReviewConsolidation).where(ReviewConsolidation.application_id == application_id)
    ).first()


def consolidate(
    *,
    session: Session,
    node_id: str,
    application: Application,
    data: ConsolidationCreate,
    actor: Actor,
) -> ReviewConsolidation:
    """The lead's consolidated verdicts and recommendation; ends the review. Call it through
    `node.reports.service.conclude_review`, which adds the stage report in the same
    transaction."""
    assignment = own_assignment(session=session, application=application, actor=actor)
    _check_under_review(application, "consolidating the review")
    if not assignment.lead:
        raise Forbidden(f"only the lead reviewer of application {application.id} consolidates it")
    assignments = assignments_of(session=session, application_id=application.id)
    waiting = [str(a.reviewer_id) for a in assignments if a.submitted_at is None]
    if waiting:
        raise Conflict(
            f"every reviewer submits before the lead consolidates; waiting for reviewer"
            f"{'s' if len(waiting) > 1 else ''} {', '.join(waiting)}"
        )
    codes = _stage_codes(session=session, application=application)
    given = {verdict.code: verdict for verdict in data.verdicts}
    for code in given:
        if code not in codes:
            raise InvalidRequest(_unknown_criterion(application, code, codes))
    by_code: dict[str, list[Verdict]] = {}
    for assessment in assessments_of(session=session, assignments=assignments):
        by_code.setdefault(assessment.criterion_code, []).append(assessment.verdict)
    verdicts: list[dict[str, object]] = []
    for code in codes:
        if code in given:
            verdicts.append(
                {
                    "code": code,
                    "verdict": given[code].verdict.value,
                    "reasons": given[code].reasons,
                    "defaulted": False,
                }
            )
        else:
            verdict = most_cautious(by_code[code])
            verdicts.append(
                {"code": code, "verdict": verdict.value, "reasons": "", "defaulted": True}
            )
    gaps = {str(v["code"]): str(v["verdict"]) for v in verdicts if v["verdict"] != Verdict.MET}
    if data.recommendation is Recommendation.RECOMMENDED and gaps:
        raise InvalidRequest(
            f"a recommendation needs every criterion met (partly met is a gap); the gaps are "
            f"{', '.join(f'{code} ({verdict})' for code, verdict in gaps.items())}",
            extra={"gaps": gaps},
        )
    consolidation = ReviewConsolidation(
        application_id=saved_id(application.id),
        lead_assignment_id=saved_id(assignment.id),
        verdicts=verdicts,
        recommendation=data.recommendation,
        summary=data.summary,
    )
    session.add(consolidation)
    application.state = (
        ApplicationState.RECOMMENDED
        if data.recommendation is Recommendation.RECOMMENDED
        else ApplicationState.NOT_RECOMMENDED
    )
    session.add(application)
    session.flush()
    counts = Counter(str(v["verdict"]) for v in verdicts)
    record(
        session=session,
        actor=actor,
        action="review.consolidate",
        target_type="application",
        target_id=application.id,
        detail={"recommendation": data.recommendation.value, "verdicts": dict(counts)},
    )
    framework = applications.framework_of(session=session, application=application)
    append_event(
        session=session,
        node_id=node_id,
        type=EventType.REVIEW_COMPLETED,
        subject={"locode": application.city_locode, "application": saved_id(application.id)},
        data={
            "stage": application.stage,
            "level": frameworks.document_of(framework).stage(application.stage).level,
            "framework": {
                "id": framework.framework_id,
                "version": framework.version,
                "digest": framework.digest,
            },
            "recommendation": data.recommendation.value,
            "verdicts": {verdict.value: counts.get(verdict.value, 0) for verdict in Verdict},
            "reviewers": len(assignments),
        },
        occurred_at=consolidation.consolidated_at,
    )
    return consolidation
