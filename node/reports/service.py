"""Stage reports (§25): generated from the review, kept as data, read by who may see them.

A report is built at consolidation from the lead's consolidated verdicts, every reviewer's
assessment (by role and number, never by name), the clarifications, and, for each gap, the
tools and case studies of the node's catalogue that address it (§37). It is stored as JSON with
its digest, and `report.generated` goes into the event log in the same transaction. An
administrator may regenerate it, for instance once the catalogue has better tools: that adds a
new version and never changes an old one.

Tools are matched on the criterion's code and text in the framework's own language, from the
whole catalogue whatever a tool's language: a tool in another language is better than none.

Who reads a report: administrators, the secretariat and committee members; the reviewers
assigned to the application; the city applicants of the city. Anyone else gets 404, as if the
application did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from sdgcities.credentials.canonical import content_digest
from sdgcities.federation import EventType
from sdgcities.federation.event_data import ReportGenerated
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application, ApplicationState, Evidence
from sdgcities.node.audit.service import record
from sdgcities.node.catalogue.models import Tool
from sdgcities.node.catalogue.service import match_tools_for_gaps
from sdgcities.node.cities.models import City
from sdgcities.node.committee.decisions import decision_on
from sdgcities.node.committee.models import ItemOutcome
from sdgcities.node.config import Settings
from sdgcities.node.db import saved_id
from sdgcities.node.errors import Conflict, NotFound
from sdgcities.node.events.service import append_event
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.review.access import (
    assessments_of,
    assignments_of,
    clarifications_of,
    consolidation_of,
)
from sdgcities.node.review.consolidation import consolidate
from sdgcities.node.review.models import (
    CriterionAssessment,
    ReviewAssignment,
    ReviewConsolidation,
    Verdict,
)
from sdgcities.node.review.schemas import ConsolidationCreate
from sdgcities.node.timeutil import utcnow

from .models import StageReport
from .schemas import (
    ApplicationOutcome,
    CityRef,
    ClarificationRecord,
    CriterionResult,
    DecisionSummary,
    EvidenceRef,
    FrameworkRef,
    OutcomeGap,
    Reason,
    StageRef,
    StageReportDocument,
    StageReportPublic,
    ToolRef,
)

REPORT_READERS = frozenset({Role.ADMINISTRATOR, Role.SECRETARIAT, Role.COMMITTEE_MEMBER})
TOOLS_PER_GAP = 3


# Who sees what ----------------------------------------------------------------------------------


def get_application_or_raise(
    *, session: Session, application_id: int, actor: Actor, for_update: bool = False
) -> Application:
    """The application, if `actor` may read its stage reports: as for the application itself,
    and the committee members too (they decide on them)."""
    return applications.get_application_or_raise(
        session=session,
        application_id=application_id,
        actor=actor,
        for_update=for_update,
        readers=REPORT_READERS,
    )


def get_report_or_raise(
    *, session: Session, application: Application, version: int | None = None
) -> StageReport:
    query = select(StageReport).where(StageReport.application_id == application.id)
    if version is not None:
        query = query.where(StageReport.version == version)
    report = session.exec(query.order_by(col(StageReport.version).desc())).first()
    if report is None:
        if version is not None and report_count(session=session, application=application):
            raise NotFound(f"application {application.id} has no stage report version {version}")
        raise NotFound(
            f"application {application.id} has no stage report yet: it is "
            f"{application.state.value}, and the report comes with the review's consolidation"
        )
    return report


def report_count(*, session: Session, application: Application) -> int:
    return session.exec(
        select(func.count())
        .select_from(StageReport)
        .where(StageReport.application_id == application.id)
    ).one()


def document_of(report: StageReport) -> StageReportDocument:
    return StageReportDocument.model_validate(report.document)


def report_public(*, session: Session, report: StageReport) -> StageReportPublic:
    application = session.get(Application, report.application_id)
    assert application is not None
    return StageReportPublic(
        application_id=report.application_id,
        version=report.version,
        digest=report.digest,
        generated_at=report.generated_at,
        versions=report_count(session=session, application=application),
        document=document_of(report),
    )


# Building ---------------------------------------------------------------------------------------


def build_document(
    *,
    session: Session,
    settings: Settings,
    application: Application,
    consolidation: ReviewConsolidation,
    version: int,
    generated_at: datetime,
) -> StageReportDocument:
    framework = applications.framework_of(session=session, application=application)
    document = frameworks.document_of(framework)
    stage = document.stage(application.stage)
    city = session.get(City, application.city_locode)
    assert city is not None  # a foreign key, and cities are never deleted

    assignments = assignments_of(session=session, application_id=application.id)
    reasons = _ReviewersReasons.of(session=session, assignments=assignments)
    texts = {criterion.code: criterion.text for criterion in stage.criteria}
    gaps = [str(v["code"]) for v in consolidation.verdicts if v["verdict"] != Verdict.MET.value]
    tools = match_tools_for_gaps(
        session=session, criteria_codes=gaps, texts=texts, per_gap=TOOLS_PER_GAP
    )
    results = [
        _criterion_result(consolidated, texts=texts, reasons=reasons, tools=tools)
        for consolidated in consolidation.verdicts
    ]

    return StageReportDocument(
        version=version,
        application_id=saved_id(application.id),
        node=settings.node_name,
        city=CityRef(locode=city.locode, name=city.name, country=city.country),
        stage=StageRef(key=stage.key, letter=stage.letter, name=stage.name, level=stage.level),
        framework=FrameworkRef(
            id=framework.framework_id, version=framework.version, digest=framework.digest
        ),
        language=document.language,
        recommendation=consolidation.recommendation,
        summary=consolidation.summary,
        reviewers=len(assignments),
        criteria=results,
        gaps=gaps,
        clarifications=[
            ClarificationRecord(
                criteria=list(request.criteria),
                question=request.question,
                answer=request.answer,
                asked_at=request.asked_at,
                answered_at=request.answered_at,
            )
            for request in clarifications_of(session=session, application_id=application.id)
        ],
        consolidated_at=consolidation.consolidated_at,
        generated_at=generated_at,
    )


@dataclass(frozen=True, slots=True)
class _ReviewersReasons:
    """The reviewers' assessments as the report quotes them: each reviewer named by role only
    ("lead reviewer", "reviewer N"), each evidence file cited by its name."""

    assessments: list[CriterionAssessment]
    labels: dict[int, str]
    filenames: dict[int, str]

    @classmethod
    def of(cls, *, session: Session, assignments: list[ReviewAssignment]) -> _ReviewersReasons:
        labels: dict[int, str] = {}
        for assignment in assignments:
            others = sum(1 for label in labels.values() if label != "lead reviewer")
            labels[saved_id(assignment.id)] = (
                "lead reviewer" if assignment.lead else f"reviewer {others + 1}"
            )
        assessments = assessments_of(session=session, assignments=assignments)
        cited = {evidence_id for a in assessments for evidence_id in a.evidence_ids}
        filenames = {
            saved_id(evidence.id): evidence.filename
            for evidence in session.exec(
                select(Evidence).where(col(Evidence.id).in_(sorted(cited)))
            ).all()
        }
        return cls(assessments, labels, filenames)

    def on(self, code: str) -> list[Reason]:
        """The reviewers' reasons on the criterion `code`, in the order they were given."""
        return [
            Reason(
                source="reviewer",
                reviewer=self.labels[assessment.assignment_id],
                verdict=assessment.verdict,
                text=assessment.reasons,
                evidence=[
                    EvidenceRef(id=evidence_id, filename=self.filenames[evidence_id])
                    for evidence_id in assessment.evidence_ids
                    if evidence_id in self.filenames
                ],
            )
            for assessment in self.assessments
            if assessment.criterion_code == code
        ]


