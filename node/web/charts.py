"""Charts drawn by the server as SVG: no script, no outside library, readable without sight.

Each chart carries its own `<title>` and `<desc>` (named by `aria-labelledby`), and the page
shows a table beside it with the same numbers: the chart is a picture of the table, never the
only place a figure is. Colours come from CSS classes (`chart-series-N`), so the style sheet
decides them and the CSP needs no inline style.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final
from unicodedata import east_asian_width

from markupsafe import Markup, escape

BAR_HEIGHT: Final = 18
BAR_GAP: Final = 6
LABEL_WIDTH: Final = 120
PLOT_WIDTH: Final = 360
VALUE_WIDTH: Final = 80
COLUMN_PLOT_HEIGHT: Final = 180
COLUMN_STEP: Final = 40
# Column labels are drawn slanted (45 degrees) so long ones (a stage's name) do not overlap;
# the room they take is reckoned from their length: about this many units per character of the
# 11-unit label font, twice as many for a wide (Chinese) one.
LABEL_CHAR_WIDTH: Final = 6.5
WIDE_CHAR_WIDTH: Final = 11.0
SLANT: Final = 0.71  # sin 45 degrees


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as the reader's locale writes it


@dataclass(frozen=True)
class Column:
    """One column of a stacked chart: its parts in the order of the chart's series."""

    label: str
    parts: tuple[float, ...]


def _drawn_length(label: str) -> float:
    return sum(
        WIDE_CHAR_WIDTH if east_asian_width(char) in "WF" else LABEL_CHAR_WIDTH for char in label
    )


def _frame(*, chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        '<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
        # The drawing's coordinates run left to right whatever the page's direction: in an
        # Arabic page an inherited `rtl` would run each label back over its bar or swatch.
        'direction="ltr" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(id=chart_id, w=width, h=height, title=title, desc=desc, body=Markup(body))  # noqa: S704


def bar_chart(*, chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per row, scaled to the largest value."""
    largest = max((bar.value for bar in bars), default=0) or 1
    parts: list[str] = []
    for index, bar in enumerate(bars):
        y = index * (BAR_HEIGHT + BAR_GAP)
        length = round(PLOT_WIDTH * max(bar.value, 0) / largest, 1)
        middle = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{middle}" '
            f'text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="chart-series-0" x="{LABEL_WIDTH}" y="{y}" width="{length}" '
            f'height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 4}" y="{middle}">'
            f"{escape(bar.shown)}</text>"
        )
    height = max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP)
    return _frame(
        chart_id=chart_id,
        title=title,
        desc=desc,
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=height,
        body="".join(parts),
    )


def stacked_columns(
    *,
    chart_id: str,
    title: str,
    desc: str,
    columns: Sequence[Column],
    series: Sequence[str],
    number: Callable[[float], str],
) -> Markup:
    """Columns stacked from their parts (one colour per series), with a legend below."""
    largest = max((sum(column.parts) for column in columns), default=0) or 1
    label_room = round(max((_drawn_length(c.label) for c in columns), default=0) * SLANT)
    width = max(len(columns), 1) * COLUMN_STEP + 60 + label_room
    parts: list[str] = [
        f'<text class="chart-value" x="0" y="12">{escape(number(largest))}</text>',
        f'<line class="chart-axis" x1="56" y1="{COLUMN_PLOT_HEIGHT}" x2="{width}" '
        f'y2="{COLUMN_PLOT_HEIGHT}"/>',
    ]
    for index, column in enumerate(columns):
        x = 60 + index * COLUMN_STEP
        top = float(COLUMN_PLOT_HEIGHT)
        for serie, value in enumerate(column.parts):
            height = round(COLUMN_PLOT_HEIGHT * value / largest, 1)
            top -= height
            if height:
                parts.append(
                    f'<rect class="chart-series-{serie}" x="{x}" y="{round(top, 1)}" '
                    f'width="28" height="{height}"/>'
                )
        label_x, label_y = x + 10, COLUMN_PLOT_HEIGHT + 12
        parts.append(
            f'<text class="chart-label" x="{label_x}" y="{label_y}" '
            f'transform="rotate(45 {label_x} {label_y})">{escape(column.label)}</text>'
        )
    legend_top = COLUMN_PLOT_HEIGHT + 12 + label_room + 8
    for serie, name in enumerate(series):
        y = legend_top + serie * 20
        parts.append(
            f'<rect class="chart-series-{serie}" x="60" y="{y}" width="14" height="14"/>'
            f'<text class="chart-label" x="80" y="{y + 12}">{escape(name)}</text>'
        )
    return _frame(
        chart_id=chart_id,
        title=title,
        desc=desc,
        width=max(width, 360),
        height=legend_top + len(series) * 20,
        body="".join(parts),
    )
