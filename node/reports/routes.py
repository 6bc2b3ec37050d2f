"""Stage reports (§25) as JSON, as an HTML page and as a PDF, and the city's outcome.

Who reads a report: administrators, the secretariat, committee members, the reviewers assigned
to the application and the city's own applicants; anyone else gets 404, as for an application
that does not exist. The latest version is served unless `version` names another.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.evidence import content_disposition
from sdgcities.node.schemas import Id

from . import service
from .render import pdf_filename, render_html, render_pdf
from .schemas import ApplicationOutcome, StageReportPublic

router = APIRouter(tags=["reports"])

ReportReader = Annotated[
    Actor,
    access(
        Role.ADMINISTRATOR,
        Role.SECRETARIAT,
        Role.COMMITTEE_MEMBER,
        Role.REVIEWER,
        Role.CITY_APPLICANT,
    ),
]
OutcomeReader = Annotated[Actor, access(Role.ADMINISTRATOR, Role.SECRETARIAT, Role.CITY_APPLICANT)]
Admin = Annotated[Actor, access(Role.ADMINISTRATOR)]
Version = Annotated[Id | None, Query(description="A version; the latest by default")]

# The page shows user input (names, reasons, answers): it is escaped, and nothing in it may run.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}
PDF = "application/pdf"


@router.get("/applications/{application_id}/report")
def get_report(
    session: ReadSessionDep, actor: ReportReader, application_id: Id, version: Version = None
) -> StageReportPublic:
    """The stage report as data: per criterion the verdict and reasons, the gaps and the tools
    that address them, and the recommendation."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    report = service.get_report_or_raise(session=session, application=application, version=version)
    return service.report_public(session=session, report=report)


@router.get(
    "/applications/{application_id}/report.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}},
)
def get_report_html(
    session: ReadSessionDep, actor: ReportReader, application_id: Id, version: Version = None
) -> HTMLResponse:
    """The stage report as a print-ready HTML page."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    report = service.get_report_or_raise(session=session, application=application, version=version)
    return HTMLResponse(render_html(service.document_of(report)), headers=HTML_HEADERS)


@router.get(
    "/applications/{application_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
def get_report_pdf(
    session: ReadSessionDep, actor: ReportReader, application_id: Id, version: Version = None
) -> Response:
    """The stage report as a PDF a ministry can send (an attachment)."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    report = service.get_report_or_raise(session=session, application=application, version=version)
    document = service.document_of(report)
    return Response(
        render_pdf(document),
        media_type=PDF,
        headers={
            "Content-Disposition": content_disposition(pdf_filename(document)),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/applications/{application_id}/report/regenerate", status_code=status.HTTP_201_CREATED
)
def regenerate_report(
    session: SessionDep, state: StateDep, actor: Admin, application_id: Id
) -> StageReportPublic:
    """A new version of the stage report from the same review, with the catalogue's tools as
    they are now; earlier versions stay as they were."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    report = service.generate_report(
        session=session, settings=state.settings, application=application, actor=actor
    )
    return service.report_public(session=session, report=report)


@router.get("/applications/{application_id}/outcome")
def get_outcome(
    session: ReadSessionDep, actor: OutcomeReader, application_id: Id
) -> ApplicationOutcome:
    """Where the city stands: the decision if there is one; if not certified, why, and the
    tools and case studies that help close each gap (§25)."""
    application = service.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    return service.outcome(session=session, application=application)
