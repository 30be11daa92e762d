"""The line above a submission's test outcomes: green when every test passed, never red
(a count of passed tests is not an error; each test's own tag shows how it went)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template.loader import render_to_string


def outcome(passed: bool, category: str) -> dict[str, Any]:
    return {"name": "t", "visible": False, "passed": passed, "category": category,
            "category_label": category.replace("_", " ")}  # fmt: skip


def summary_classes(message: str, score: float, outcomes: list[dict[str, Any]]) -> set[str]:
    submission = {"pending": False, "failed": False, "message": message, "score": score,
                  "outcomes": outcomes}  # fmt: skip
    html = render_to_string("quizzes/_submission_outcomes.html", {"submission": submission})
    found = re.search(r'<p class="([^"]*)">' + re.escape(message), html)
    assert found is not None, html
    return set(found.group(1).split())


@pytest.mark.parametrize(
    ("message", "score", "outcomes", "colour"),
    [
        ("2 of 3 tests passed.", 2 / 3,
         [outcome(True, "passed"), outcome(True, "passed"), outcome(False, "wrong_answer")], None),
        ("0 of 1 tests passed.", 0.0, [outcome(False, "timeout")], None),
        ("2 of 2 tests passed.", 1.0, [outcome(True, "passed")] * 2, "status-ok"),
        ("SyntaxError on line 1: invalid syntax", 0.0, [outcome(False, "not_run")] * 2, None),
    ],
)  # fmt: skip
def test_the_summary_is_green_when_all_passed_and_never_red(
    message: str, score: float, outcomes: list[dict[str, Any]], colour: str | None
) -> None:
    classes = summary_classes(message, score, outcomes)
    assert classes - {"outcome-summary"} == ({colour} if colour else set())
