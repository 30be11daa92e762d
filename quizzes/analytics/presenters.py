"""Shapes for the pages' charts and links, computed once here so the templates only place
them: the dashboard's chart (positions on the 0 to 300 scale), a quiz's score histogram,
and the heatmap's sort headers and page links."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from quizzes.analytics.selectors import SORT_EMAIL, Heatmap, StageSkill
from quizzes.skill import LEVEL_CUTS, SCORE_MAX, SCORE_MIN, to_score

CHART_LEFT = 230  # room for the stage names
CHART_WIDTH = 420
ROW_HEIGHT = 34
CHART_TOP = 30


@dataclass(frozen=True)
class ChartRow:
    row: StageSkill
    y: int
    x: float | None
    x_low: float | None
    band_width: float | None
    spark: str  # SVG polyline points of the score history ("" with fewer than two)


@dataclass(frozen=True)
class Chart:
    rows: list[ChartRow]
    ticks: list[tuple[float, int]]
    cuts: list[tuple[float, str]]
    width: int
    height: int
    left: int
    right: int


def _x(score: int) -> float:
    span = SCORE_MAX - SCORE_MIN
    return round(CHART_LEFT + CHART_WIDTH * (score - SCORE_MIN) / span, 1)


def skill_chart(rows: list[StageSkill]) -> Chart:
    chart_rows = []
    for index, row in enumerate(rows):
        y = CHART_TOP + index * ROW_HEIGHT + ROW_HEIGHT // 2
        spark = sparkline(row.history)
        if row.score is None or row.low is None or row.high is None:
            chart_rows.append(ChartRow(row, y, None, None, None, spark))
        else:
            low = _x(row.low)
            chart_rows.append(
                ChartRow(row, y, _x(row.score), low, round(_x(row.high) - low, 1), spark)
            )
    ticks = [(_x(s), s) for s in range(SCORE_MIN, SCORE_MAX + 1, 50)]
    cuts = [
        (_x(to_score(theta)), level.label) for level, theta in LEVEL_CUTS if math.isfinite(theta)
    ]
    return Chart(
        rows=chart_rows,
        ticks=ticks,
        cuts=cuts,
        width=CHART_LEFT + CHART_WIDTH + 120,
        height=CHART_TOP + len(rows) * ROW_HEIGHT + 30,
        left=CHART_LEFT,
        right=CHART_LEFT + CHART_WIDTH,
    )


def sparkline(points: Sequence[tuple[object, int]], *, width: int = 90, height: int = 24) -> str:
    """SVG polyline points for a stage's score history (empty with fewer than two)."""
    if len(points) < 2:
        return ""
    n = len(points) - 1
    span = SCORE_MAX - SCORE_MIN
    return " ".join(
        f"{round(i * width / n, 1)},{round(height - height * (s - SCORE_MIN) / span, 1)}"
        for i, (_, s) in enumerate(points)
    )


# --- a quiz's score distribution --------------------------------------------------------
HIST_WIDTH = 300
HIST_HEIGHT = 110
HIST_TOP = 14  # room for the counts above the bars
HIST_AXIS = 16  # room for the bin labels below


@dataclass(frozen=True)
class Bar:
    label: str  # "10-20 %"
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Histogram:
    bars: list[Bar]
    total: int
    width: int
    height: int
    baseline: int
    ticks: list[tuple[float, str, str]]  # x, text-anchor, label under the axis
    description: str  # the text alternative: every bin and its count


def bin_labels(bins: int) -> list[str]:
    step = 100 // bins
    return [f"{k * step}\N{EN DASH}{(k + 1) * step} %" for k in range(bins)]


def histogram(counts: Sequence[int]) -> Histogram:
    """Bars for counts per equal bin of 0 to 100 %, scaled to the largest bin."""
    labels = bin_labels(len(counts))
    tallest = max(counts, default=0) or 1
    slot = HIST_WIDTH / max(1, len(counts))
    plot = HIST_HEIGHT - HIST_TOP - HIST_AXIS
    baseline = HIST_HEIGHT - HIST_AXIS
    bars = []
    for k, (label, count) in enumerate(zip(labels, counts, strict=True)):
        height = round(plot * count / tallest, 1)
        bars.append(
            Bar(
                label=label,
                count=count,
                x=round(k * slot + 2, 1),
                y=round(baseline - height, 1),
                width=round(slot - 4, 1),
                height=height,
                label_x=round(k * slot + slot / 2, 1),
            )
        )
    total = sum(counts)
    description = f"{total} graded attempt{'s' if total != 1 else ''} by score: " + "; ".join(
        f"{bar.label}: {bar.count}" for bar in bars
    )
    ticks = [
        (0.0, "start", "0 %"),
        (HIST_WIDTH / 2, "middle", "50 %"),
        (HIST_WIDTH, "end", "100 %"),
    ]
    return Histogram(bars, total, HIST_WIDTH, HIST_HEIGHT, baseline, ticks, description)


# --- the heatmap's headers and links ----------------------------------------------------
@dataclass(frozen=True)
class SortHeader:
    label: str
    title: str
    query: str  # the query string that sorts by this column (toggling the order)
    aria_sort: str | None  # "ascending" / "descending" on the sorted column


@dataclass(frozen=True)
class HeatmapLinks:
    email: SortHeader
    stages: list[SortHeader]
    sort_label: str
    previous: str | None
    next: str | None
    clear: str


def _query(sort: str, descending: bool, search: str, page: int | None = None) -> str:
    params: dict[str, str | int] = {"sort": sort}
    if descending:
        params["order"] = "desc"
    if search:
        params["q"] = search
    if page is not None and page > 1:
        params["page"] = page
    return "?" + urlencode(params)


def heatmap_links(heatmap: Heatmap) -> HeatmapLinks:
    """Sort links (a second click on the sorted column reverses it; stages sort highest
    first on the first click) and the pages' links, keeping the filter."""

    def header(key: str, label: str, title: str, first_descending: bool) -> SortHeader:
        current = heatmap.sort == key
        descending = not heatmap.descending if current else first_descending
        aria = ("descending" if heatmap.descending else "ascending") if current else None
        return SortHeader(label, title, _query(key, descending, heatmap.search), aria)

    page = heatmap.page
    stage_of = {Heatmap.stage_key(s): s for s in heatmap.stages}
    sorted_stage = stage_of.get(heatmap.sort)
    what = f"stage {sorted_stage.number}" if sorted_stage else "email"
    return HeatmapLinks(
        email=header(SORT_EMAIL, "Learner", "Sort by email", False),
        stages=[header(Heatmap.stage_key(s), str(s.number), s.title, True) for s in heatmap.stages],
        sort_label=f"{what}, {'descending' if heatmap.descending else 'ascending'}",
        previous=_query(heatmap.sort, heatmap.descending, heatmap.search, page.number - 1)
        if page.has_previous()
        else None,
        next=_query(heatmap.sort, heatmap.descending, heatmap.search, page.number + 1)
        if page.has_next()
        else None,
        clear=_query(heatmap.sort, heatmap.descending, ""),
    )
