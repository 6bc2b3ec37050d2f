"""The stage report drawn as a PDF with fpdf2 (see `render` for the fonts and languages).

Imported when a PDF is first drawn, not with the application: fpdf2 and the fontTools it loads
cost about 0.4 s of CPU to import, at every start of every node process, and most processes
never draw one.
"""

from __future__ import annotations

from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from .render import (
    CJK_FAMILY,
    CJK_FONT_FILES,
    CJK_LANGUAGES,
    FONT_FAMILY,
    RTL_LANGUAGES,
    ReportWords,
    font_path,
)
from .schemas import CriterionResult, StageReportDocument

# Colours (RGB) and sizes of the PDF, in millimetres and points.
_BLUE: Final = (0, 73, 135)
_GREY: Final = (85, 85, 85)
_BLACK: Final = (27, 27, 27)
_VERDICT_COLOURS: Final = {
    "met": (46, 125, 50),
    "partly_met": (161, 92, 0),
    "not_met": (179, 38, 30),
}
_LINE: Final = 5.0


class _ReportPDF(FPDF):
    def __init__(self, report: StageReportDocument, words: ReportWords) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.words = words
        self.set_lang(words.language)
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(FONT_FAMILY, "", font_path("DejaVuSans.ttf"))
        self.add_font(FONT_FAMILY, "B", font_path("DejaVuSans-Bold.ttf"))
        self.rtl = words.language in RTL_LANGUAGES
        if self.rtl:
            self.set_text_shaping(use_shaping_engine=True, direction="rtl")
        if words.language in CJK_LANGUAGES:
            regular, bold = CJK_FONT_FILES
            self.add_font(CJK_FAMILY, "", regular)
            self.add_font(CJK_FAMILY, "B", bold if bold.is_file() else regular)
            # DejaVu draws what it has (Latin names, digits); the CJK font the rest.
            self.set_fallback_fonts([CJK_FAMILY])
        self.set_title(f"{words.title % {'city': report.city.name}}, {report.stage.name}")
        self.set_author(report.node)
        self.set_subject(f"SDG Cities certification, application {report.application_id}")
        self.set_creator("SDG Cities node")
        # The document's own time, so the same report always renders to the same bytes.
        self.set_creation_date(report.generated_at)

    def normalize_text(self, text: str) -> str:
        # DejaVu has no glyph for a tab, and reasons pasted from documents often hold some.
        return super().normalize_text(text.replace("\t", "    "))

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, size=7.5)
        self.set_text_color(*_GREY)
        report = self.report
        footer = self.words.footer % {
            "city": report.city.name,
            "stage": report.stage.key,
            "id": report.application_id,
            "version": report.version,
            "page": self.page_no(),
            "pages": "{nb}",
        }
        self.cell(0, 4, footer, align="C")

    # Building blocks

    @property
    def align(self) -> str:
        return "R" if self.rtl else "L"

    def paragraph(self, text: str, *, size: float = 9.5, bold: bool = False) -> None:
        self.set_font(FONT_FAMILY, "B" if bold else "", size)
        self.multi_cell(0, _LINE, text, align=self.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pair(
        self, first: str, second: str, colour: tuple[int, int, int], *, size: float = 10.5
    ) -> None:
        """`first` in bold then `second` in `colour` on one line (one paragraph right to left)."""
        if self.rtl:
            self.set_text_color(*colour)
            self.paragraph(f"{first}{second}", size=size, bold=True)
            self.set_text_color(*_BLACK)
            return
        self.set_font(FONT_FAMILY, "B", size)
        self.write(_LINE, first)
        self.set_text_color(*colour)
        self.write(_LINE, second)
        self.set_text_color(*_BLACK)
        self.ln(_LINE + 0.5)

    def heading(self, text: str, *, size: float = 12.5) -> None:
        self.ln(3)
        self.set_text_color(*_BLUE)
        self.paragraph(text, size=size, bold=True)
        self.set_text_color(*_BLACK)
        self.ln(1)

    def fact(self, label: str, value: str, *, size: float = 9) -> None:
        if self.rtl:
            self.paragraph(f"{label}: {value}", size=size)
            return
        self.set_font(FONT_FAMILY, "", 9)
        self.set_text_color(*_GREY)
        self.cell(38, _LINE, label)
        self.set_text_color(*_BLACK)
        self.set_font(FONT_FAMILY, "", size)
        self.multi_cell(0, _LINE, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def draw_pdf(report: StageReportDocument, words: ReportWords) -> bytes:
    """The report as a PDF, with its labels in `words`' language."""
    pdf = _ReportPDF(report, words)
    pdf.add_page()
    _title_and_facts(pdf, report, words)
    _recommendation(pdf, report, words)
    _criteria(pdf, report, words)
    if report.gaps:
        _gaps_and_tools(pdf, report, words)
    if report.clarifications:
        _clarifications(pdf, report, words)
    pdf.ln(4)
    pdf.set_text_color(*_GREY)
    pdf.paragraph(words.closing % {"id": report.application_id, "format": report.format}, size=7.5)
    return bytes(pdf.output())


def _title_and_facts(pdf: _ReportPDF, report: StageReportDocument, words: ReportWords) -> None:
    """The node, the title, and what the report is about, down to the framework's digest."""
    if words.note:
        pdf.set_text_color(*_GREY)
        pdf.paragraph(words.note, size=8.5)
        pdf.ln(1)
    pdf.set_text_color(*_GREY)
    pdf.paragraph(words.node_line % {"node": report.node}, size=8)
    pdf.set_text_color(*_BLACK)
    pdf.paragraph(words.title % {"city": report.city.name}, size=17, bold=True)
    pdf.ln(2)
    city = report.city
    stage_name = words.stage_name or report.stage.name
    pdf.fact(words.city, f"{city.name} ({city.locode}, {city.country})")
    pdf.fact(words.stage, f"{report.stage.letter}. {stage_name} ({report.stage.key})")
    pdf.fact(words.level, report.stage.level)
    pdf.fact(
        words.framework,
        words.framework_value % {"id": report.framework.id, "version": report.framework.version},
    )
    # Small enough that a sha256 digest fits on one line of A4.
    pdf.fact(words.framework_digest, report.framework.digest or words.unpublished, size=7.5)
    pdf.fact(words.application, str(report.application_id))
    pdf.fact(words.reviewers, str(report.reviewers))
    pdf.fact(
        words.report,
        words.report_value
        % {"version": report.version, "date": f"{report.generated_at:%Y-%m-%d %H:%M}"},
    )
    pdf.set_draw_color(*_BLUE)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(5)


def _recommendation(pdf: _ReportPDF, report: StageReportDocument, words: ReportWords) -> None:
    """The recommendation, the lead's summary and the gaps in one line."""
    recommended = report.recommendation.value == "recommended"
    pdf.set_text_color(*_VERDICT_COLOURS["met" if recommended else "not_met"])
    pdf.paragraph(words.recommended if recommended else words.not_recommended, size=12.5, bold=True)
    pdf.set_text_color(*_BLACK)
    pdf.paragraph(report.summary)
    pdf.paragraph(
        words.gaps_line % {"gaps": ", ".join(report.gaps)} if report.gaps else words.all_met
    )


def _criteria(pdf: _ReportPDF, report: StageReportDocument, words: ReportWords) -> None:
    """Each criterion with its verdict, its text and the reasons given for it."""
    verdicts = words.verdicts
    pdf.heading(words.criteria_heading)
    for criterion in report.criteria:
        pdf.pair(
            f"{criterion.code}: ",
            verdicts[criterion.verdict.value],
            _VERDICT_COLOURS[criterion.verdict.value],
        )
        pdf.paragraph(words.criteria.get(criterion.code, criterion.text), size=9)
        pdf.ln(1)
        _reasons_table(pdf, criterion, words)
        pdf.ln(3)


def _reasons_table(pdf: _ReportPDF, criterion: CriterionResult, words: ReportWords) -> None:
    """Who gave which verdict on `criterion`, with their reasons and the evidence cited."""
    verdicts = words.verdicts
    pdf.set_font(FONT_FAMILY, "", 8.5)
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    # Right to left, the columns run from the right too.
    order = slice(None, None, -1 if pdf.rtl else 1)
    with pdf.table(
        col_widths=(28, 20, 130)[order],
        text_align="RIGHT" if pdf.rtl else "LEFT",
        line_height=4.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(241, 243, 245)),
        first_row_as_headings=True,
        padding=1,
    ) as table:
        heading = table.row()
        for title in (words.by, words.verdict, words.reasons)[order]:
            heading.cell(title)
        for reason in criterion.reasons:
            text = reason.text
            if reason.evidence:
                cited = ", ".join(f"{item.filename} (#{item.id})" for item in reason.evidence)
                text += "\n" + words.evidence_line % {"files": cited}
            cells = (
                words.consolidated
                if reason.source == "consolidation"
                else words.reviewer(reason.reviewer),
                verdicts[reason.verdict.value],
                text,
            )
            row = table.row()
            for cell in cells[order]:
                row.cell(cell)


def _gaps_and_tools(pdf: _ReportPDF, report: StageReportDocument, words: ReportWords) -> None:
    """Each gap with the catalogue's tools that help close it."""
    verdicts = words.verdicts
    pdf.heading(words.gaps_heading)
    for criterion in report.criteria:
        if not criterion.gap:
            continue
        pdf.paragraph(
            f"{criterion.code} ({verdicts[criterion.verdict.value]})", size=10.5, bold=True
        )
        if not criterion.tools:
            pdf.paragraph(words.no_tool, size=9)
        for tool in criterion.tools:
            provider = f", {tool.provider}" if tool.provider else ""
            kind = f"  ({words.kinds[tool.kind.value]}{provider})"
            if pdf.rtl:
                pdf.pair(tool.title, kind, _GREY, size=9)
            else:
                pdf.set_font(FONT_FAMILY, "B", 9)
                pdf.set_text_color(*_BLUE)
                pdf.write(_LINE, f"{tool.title}", link=tool.link)
                pdf.set_text_color(*_GREY)
                pdf.set_font(FONT_FAMILY, "", 8)
                pdf.write(_LINE, kind)
                pdf.set_text_color(*_BLACK)
                pdf.ln(_LINE)
            pdf.paragraph(tool.summary, size=8.5)
            pdf.set_text_color(*_GREY)
            pdf.paragraph(tool.link, size=7.5)
            pdf.set_text_color(*_BLACK)
            pdf.ln(1)
        pdf.ln(2)


def _clarifications(pdf: _ReportPDF, report: StageReportDocument, words: ReportWords) -> None:
    """The reviewers' questions to the city, and its answers."""
    pdf.heading(words.clarifications_heading)
    for item in report.clarifications:
        pdf.paragraph(words.about % {"codes": ", ".join(item.criteria)}, size=9, bold=True)
        pdf.paragraph(words.question % {"text": item.question}, size=8.5)
        pdf.paragraph(words.answer % {"text": item.answer or words.not_answered}, size=8.5)
        pdf.ln(1)
