"""A stage report as an HTML page and as a PDF a ministry can send.

HTML: Jinja2 with autoescaping on (city names, reasons and answers are user input), one print
stylesheet. PDF: fpdf2, pure Python, with DejaVu Sans shipped in `fonts/` (fpdf2's core fonts
are Latin-1 only; DejaVu covers Latin, Greek and Cyrillic, so city names and translated criteria
render on a machine with nothing but the Python packages installed). Both read only the stored
document, so they show exactly what was generated.

The PDF's words come in a language (`ReportWords`). Arabic is drawn right to left with DejaVu
Sans's Arabic glyphs, shaped by HarfBuzz (uharfbuzz). Chinese needs a CJK font, too large to ship
(about 20 MB): the Noto Sans CJK fonts of the operating system (Debian's `fonts-noto-cjk`) are
used when present; without them `pdf_languages()` leaves Chinese out, and the caller draws the
PDF in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from types import MappingProxyType
from typing import Final

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
CJK_FAMILY: Final = "NotoSansCJK"
# The report's languages DejaVu Sans draws by itself: Latin, Greek and Cyrillic.
PDF_LANGUAGES: Final = frozenset({"en", "fr", "es", "ru"})
RTL_LANGUAGES: Final = frozenset({"ar"})
CJK_LANGUAGES: Final = frozenset({"zh"})
# Where Debian's fonts-noto-cjk puts them: (regular, bold).
CJK_FONT_FILES: tuple[Path, Path] = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)


def _shaping_available() -> bool:
    # A dependency, but a node installed without it still draws every other language.
    return find_spec("uharfbuzz") is not None


def pdf_languages() -> frozenset[str]:
    """The languages a stage report PDF can be drawn in on this machine."""
    languages = set(PDF_LANGUAGES)
    if _shaping_available():
        languages |= RTL_LANGUAGES
    if CJK_FONT_FILES[0].is_file():
        languages |= CJK_LANGUAGES
    return frozenset(languages)


@dataclass(frozen=True)
class ReportWords:
    """The PDF's own words in one language (English by default): labels, headings and the
    sentences around the stored document. `%(name)s` placeholders are filled when drawn.

    The web pages build one from their message catalogues; the stored document itself (names,
    reasons, answers) is shown as written, and `criteria` may give the criteria's texts in the
    reader's language by code.
    """

    language: str = "en"
    node_line: str = "%(node)s · SDG Cities certification"
    title: str = "Stage report: %(city)s"
    city: str = "City"
    stage: str = "Stage"
    level: str = "Level"
    framework: str = "Framework"
    framework_value: str = "%(id)s version %(version)s"
    framework_digest: str = "Framework digest"
    unpublished: str = "unpublished"
    application: str = "Application"
    reviewers: str = "Reviewers"
    report: str = "Report"
    report_value: str = "version %(version)s, generated %(date)s UTC"
    recommended: str = "Recommended for certification"
    not_recommended: str = "Not recommended for certification"
    gaps_line: str = "Gaps to address: %(gaps)s."
    all_met: str = "Every criterion of the stage is met."
    criteria_heading: str = "Criteria"
    by: str = "By"
    verdict: str = "Verdict"
    reasons: str = "Reasons"
    consolidated: str = "consolidated"
    lead_reviewer: str = "lead reviewer"
    reviewer_n: str = "reviewer %(n)s"
    evidence_line: str = "Evidence: %(files)s"
    gaps_heading: str = "Gaps and the tools that help"
    no_tool: str = (
        "The catalogue has no tool for this criterion yet; UN-Habitat and its partners can "
        "advise (§25)."
    )
    clarifications_heading: str = "Clarifications"
    about: str = "About %(codes)s"
    question: str = "Question: %(text)s"
    answer: str = "Answer: %(text)s"
    not_answered: str = "not answered"
    footer: str = (
        "%(city)s · %(stage)s · application %(id)s · report version %(version)s · "
        "page %(page)s/%(pages)s"
    )
    closing: str = (
        "Generated from the technical review of application %(id)s (%(format)s). Reviewers are "
        "named by role only. The certification committee decides on the basis of this report."
    )
    verdicts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(VERDICTS))
    kinds: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(KINDS))
    stage_name: str | None = None  # the stage's name in this language; the document's if None
    criteria: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # A sentence above the title, e.g. why this PDF is not in the reader's language.
    note: str | None = None

    def reviewer(self, label: str) -> str:
        """A stored reviewer label ("lead reviewer", "reviewer 2") in this language."""
        if label == "lead reviewer":
            return self.lead_reviewer
        number = label.removeprefix("reviewer ")
        return self.reviewer_n % {"n": number} if number.isdigit() else label


ENGLISH: Final = ReportWords()
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


def font_path(name: str) -> Path:
    return Path(str(resources.files(_PACKAGE) / "fonts" / name))


def pdf_filename(report: StageReportDocument) -> str:
    return f"stage-report-{report.city.locode}-{report.stage.key}-v{report.version}.pdf"


def render_pdf(report: StageReportDocument, *, words: ReportWords = ENGLISH) -> bytes:
    """The report as a PDF, with its labels in `words`' language (English by default)."""
    from .pdf import draw_pdf  # imported here: see `pdf`'s docstring for why

    return draw_pdf(report, words)
