"""Short-text answers compare normalised: the forms a learner who knows the answer types
(case, spacing, backticks, quotes, a final full stop) all score, and the pattern sees the
same normalised text."""

from __future__ import annotations

from typing import Any

import pytest

from quizzes.itemtypes import handler_for
from quizzes.itemtypes.short_text import normalize_text

SHORT = handler_for("short_text")


def score(typed: str, **fields: Any) -> float:
    data = SHORT.build_data({"accepted": ["Retry-After"], **fields})
    answer = SHORT.clean_answer({"text": typed}, {})
    return SHORT.score(data, SHORT.to_item_ids(answer, {}))


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("Retry-After", "retry-after"),
        ("  RETRY-after  ", "retry-after"),
        ("`Retry-After`", "retry-after"),
        ("`Retry-After`.", "retry-after"),
        ('"Retry-After"', "retry-after"),
        ("'Retry-After'!", "retry-after"),
        ("\u201cRetry-After\u201d", "retry-after"),
        ("Retry-After;", "retry-after"),
        ("Retry-After:", "retry-after"),
        ('"`Retry-After`."', "retry-after"),
        ("third   normal\tform.", "third normal form"),
        ("O'Reilly", "o'reilly"),
        # Only a matched pair wraps an answer: a quote that closes a value inside stays.
        ('first: 20, after: "Y3Vy"', 'first: 20, after: "y3vy"'),
        ('"after: "Y3Vy""', 'after: "y3vy"'),
        ("12, 0", "12, 0"),
        ("...", ""),
        ("``", ""),
    ],
)
def test_answers_are_normalised(typed: str, normal: str) -> None:
    assert normalize_text(typed) == normal


@pytest.mark.parametrize(
    "typed",
    [
        "Retry-After",
        "retry-after",
        "`Retry-After`",
        '"Retry-After".',
        "  RETRY-AFTER ,",
        "'retry-after'",
    ],
)
def test_the_forms_a_correct_learner_types_score(typed: str) -> None:
    assert score(typed) == 1.0


@pytest.mark.parametrize("typed", ["Retry", "Retry After", "Retry-After header", "", "`", "."])
def test_other_answers_do_not(typed: str) -> None:
    assert score(typed) == 0.0


def test_the_pattern_is_matched_against_the_normalised_text() -> None:
    # The pattern need not allow for backticks, quotes or a full stop itself.
    fields = {"accepted": ["saga"], "pattern": r"(the\s+)?sagas?(\s+pattern)?"}
    assert score("`The Saga Pattern`.", **fields) == 1.0
    assert score('"sagas"', **fields) == 1.0
    assert score("saga orchestration", **fields) == 0.0


def test_an_accepted_answer_that_normalises_to_nothing_is_refused() -> None:
    [problem] = SHORT.check_bank({"accepted": ["ok", '"..."']})
    assert "the accepted answer '\"...\"' is empty once normalised" in problem


def test_samples_are_scored_by_the_type() -> None:
    item = {
        "accepted": ["Retry-After"],
        "samples": {"accept": ["`Retry-After`.", '"retry-after"'], "reject": ["Retry"]},
    }
    assert SHORT.check_bank(item) == []
    item["samples"] = {"accept": ["Retry After"], "reject": ["RETRY-AFTER."]}
    assert SHORT.check_bank(item) == [
        "sample 'Retry After' is not accepted (scores 0)",
        "sample 'RETRY-AFTER.' is accepted (scores 1)",
    ]