def _criterion_result(
    consolidated: dict[str, Any],
    *,
    texts: dict[str, str],
    reasons: _ReviewersReasons,
    tools: Mapping[str, Sequence[Tool]],
) -> CriterionResult:
    """One criterion of the report: the consolidated verdict with the lead's reasons first,
    then each reviewer's, and the catalogue's tools for a gap."""
    code = str(consolidated["code"])
    verdict = Verdict(consolidated["verdict"])
    lead = Reason(
        source="consolidation",
        reviewer="lead reviewer",
        verdict=verdict,
        text=str(consolidated["reasons"])
        if not consolidated["defaulted"]
        else "No separate reasons: the most cautious of the reviewers' verdicts.",
    )
    return CriterionResult(
        code=code,
        text=texts[code],
        verdict=verdict,
        gap=verdict is not Verdict.MET,
        reasons=[lead, *reasons.on(code)],
        tools=[
            ToolRef(
                id=saved_id(tool.id),
                title=tool.title,
                link=tool.link,
                kind=tool.kind,
                summary=tool.summary,
                provider=tool.provider,
            )
            for tool in tools.get(code, [])
        ],
    )


def generate_report(
    *, session: Session, settings: Settings, application: Application, actor: Actor
) -> StageReport:
    """A new version of the application's stage report, with `report.generated` in the log."""
    consolidation = consolidation_of(session=session, application_id=application.id)
    if consolidation is None:
        raise Conflict(
            f"application {application.id} is {application.state.value}: a stage report is "
            "generated from the review's consolidation, and there is none yet"
        )
    version = report_count(session=session, application=application) + 1
    now = utcnow()
    document = build_document(
        session=session,
        settings=settings,
        application=application,
        consolidation=consolidation,
        version=version,
        generated_at=now,
    )
    data = document.model_dump(mode="json")
    report = StageReport(
        application_id=saved_id(application.id),
        version=version,
        document=data,
        digest=content_digest(data),
        generated_by=actor.user_id,
        generated_at=now,
    )
    session.add(report)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="report.generate",
        target_type="application",
        target_id=application.id,
        detail={"version": version, "digest": report.digest},
    )
    append_event(
        session=session,
        node_id=settings.node_id,
        type=EventType.REPORT_GENERATED,
        subject={"locode": application.city_locode, "application": saved_id(application.id)},
        data=ReportGenerated(
            stage=application.stage,
            version=version,
            digest=report.digest,
            recommendation=document.recommendation.value,
            gaps=tuple(document.gaps),
        ),
        occurred_at=now,
    )
    return report


