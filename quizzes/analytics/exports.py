"""CSV exports for instructors: learners' results and item statistics.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some also after
a leading tab or carriage return) as a formula, so a quiz title or an email address could
run one when the file is opened ("CSV injection"). Every text cell that starts with one of
those characters is written with a leading apostrophe, which spreadsheets show as text.
Numbers that Skillmap computes (scores, statistics) are written as numbers: they cannot
hold a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from quizzes.analytics.itemstats import ItemStats, item_statistics
from quizzes.models import Attempt, AttemptStatus, Quiz, Stage

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

RESULTS_HEADER = [
    "learner_email",
    "quiz",
    "quiz_slug",
    "attempt_number",
    "submitted_at",
    "graded_at",
    "score",
    "max_score",
    "percent",
    "passed",
]

ITEMS_HEADER = [
    "item",
    "title",
    "type",
    "stage",
    "topic",
    "version",
    "status",
    "n",
    "facility",
    "sd",
    "discrimination_item_rest",
    "full_marks",
    "irt",
    "a",
    "se_a",
    "b",
    "se_b",
    "fit_rmsd",
    "flags",
    "answers_to_current_version",
    "no_pick",
    "picks",
]


def cell(value: Any) -> Any:
    """A value as a safe CSV cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def results_rows(*, quiz: Quiz | None = None) -> Iterator[list[Any]]:
    """The header, then one row per graded attempt, oldest grading first (streamed)."""
    yield RESULTS_HEADER
    attempts = Attempt.objects.filter(status=AttemptStatus.GRADED)
    if quiz is not None:
        attempts = attempts.filter(quiz=quiz)
    rows = attempts.order_by("graded_at", "pk").values_list(
        "learner__email",
        "quiz__title",
        "quiz__slug",
        "number",
        "submitted_at",
        "graded_at",
        "score",
        "max_score",
        "passed",
    )
    for email, title, slug, number, submitted, graded, score, max_score, passed in rows.iterator(
        chunk_size=2000
    ):
        percent = (
            round(float(score) * 100 / float(max_score), 2)
            if score is not None and max_score
            else None
        )
        yield [
            cell(email if email is not None else "(deleted account)"),
            cell(title),
            cell(slug),
            number,
            cell(submitted),
            cell(graded),
            cell(score),
            cell(max_score),
            cell(percent),
            cell(passed),
        ]


def _picks(row: ItemStats) -> str:
    return "; ".join(
        f"{c.option.text}{' (correct)' if c.option.correct else ''}: {c.picks}" for c in row.choices
    )


def item_rows(stats: Iterable[ItemStats]) -> Iterator[list[Any]]:
    """The header, then one row per item with every statistic of ``ItemStats``."""
    yield ITEMS_HEADER
    for row in stats:
        item = row.item
        version = item.current_version
        yield [
            cell(item.slug),
            cell(version.title if version else ""),
            cell(item.get_type_display()),
            item.stage.number,
            cell(item.topic.title),
            version.number if version else None,
            cell(item.get_status_display()),
            row.n,
            cell(_round(row.facility)),
            cell(_round(row.sd)),
            cell(_round(row.discrimination)),
            row.full_marks,
            "calibrated" if row.calibrated else "provisional",
            cell(_round(row.a)),
            cell(_round(row.se_a)),
            cell(_round(row.b)),
            cell(_round(row.se_b)),
            cell(_round(row.fit)),
            cell("; ".join(flag.value for flag in row.flags)),
            row.choice_answers if row.has_choices else "",
            row.blank if row.has_choices else "",
            cell(_picks(row)),
        ]


def item_statistics_rows(*, stage: Stage | None = None) -> Iterator[list[Any]]:
    return item_rows(item_statistics(stage=stage))


class _Echo:
    """A file-like object whose ``write`` returns the line, for streaming ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
