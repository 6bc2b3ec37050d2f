"""A stage report as an HTML page and as a PDF a ministry can send.

HTML: Jinja2 with autoescaping on (city names, reasons and answers are user input), one print
stylesheet. PDF: fpdf2, pure Python, with DejaVu Sans shipped in `fonts/` (fpdf2's core fonts
are Latin-1 only; DejaVu covers Latin, Greek and Cyrillic, so city names and translated criteria
render on a machine with nothing but the Python packages installed). Both read only the stored
document, so they show exactly what was generated.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from jinja2 import Environment, PackageLoader, select_autoescape

from .schemas import StageReportDocument

VERDICTS: Final = {"met": "met", "partly_met": "partly met", "not_met": "not met"}
KINDS: Final = {
    "tool": "tool",
    "case_study": "case study",
    "service": "service",
    "training": "training",
}
FONT_FAMILY: Final = "DejaVu"
_PACKAGE: Final = __name__.rpartition(".")[0]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader(_PACKAGE, "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: StageReportDocument) -> str:
    template = _environment().get_template("stage_report.html")
    return template.render(report=report, verdicts=VERDICTS, kinds=KINDS)


def _font(name: str) -> Path:
    return Path(str(resources.files(_PACKAGE) / "fonts" / name))


def pdf_filename(report: StageReportDocument) -> str:
    return f"stage-report-{report.city.locode}-{report.stage.key}-v{report.version}.pdf"


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
    def __init__(self, report: StageReportDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(FONT_FAMILY, "", _font("DejaVuSans.ttf"))
        self.add_font(FONT_FAMILY, "B", _font("DejaVuSans-Bold.ttf"))
        self.set_title(f"Stage report: {report.city.name}, {report.stage.name}")
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
        self.cell(
            0,
            4,
            f"{report.city.name} · {report.stage.key} · application {report.application_id} · "
            f"report version {report.version} · page {self.page_no()}/{{nb}}",
            align="C",
        )

    # Building blocks

    def paragraph(self, text: str, *, size: float = 9.5, bold: bool = False) -> None:
        self.set_font(FONT_FAMILY, "B" if bold else "", size)
        self.multi_cell(0, _LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, *, size: float = 12.5) -> None:
        self.ln(3)
        self.set_text_color(*_BLUE)
        self.paragraph(text, size=size, bold=True)
        self.set_text_color(*_BLACK)
        self.ln(1)

    def fact(self, label: str, value: str, *, size: float = 9) -> None:
        self.set_font(FONT_FAMILY, "", 9)
        self.set_text_color(*_GREY)
        self.cell(38, _LINE, label)
        self.set_text_color(*_BLACK)
        self.set_font(FONT_FAMILY, "", size)
        self.multi_cell(0, _LINE, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(report: StageReportDocument) -> bytes:
    pdf = _ReportPDF(report)
    pdf.add_page()

    pdf.set_text_color(*_GREY)
    pdf.paragraph(f"{report.node} · SDG Cities certification", size=8)
    pdf.set_text_color(*_BLACK)
    pdf.paragraph(f"Stage report: {report.city.name}", size=17, bold=True)
    pdf.ln(2)
    city = report.city
    pdf.fact("City", f"{city.name} ({city.locode}, {city.country})")
    pdf.fact("Stage", f"{report.stage.letter}. {report.stage.name} ({report.stage.key})")
    pdf.fact("Level", report.stage.level)
    pdf.fact("Framework", f"{report.framework.id} version {report.framework.version}")
    # Small enough that a sha256 digest fits on one line of A4.
    pdf.fact("Framework digest", report.framework.digest or "unpublished", size=7.5)
    pdf.fact("Application", str(report.application_id))
    pdf.fact("Reviewers", str(report.reviewers))
    pdf.fact(
        "Report",
        f"version {report.version}, generated {report.generated_at:%Y-%m-%d %H:%M} UTC",
    )
    pdf.set_draw_color(*_BLUE)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(5)

    recommended = report.recommendation.value == "recommended"
    pdf.set_text_color(*_VERDICT_COLOURS["met" if recommended else "not_met"])
    pdf.paragraph(
        "Recommended for certification" if recommended else "Not recommended for certification",
        size=12.5,
        bold=True,
    )
    pdf.set_text_color(*_BLACK)
    pdf.paragraph(report.summary)
    pdf.paragraph(
        f"Gaps to address: {', '.join(report.gaps)}."
        if report.gaps
        else "Every criterion of the stage is met."
    )

    pdf.heading("Criteria")
    for criterion in report.criteria:
        pdf.set_font(FONT_FAMILY, "B", 10.5)
        pdf.write(_LINE, f"{criterion.code}: ")
        pdf.set_text_color(*_VERDICT_COLOURS[criterion.verdict.value])
        pdf.write(_LINE, VERDICTS[criterion.verdict.value])
        pdf.set_text_color(*_BLACK)
        pdf.ln(_LINE + 0.5)
        pdf.paragraph(criterion.text, size=9)
        pdf.ln(1)
        pdf.set_font(FONT_FAMILY, "", 8.5)
        pdf.set_draw_color(200, 200, 200)
        pdf.set_line_width(0.2)
        with pdf.table(
            col_widths=(28, 20, 130),
            text_align="LEFT",
            line_height=4.2,
            headings_style=FontFace(emphasis="BOLD", fill_color=(241, 243, 245)),
            first_row_as_headings=True,
            padding=1,
        ) as table:
            heading = table.row()
            for title in ("By", "Verdict", "Reasons"):
                heading.cell(title)
            for reason in criterion.reasons:
                row = table.row()
                row.cell("consolidated" if reason.source == "consolidation" else reason.reviewer)
                row.cell(VERDICTS[reason.verdict.value])
                text = reason.text
                if reason.evidence:
                    cited = ", ".join(f"{item.filename} (#{item.id})" for item in reason.evidence)
                    text += f"\nEvidence: {cited}"
                row.cell(text)
        pdf.ln(3)

    if report.gaps:
        pdf.heading("Gaps and the tools that help")
        for criterion in report.criteria:
            if not criterion.gap:
                continue
            pdf.paragraph(
                f"{criterion.code} ({VERDICTS[criterion.verdict.value]})", size=10.5, bold=True
            )
            if not criterion.tools:
                pdf.paragraph(
                    "The catalogue has no tool for this criterion yet; UN-Habitat and its "
                    "partners can advise (§25).",
                    size=9,
                )
            for tool in criterion.tools:
                pdf.set_font(FONT_FAMILY, "B", 9)
                pdf.set_text_color(*_BLUE)
                pdf.write(_LINE, f"{tool.title}", link=tool.link)
                pdf.set_text_color(*_GREY)
                pdf.set_font(FONT_FAMILY, "", 8)
                provider = f", {tool.provider}" if tool.provider else ""
                pdf.write(_LINE, f"  ({KINDS[tool.kind.value]}{provider})")
                pdf.set_text_color(*_BLACK)
                pdf.ln(_LINE)
                pdf.paragraph(tool.summary, size=8.5)
                pdf.set_text_color(*_GREY)
                pdf.paragraph(tool.link, size=7.5)
                pdf.set_text_color(*_BLACK)
                pdf.ln(1)
            pdf.ln(2)

    if report.clarifications:
        pdf.heading("Clarifications")
        for item in report.clarifications:
            pdf.paragraph(f"About {', '.join(item.criteria)}", size=9, bold=True)
            pdf.paragraph(f"Question: {item.question}", size=8.5)
            pdf.paragraph(f"Answer: {item.answer or 'not answered'}", size=8.5)
            pdf.ln(1)

    pdf.ln(4)
    pdf.set_text_color(*_GREY)
    pdf.paragraph(
        f"Generated from the technical review of application {report.application_id} "
        f"({report.format}). Reviewers are named by role only. The certification committee "
        "decides on the basis of this report.",
        size=7.5,
    )
    return bytes(pdf.output())