def conclude_review(
    *,
    session: Session,
    settings: Settings,
    application: Application,
    data: ConsolidationCreate,
    actor: Actor,
) -> tuple[ReviewConsolidation, StageReport]:
    """The lead's consolidation and the stage report built from it, in one transaction."""
    consolidation = consolidate(
        session=session,
        node_id=settings.node_id,
        application=application,
        data=data,
        actor=actor,
    )
    report = generate_report(
        session=session, settings=settings, application=application, actor=actor
    )
    return consolidation, report


# The city's outcome -----------------------------------------------------------------------------


_WAITING = {
    ApplicationState.DRAFT: "the city has not submitted it yet",
    ApplicationState.SUBMITTED: "it waits for reviewers to be assigned",
    ApplicationState.UNDER_REVIEW: "the technical team is reviewing it",
    ApplicationState.CLARIFICATION_REQUESTED: (
        "the reviewers asked the city for clarification (GET /applications/{id}/clarifications)"
    ),
    ApplicationState.WITHDRAWN: "it was withdrawn",
}


def outcome(*, session: Session, application: Application) -> ApplicationOutcome:
    """The decision if there is one; otherwise why not, with the gaps and the tools that help."""
    report = session.exec(
        select(StageReport)
        .where(StageReport.application_id == application.id)
        .order_by(col(StageReport.version).desc())
    ).first()
    document = document_of(report) if report is not None else None
    item = decision_on(session=session, application=application)
    decision = None
    if item is not None and item.decided_at is not None:
        decision = DecisionSummary(
            outcome="awarded" if item.outcome is ItemOutcome.APPROVED else "declined",
            decided_at=item.decided_at,
            meeting_id=item.meeting_id,
            certificate_id=item.certificate_id,
        )
    framework = applications.framework_of(session=session, application=application)
    level = frameworks.document_of(framework).stage(application.stage).level
    gaps = []
    if document is not None:
        gaps = [
            OutcomeGap(
                code=result.code,
                text=result.text,
                verdict=result.verdict,
                reasons=[reason.text for reason in result.reasons],
                tools=result.tools,
            )
            for result in document.criteria
            if result.gap
        ]
    state = application.state
    certified = state is ApplicationState.AWARDED
    if certified:
        assert decision is not None
        explanation = (
            f"Certified: the committee awarded stage {application.stage} ({level}) on "
            f"{decision.decided_at.date().isoformat()}."
        )
    elif state is ApplicationState.DECLINED:
        when = decision.decided_at.date().isoformat() if decision is not None else "its meeting"
        explanation = (
            f"Not certified: the committee declined the certificate on {when}, although the "
            "technical review recommended it."
        )
    elif state is ApplicationState.NOT_RECOMMENDED:
        explanation = (
            f"Not certified: the technical review did not recommend stage {application.stage}, "
            f"and {len(gaps)} of its criteria {'is' if len(gaps) == 1 else 'are'} not fully met. "
            "Each gap below lists tools and case studies that help close it; the city may apply "
            "again once it has."
        )
        if not gaps:
            explanation = (
                "Not certified: the technical review did not recommend certification; its "
                "grounds are in the summary."
            )
    elif state is ApplicationState.RECOMMENDED:
        explanation = "Recommended by the technical review: it waits for the committee's decision."
    else:
        explanation = f"No outcome yet: {_WAITING[state].format(id=application.id)}."
    return ApplicationOutcome(
        application_id=saved_id(application.id),
        city_locode=application.city_locode,
        stage=application.stage,
        level=level,
        state=state,
        certified=certified,
        explanation=explanation,
        decision=decision,
        recommendation=document.recommendation if document else None,
        summary=document.summary if document else None,
        gaps=gaps,
        report=f"/applications/{application.id}/report" if report is not None else None,
    )
