"""Numeric answers with an absolute or relative tolerance, and an optional unit."""

from __future__ import annotations

import math
import re
from typing import Any

from rest_framework import serializers

from quizzes.itemtypes.base import (
    Answer,
    AnswerError,
    AnswerSerializer,
    Data,
    ItemTypeHandler,
    Layout,
)
from quizzes.models import ItemType

_NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# What a person types as a number fits easily; longer text is refused, never truncated.
MAX_NUMBER_CHARS = 100
_ENTER_A_NUMBER = "Enter a number, such as 42 or 0.25."
_TOO_LONG = f"Enter a number of at most {MAX_NUMBER_CHARS} characters."
_TOO_LARGE = "Enter a number between -1e308 and 1e308."


def number_text(value: Any) -> str:
    """A number as typed (text, or a JSON number), bounded in length; raises AnswerError."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise AnswerError(_ENTER_A_NUMBER)
    # Bounded before ``str``: an integer of over 4300 digits cannot even be printed.
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_CHARS * 4:
        raise AnswerError(_TOO_LONG)
    text = str(value).strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise AnswerError(_TOO_LONG)
    return text


def parse_number(text: Any) -> float:
    """Accept what people type: '1,000.5', ' 12 ', '1e3'; reject anything else."""
    if isinstance(text, bool):
        raise AnswerError("Enter a number.")
    if isinstance(text, int | float):
        try:
            value = float(text)
        except OverflowError as exc:  # an integer beyond the largest float
            raise AnswerError(_TOO_LARGE) from exc
    else:
        cleaned = str(text).strip().replace(",", "").replace("_", "")
        if len(cleaned) > MAX_NUMBER_CHARS:
            raise AnswerError(_TOO_LONG)
        if not _NUMBER_RE.fullmatch(cleaned):
            raise AnswerError(_ENTER_A_NUMBER)
        value = float(cleaned)
    if not math.isfinite(value):
        raise AnswerError(_TOO_LARGE)
    return value


class NumberTextField(serializers.Field[str, str, Any, Any]):
    """What a person typed as a number, kept as text; empty means "no answer yet"."""

    def to_internal_value(self, data: Any) -> str:
        if data is None or data == "":
            return ""
        try:
            text = number_text(data)
            parse_number(data if isinstance(data, int | float) else text)
        except AnswerError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return text

    def to_representation(self, value: str) -> str:
        return value


class NumericAnswer(AnswerSerializer):
    value = NumberTextField(required=False, default="", allow_null=True)


class Numeric(ItemTypeHandler):
    type = ItemType.NUMERIC
    bank_keys = frozenset({"answer", "tolerance", "relative_tolerance", "unit", "samples"})
    answer_serializer = NumericAnswer
    question_template = "quizzes/itemtypes/numeric.html"
    review_template = "quizzes/itemtypes/numeric_review.html"

    def check_bank(self, item: dict[str, Any]) -> list[str]:
        answer = item.get("answer")
        if (
            not isinstance(answer, int | float)
            or isinstance(answer, bool)
            or not math.isfinite(answer)
        ):
            return ["'answer' must be a finite number"]
        absolute, relative = item.get("tolerance"), item.get("relative_tolerance")
        if (absolute is None) == (relative is None):
            return ["give exactly one of 'tolerance' (absolute) or 'relative_tolerance'"]
        tol = absolute if absolute is not None else relative
        if not isinstance(tol, int | float) or isinstance(tol, bool) or tol < 0:
            return ["the tolerance must be a number ≥ 0"]
        if relative is not None and relative >= 0.5:
            return ["'relative_tolerance' must be below 0.5 (it is a fraction, e.g. 0.01)"]
        if absolute is not None and answer != 0 and absolute >= abs(answer):
            return ["'tolerance' is as large as the answer itself: any guess near 0 would pass"]
        return self.check_samples(item, "value")

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "answer": float(item["answer"]),
            "tolerance": item.get("tolerance"),
            "relative_tolerance": item.get("relative_tolerance"),
            "unit": item.get("unit", ""),
        }

    def score(self, data: Data, answer: Answer) -> float:
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

    def key_answer(self, data: Data) -> Answer:
        return {"value": repr(float(data["answer"]))}

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        return {"unit": data.get("unit", "")}

    def key_display(self, data: Data) -> dict[str, Any]:
        tol = (
            f"± {data['tolerance']:g}"
            if data.get("tolerance") is not None
            else f"± {data['relative_tolerance'] * 100:g}%"
        )
        return {"value": f"{data['answer']:g} {data.get('unit') or ''}".strip(), "tolerance": tol}
