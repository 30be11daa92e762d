"""Shapes for the dashboard's chart: positions on the 0 to 300 scale, computed once here so
the template only places them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from quizzes.analytics.selectors import StageSkill
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
