"""Scoring of objective items: pure functions of (item data, answer) → fraction in [0, 1].

Answers here use the item's own ids (choice ``c2``, sequence entry ``s1``, pair ``p3``);
the per-attempt opaque tokens the browser sees are translated before scoring.
"""

from __future__ import annotations

import math
import re
from typing import Any

from quizzes.bank.loader import normalize_text
from quizzes.models import ItemType


class AnswerError(ValueError):
    """The answer does not have the shape its item type needs."""


def score_single_choice(data: dict[str, Any], answer: dict[str, Any]) -> float:
    correct = {c["id"] for c in data["choices"] if c["correct"]}
    return 1.0 if answer.get("choice") in correct else 0.0


def score_multiple_choice(data: dict[str, Any], answer: dict[str, Any]) -> float:
    """+1/k per correct pick, -1/k per wrong pick (k = number of correct), never below 0."""
    correct = {c["id"] for c in data["choices"] if c["correct"]}
    picked = set(answer.get("choices") or [])
    k = len(correct)
    raw = (len(picked & correct) - len(picked - correct)) / k
    return max(0.0, min(1.0, raw))


def score_true_false(data: dict[str, Any], answer: dict[str, Any]) -> float:
    return 1.0 if answer.get("value") is data["answer"] else 0.0


def parse_number(text: Any) -> float:
    """Accept what people type: '1,000.5', ' 12 ', '1e3'; reject anything else."""
    if isinstance(text, bool):
        raise AnswerError("Enter a number.")
    if isinstance(text, int | float):
        value = float(text)
    else:
        cleaned = str(text).strip().replace(",", "").replace("_", "")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cleaned):
            raise AnswerError("Enter a number, such as 42 or 0.25.")
        value = float(cleaned)
    if not math.isfinite(value):
        raise AnswerError("Enter a finite number.")
    return value


def score_numeric(data: dict[str, Any], answer: dict[str, Any]) -> float:
    try:
        value = parse_number(answer.get("value"))
    except AnswerError:
        return 0.0
    target = float(data["answer"])
    if data.get("tolerance") is not None:
        allowed = float(data["tolerance"])
    else:
        allowed = abs(target) * float(data["relative_tolerance"])
    # A hair of slack so that 0.1 + 0.2-style float noise never fails a right answer.
    return 1.0 if abs(value - target) <= allowed + 1e-9 * max(1.0, abs(target)) else 0.0


def score_short_text(data: dict[str, Any], answer: dict[str, Any]) -> float:
    given = normalize_text(str(answer.get("text", "")))
    if not given:
        return 0.0
    if any(given == normalize_text(a) for a in data.get("accepted") or []):
        return 1.0
    pattern = data.get("pattern")
    if pattern and re.fullmatch(pattern, given, flags=re.IGNORECASE):
        return 1.0
    return 0.0


def score_ordering(data: dict[str, Any], answer: dict[str, Any]) -> float:
    expected = [s["id"] for s in data["sequence"]]
    return 1.0 if list(answer.get("order") or []) == expected else 0.0


def score_matching(data: dict[str, Any], answer: dict[str, Any]) -> float:
    """Fraction of left entries matched to their own right entry."""
    pairs = answer.get("pairs") or {}
    if not isinstance(pairs, dict):
        return 0.0
    right_of = {p["id"]: p["id"] for p in data["pairs"]}
    hits = sum(1 for left, right in pairs.items() if right_of.get(left) == right)
    return hits / len(data["pairs"])


_SCORERS = {
    ItemType.SINGLE_CHOICE: score_single_choice,
    ItemType.MULTIPLE_CHOICE: score_multiple_choice,
    ItemType.TRUE_FALSE: score_true_false,
    ItemType.NUMERIC: score_numeric,
    ItemType.SHORT_TEXT: score_short_text,
    ItemType.ORDERING: score_ordering,
    ItemType.MATCHING: score_matching,
}


def score_objective(item_type: str, data: dict[str, Any], answer: dict[str, Any] | None) -> float:
    if not answer:
        return 0.0
    return _SCORERS[ItemType(item_type)](data, answer)


def correct_answer_display(item_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the review page shows as the key (only ever rendered once feedback is due)."""
    if item_type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        return {"choices": [c["id"] for c in data["choices"] if c["correct"]]}
    if item_type == ItemType.TRUE_FALSE:
        return {"value": data["answer"]}
    if item_type == ItemType.NUMERIC:
        tol = (
            f"± {data['tolerance']:g}"
            if data.get("tolerance") is not None
            else f"± {data['relative_tolerance'] * 100:g}%"
        )
        return {"value": f"{data['answer']:g} {data.get('unit') or ''}".strip(), "tolerance": tol}
    if item_type == ItemType.SHORT_TEXT:
        return {"accepted": data.get("accepted") or [], "pattern": data.get("pattern")}
    if item_type == ItemType.ORDERING:
        return {"order": [s["html"] for s in data["sequence"]]}
    if item_type == ItemType.MATCHING:
        return {"pairs": [(p["left_html"], p["right_html"]) for p in data["pairs"]]}
    return {}
