"""Pure comparison and scoring functions (no I/O, no Django).

Values compared here are JSON values as reported by the harness: ``None``, ``bool``,
``int``, ``float`` (possibly NaN/inf), ``str``, ``list`` and string-keyed ``dict``.
Tuples are accepted as lists so that callers can pass Python values directly.

Rules:
- ``bool`` is not a number: ``True`` never equals ``1``.
- ``int`` and ``float`` compare numerically; NaN equals NaN (an expectation of NaN means
  "returns NaN"), infinities equal themselves.
- Without a tolerance, floats compare with a relative tolerance of 1e-9 (representation
  noise only); with one, ``abs(actual - expected) <= tolerance``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = [
    "DEFAULT_REL_TOLERANCE",
    "rows_equal",
    "values_equal",
    "weighted_score",
]

DEFAULT_REL_TOLERANCE = 1e-9
_MAX_DEPTH = 100


class _Weighted(Protocol):
    @property
    def weight(self) -> float: ...

    @property
    def passed(self) -> bool: ...


def values_equal(actual: Any, expected: Any, tolerance: float | None = None) -> bool:
    """True when a reported value matches an expectation under the rules above."""
    try:
        # Fast path: identical JSON text is equal under every rule above (JSON tells
        # true from 1 and 1 from 1.0; tuples serialise as lists).
        if json.dumps(actual, allow_nan=True) == json.dumps(expected, allow_nan=True):
            return True
    except (TypeError, ValueError):
        pass
    return _equal(actual, expected, tolerance, 0)


def _equal(actual: Any, expected: Any, tolerance: float | None, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is bool and type(expected) is bool and actual == expected
    if _is_number(expected):
        return _is_number(actual) and numbers_equal(actual, expected, tolerance)
    if expected is None:
        return actual is None
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return False
        return all(
            _equal(a, e, tolerance, depth + 1) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or actual.keys() != expected.keys():
            return False
        return all(_equal(actual[key], expected[key], tolerance, depth + 1) for key in expected)
    return False


def numbers_equal(actual: float, expected: float, tolerance: float | None = None) -> bool:
    if isinstance(actual, int) and isinstance(expected, int):
        if tolerance is None:
            return actual == expected
        return abs(actual - expected) <= tolerance
    try:
        a, e = float(actual), float(expected)
    except OverflowError:  # an int too large for a float: compare exactly
        return bool(actual == expected)
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    if math.isinf(e) or math.isinf(a):
        return a == e
    if tolerance is None:
        return math.isclose(a, e, rel_tol=DEFAULT_REL_TOLERANCE, abs_tol=0.0)
    return abs(a - e) <= tolerance


def rows_equal(
    actual: list[list[Any]],
    expected: list[list[Any]],
    *,
    ordered: bool,
    tolerance: float = DEFAULT_REL_TOLERANCE,
) -> bool:
    """Compare SQL result rows: as sequences when ``ordered``, else as multisets."""
    if len(actual) != len(expected):
        return False
    if not ordered:
        actual = sorted(actual, key=_row_sort_key)
        expected = sorted(expected, key=_row_sort_key)
    for actual_row, expected_row in zip(actual, expected, strict=True):
        if len(actual_row) != len(expected_row):
            return False
        for a, e in zip(actual_row, expected_row, strict=True):
            if _is_number(a) and _is_number(e):
                if not _sql_numbers_equal(a, e, tolerance):
                    return False
            elif not values_equal(a, e):
                return False
    return True


def _sql_numbers_equal(a: float, e: float, tolerance: float) -> bool:
    # SQLite happily returns 3 for one query and 3.0 for an equivalent one.
    if isinstance(a, int) and isinstance(e, int):
        return a == e
    return math.isclose(float(a), float(e), rel_tol=tolerance, abs_tol=tolerance)


def _row_sort_key(row: Iterable[Any]) -> tuple[tuple[int, Any], ...]:
    # A total order over mixed SQLite values; floats are rounded so that values equal
    # within tolerance sort to the same place.
    key: list[tuple[int, Any]] = []
    for value in row:
        if value is None:
            key.append((0, 0))
        elif _is_number(value):
            number = float(value)
            key.append((1, 0.0 if math.isnan(number) else float(f"{number:.9g}")))
        elif isinstance(value, str):
            key.append((2, value))
        else:
            key.append((3, repr(value)))
    return tuple(key)


def weighted_score(outcomes: Iterable[_Weighted]) -> float:
    """Weight-weighted fraction of passed outcomes, in [0, 1]; 0 when nothing ran."""
    total = 0.0
    passed = 0.0
    for outcome in outcomes:
        total += outcome.weight
        if outcome.passed:
            passed += outcome.weight
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, passed / total))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
