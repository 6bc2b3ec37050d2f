"""Consolidation (§25): the lead reviewer's verdicts and recommendation end the review.

Only the lead, only once every reviewer has submitted. For each criterion the lead may give a
verdict with reasons; a criterion the lead leaves out takes the most cautious of the reviewers'
verdicts (not met, then partly met, then met): the consolidated result never claims more than
any reviewer found. A recommendation needs every criterion met: partly met is a gap, as not met
is. The consolidation appends `review.completed` to the event log; the stage report follows in
the same transaction (`node.reports.service.conclude_review`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlmodel import Session

from sdgcities.federation import EventType
from sdgcities.federation.event_data import FrameworkKey, ReviewCompleted
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, ApplicationState
from sdgcities.node.audit.service import record
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict, Forbidden, InvalidRequest
from sdgcities.node.events.service import append_event
from sdgcities.node.frameworks import service as frameworks

from .access import assessments_of, assignments_of
from .assessment import check_under_review, unknown_criterion
from .assignment import own_assignment
from .models import Recommendation, ReviewAssignment, ReviewConsolidation, Verdict
from .schemas import ConsolidationCreate

# Most cautious first: the default consolidated verdict is the first of these any reviewer gave.
CAUTION_ORDER = (Verdict.NOT_MET, Verdict.PARTLY_MET, Verdict.MET)


def most_cautious(verdicts: Sequence[Verdict]) -> Verdict:
    return next(verdict for verdict in CAUTION_ORDER if verdict in verdicts)


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
    check_under_review(application, "consolidating the review")
    if not assignment.lead:
        raise Forbidden(f"only the lead reviewer of application {application.id} consolidates it")
    assignments = _all_submitted(session=session, application=application)
    verdicts = _consolidated_verdicts(
        session=session, application=application, data=data, assignments=assignments
    )
    _check_recommendation(data, verdicts)
    consolidation = ReviewConsolidation(
        application_id=saved_id(application.id),
        lead_assignment_id=saved_id(assignment.id),
        verdicts=verdicts,
        recommendation=data.recommendation,
        summary=data.summary,
    )
    counts = Counter(str(v["verdict"]) for v in verdicts)
    _store_consolidation(
        session=session,
        application=application,
        consolidation=consolidation,
        counts=counts,
        actor=actor,
    )
    _append_completed_event(
        session=session,
        node_id=node_id,
        application=application,
        consolidation=consolidation,
        counts=counts,
        reviewers=len(assignments),
    )
    return consolidation


def _all_submitted(*, session: Session, application: Application) -> list[ReviewAssignment]:
    """The application's reviewers' assignments; 409 while any reviewer has not submitted."""
    assignments = assignments_of(session=session, application_id=application.id)
    waiting = [str(a.reviewer_id) for a in assignments if a.submitted_at is None]
    if waiting:
        raise Conflict(
            f"every reviewer submits before the lead consolidates; waiting for reviewer"
            f"{'s' if len(waiting) > 1 else ''} {', '.join(waiting)}"
        )
    return assignments


def _consolidated_verdicts(
    *,
    session: Session,
    application: Application,
    data: ConsolidationCreate,
    assignments: Sequence[ReviewAssignment],
) -> list[dict[str, object]]:
    """Per criterion of the stage, the lead's verdict, or else the reviewers' most cautious."""
    codes = applications.stage_criteria(session=session, application=application)
    given = {verdict.code: verdict for verdict in data.verdicts}
    for code in given:
        if code not in codes:
            raise InvalidRequest(unknown_criterion(application, code, codes))
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
    return verdicts


def _check_recommendation(data: ConsolidationCreate, verdicts: Sequence[dict[str, object]]) -> None:
    gaps = {str(v["code"]): str(v["verdict"]) for v in verdicts if v["verdict"] != Verdict.MET}
    if data.recommendation is Recommendation.RECOMMENDED and gaps:
        raise InvalidRequest(
            f"a recommendation needs every criterion met (partly met is a gap); the gaps are "
            f"{', '.join(f'{code} ({verdict})' for code, verdict in gaps.items())}",
            extra={"gaps": gaps},
        )


def _store_consolidation(
    *,
    session: Session,
    application: Application,
    consolidation: ReviewConsolidation,
    counts: Counter[str],
    actor: Actor,
) -> None:
    """The consolidation, the application's state that follows from it, and the audit record."""
    session.add(consolidation)
    application.state = (
        ApplicationState.RECOMMENDED
        if consolidation.recommendation is Recommendation.RECOMMENDED
        else ApplicationState.NOT_RECOMMENDED
    )
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="review.consolidate",
        target_type="application",
        target_id=application.id,
        detail={"recommendation": consolidation.recommendation.value, "verdicts": dict(counts)},
    )


def _append_completed_event(
    *,
    session: Session,
    node_id: str,
    application: Application,
    consolidation: ReviewConsolidation,
    counts: Counter[str],
    reviewers: int,
) -> None:
    framework = applications.framework_of(session=session, application=application)
    append_event(
        session=session,
        node_id=node_id,
        type=EventType.REVIEW_COMPLETED,
        subject={"locode": application.city_locode, "application": saved_id(application.id)},
        data=ReviewCompleted(
            stage=application.stage,
            level=frameworks.document_of(framework).stage(application.stage).level,
            framework=FrameworkKey(
                id=framework.framework_id, version=framework.version, digest=framework.digest
            ),
            recommendation=consolidation.recommendation.value,
            verdicts={verdict.value: counts.get(verdict.value, 0) for verdict in Verdict},
            reviewers=reviewers,
        ),
        occurred_at=consolidation.consolidated_at,
    )
