"""Rendering a stage report document, without a database: awkward text must not break it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from sdgcities.node.catalogue.models import ToolKind
from sdgcities.node.reports.render import pdf_filename, render_html, render_pdf
from sdgcities.node.reports.schemas import (
    CityRef,
    ClarificationRecord,
    CriterionResult,
    EvidenceRef,
    FrameworkRef,
    Reason,
    StageRef,
    StageReportDocument,
    ToolRef,
)
from sdgcities.node.review.models import Recommendation, Verdict

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
AWKWARD = "a" * 400 + " tab\there\nnew line, Київ, Ŋ, €, 北京"


def _document(text: str = AWKWARD) -> StageReportDocument:
    return StageReportDocument(
        version=3,
        application_id=7,
        node="Kenya SDG Cities national node",
        city=CityRef(locode="KE-KIS", name="Kisumu Київ", country="KE"),
        stage=StageRef(key="qualification", letter="A", name="Qualification", level="silver"),
        framework=FrameworkRef(id="sdgcities-ke", version="1", digest=None),
        language="en",
        recommendation=Recommendation.NOT_RECOMMENDED,
        summary=text,
        reviewers=2,
        criteria=[
            CriterionResult(
                code="A.a",
                text=text,
                verdict=Verdict.NOT_MET,
                gap=True,
                reasons=[
                    Reason(
                        source="reviewer",
                        reviewer="reviewer 1",
                        verdict=Verdict.NOT_MET,
                        text=text * 3,
                        evidence=[EvidenceRef(id=1, filename="b" * 120)],
                    )
                ],
                tools=[
                    ToolRef(
                        id=1,
                        title="A tool",
                        link="https://example.org/" + "c" * 300,
                        kind=ToolKind.TRAINING,
                        summary=text,
                        provider="",
                    )
                ],
            )
        ],
        gaps=["A.a"],
        clarifications=[
            ClarificationRecord(
                criteria=["A.a"], question=text, answer=None, asked_at=NOW, answered_at=None
            )
        ],
        consolidated_at=NOW,
        generated_at=NOW,
    )


def test_awkward_text_renders_in_the_pdf() -> None:
    pdf = render_pdf(_document())
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Stage report: Kisumu Київ" in text
    assert "tab    here" in text
    assert "not answered" in text
    assert "training" in text


def test_an_unpublished_framework_and_the_file_name() -> None:
    document = _document("Short.")
    assert "unpublished" in render_html(document)
    assert pdf_filename(document) == "stage-report-KE-KIS-qualification-v3.pdf"


def test_a_link_that_is_not_https_is_not_made_a_link() -> None:
    document = _document("Short.")
    tool = document.criteria[0].tools[0].model_copy(update={"link": "javascript:alert(1)"})
    criterion = document.criteria[0].model_copy(update={"tools": [tool]})
    page = render_html(document.model_copy(update={"criteria": [criterion]}))
    assert "javascript:" not in page
    assert "A tool" in page
