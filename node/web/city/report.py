"""The stage report for the city, in the city's language: a page, and a PDF to send on.

The stored document is shown as written (reviewers' reasons, the city's answers); the labels
are the page's language, and the criteria's texts too when the framework or the baseline's
translations have them (`criteria.criterion_in`). The PDF is drawn with DejaVu Sans, which
covers the Latin and Cyrillic languages and, shaped by HarfBuzz, Arabic; Chinese needs the
operating system's Noto Sans CJK fonts. Where a language cannot be drawn (`pdf_languages`), the
PDF is in English and says so (the page is in every language).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from sdgcities.node.actor import Actor
from sdgcities.node.applications import service as applications
from sdgcities.node.applications.models import Application
from sdgcities.node.deps import ReadSessionDep
from sdgcities.node.evidence import content_disposition
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.errors import FrameworkError
from sdgcities.node.reports import service as reports
from sdgcities.node.reports.render import (
    KINDS,
    VERDICTS,
    ReportWords,
    pdf_filename,
    pdf_languages,
    render_pdf,
)
from sdgcities.node.reports.schemas import StageReportDocument
from sdgcities.node.schemas import Id

from ..i18n import N_, Language, translations
from ..pages import render
from ..routes import LanguageDep
from ..terms import LEVEL_NAMES, STAGE_NAMES
from .criteria import criterion_in
from .pages import APPLICATION_PATH, NAMES, City_

router = APIRouter(include_in_schema=False)

VERDICT_NAMES: Final = {
    "met": N_("met"),
    "partly_met": N_("partly met"),
    "not_met": N_("not met"),
}
KIND_NAMES: Final = {
    "tool": N_("tool"),
    "case_study": N_("case study"),
    "service": N_("service"),
    "training": N_("training"),
}
# Each of `ReportWords`' sentences as a message of the site's catalogues.
WORDS: Final = {
    "node_line": N_("%(node)s · SDG Cities certification"),
    "title": N_("Stage report: %(city)s"),
    "city": N_("City"),
    "stage": N_("Stage"),
    "level": N_("Level"),
    "framework": N_("Framework"),
    "framework_value": N_("%(id)s version %(version)s"),
    "framework_digest": N_("Framework digest"),
    "unpublished": N_("unpublished"),
    "application": N_("Application"),
    "reviewers": N_("Reviewers"),
    "report": N_("Report"),
    "report_value": N_("version %(version)s, generated %(date)s UTC"),
    "recommended": N_("Recommended for certification"),
    "not_recommended": N_("Not recommended for certification"),
    "gaps_line": N_("Gaps to address: %(gaps)s."),
    "all_met": N_("Every criterion of the stage is met."),
    "criteria_heading": N_("Criteria"),
    "by": N_("By"),
    "verdict": N_("Verdict"),
    "reasons": N_("Reasons"),
    "consolidated": N_("consolidated"),
    "lead_reviewer": N_("lead reviewer"),
    "reviewer_n": N_("reviewer %(n)s"),
    "evidence_line": N_("Evidence: %(files)s"),
    "gaps_heading": N_("Gaps and the tools that help"),
    "no_tool": N_(
        "The catalogue has no tool for this criterion yet; UN-Habitat and its partners can "
        "advise (§25)."
    ),
    "clarifications_heading": N_("Clarifications"),
    "about": N_("About %(codes)s"),
    "question": N_("Question: %(text)s"),
    "answer": N_("Answer: %(text)s"),
    "not_answered": N_("not answered"),
    "footer": N_(
        "%(city)s · %(stage)s · application %(id)s · report version %(version)s · "
        "page %(page)s/%(pages)s"
    ),
    "closing": N_(
        "Generated from the technical review of application %(id)s (%(format)s). Reviewers are "
        "named by role only. The certification committee decides on the basis of this report."
    ),
}
ENGLISH_PDF_NOTE: Final = (
    "This PDF is in English: this node cannot draw it in the reader's language (Arabic needs "
    "the uharfbuzz package, Chinese the Noto Sans CJK fonts). The report page on the node is in "
    "every language of the site."
)


def criteria_in_language(
    session: Session, application: Application, document: StageReportDocument, language: str
) -> dict[str, str]:
    """The report's criteria texts in `language`, by code (the stored text where not
    translated, or when the framework no longer names the criterion)."""
    framework = applications.framework_of(session=session, application=application)
    criteria = {}
    for result in document.criteria:
        try:
            criterion = frameworks.document_of(framework).criterion(result.code)
        except FrameworkError:
            criteria[result.code] = result.text
            continue
        criteria[result.code] = criterion_in(criterion, language).text
    return criteria


def report_words(
    language: Language, *, stage_key: str, criteria: dict[str, str] | None = None
) -> ReportWords:
    """The PDF's words in `language`, or in English (with a note) where its fonts cannot."""
    if language.code not in pdf_languages():
        return ReportWords(note=ENGLISH_PDF_NOTE, verdicts=VERDICTS, kinds=KINDS)
    gettext = translations(language.code).gettext
    return ReportWords(
        language=language.code,
        verdicts={key: gettext(name) for key, name in VERDICT_NAMES.items()},
        kinds={key: gettext(name) for key, name in KIND_NAMES.items()},
        stage_name=gettext(STAGE_NAMES[stage_key]) if stage_key in STAGE_NAMES else None,
        criteria=criteria or {},
        **{key: gettext(message) for key, message in WORDS.items()},
    )


def _report(
    session: Session, actor: Actor, application_id: int, version: int | None
) -> tuple[Application, StageReportDocument]:
    application = reports.get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    report = reports.get_report_or_raise(session=session, application=application, version=version)
    return application, reports.document_of(report)


@router.get(APPLICATION_PATH + "/report")
def report_page(
    request: Request,
    language: LanguageDep,
    caller: City_,
    session: ReadSessionDep,
    application_id: Id,
) -> Response:
    application, document = _report(session, caller.actor, application_id, None)
    return render(
        request,
        "city/report.html",
        language=language,
        caller=caller,
        application=application,
        report=document,
        criteria=criteria_in_language(session, application, document, language.code),
        verdict_names=VERDICT_NAMES,
        kind_names=KIND_NAMES,
        names=NAMES,
        level_names=LEVEL_NAMES,
        pdf_in_english=language.code not in pdf_languages(),
    )


@router.get(APPLICATION_PATH + "/report.pdf")
def report_pdf(
    language: LanguageDep, caller: City_, session: ReadSessionDep, application_id: Id
) -> Response:
    application, document = _report(session, caller.actor, application_id, None)
    words = report_words(
        language,
        stage_key=document.stage.key,
        criteria=criteria_in_language(session, application, document, language.code),
    )
    return Response(
        render_pdf(document, words=words),
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(pdf_filename(document)),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
