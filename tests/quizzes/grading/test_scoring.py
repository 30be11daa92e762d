"""Pure comparison rules and weighted scores."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from quizzes.grading.scoring import rows_equal, values_equal, weighted_score


@pytest.mark.parametrize(
    ("actual", "expected", "tolerance", "equal"),
    [
        ((1, 2), [1, 2], None, True),  # tuples compare equal to lists
        ([(1, 2), (3,)], [[1, 2], [3]], None, True),
        ([1, 2], [2, 1], None, False),
        (True, 1, None, False),  # bool is not int
        (1, True, None, False),
        (0, False, None, False),
        (False, False, None, True),
        (3, 3.0, None, True),
        (0.1 + 0.2, 0.3, None, True),  # representation noise only
        (0.3001, 0.3, None, False),
        (0.3001, 0.3, 1e-3, True),
        (0.302, 0.3, 1e-3, False),
        (10, 11, 1, True),
        (math.nan, math.nan, None, True),
        (math.nan, 1.0, None, False),
        (1.0, math.nan, None, False),
        (math.inf, math.inf, None, True),
        (math.inf, -math.inf, None, False),
        (None, None, None, True),
        (None, 0, None, False),
        ("a", "a", None, True),
        ("1", 1, None, False),
        ({"a": [1, 2]}, {"a": (1, 2)}, None, True),
        ({"a": 1}, {"a": 1, "b": 2}, None, False),
        ([0.1 + 0.2, [1.0000001]], [0.3, [1.0]], 1e-6, True),
        (10**30, 10**30, None, True),
        (10**400, 10**400 + 1, None, False),
    ],
)
def test_values_equal(
    actual: object, expected: object, tolerance: float | None, equal: bool
) -> None:
    assert values_equal(actual, expected, tolerance) is equal


def test_rows_ordered_and_unordered() -> None:
    expected = [["ana", 10], ["bo", 5]]
    assert rows_equal([["ana", 10], ["bo", 5]], expected, ordered=True)
    assert not rows_equal([["bo", 5], ["ana", 10]], expected, ordered=True)
    assert rows_equal([["bo", 5], ["ana", 10]], expected, ordered=False)
    assert not rows_equal([["bo", 5]], expected, ordered=False)
    # multisets: duplicates count
    assert not rows_equal([["a"], ["a"], ["b"]], [["a"], ["b"], ["b"]], ordered=False)


def test_rows_compare_numbers_with_tolerance_and_types() -> None:
    assert rows_equal([[0.1 + 0.2]], [[0.3]], ordered=True)
    assert rows_equal([[3]], [[3.0]], ordered=True)
    assert not rows_equal([[3]], [["3"]], ordered=True)
    assert rows_equal([[None, 1]], [[None, 1]], ordered=False)
    assert not rows_equal([[1, 2]], [[1]], ordered=True)


@dataclass
class Outcome:
    weight: float
    passed: bool


def test_weighted_score() -> None:
    assert weighted_score([Outcome(1, True), Outcome(3, False)]) == 0.25
    assert weighted_score([Outcome(2, True), Outcome(2, True)]) == 1.0
    assert weighted_score([]) == 0.0
