"""Numeric answers with an absolute or relative tolerance, and an optional unit.

What a learner types is read the way a person writes a number (see ``parse_quantity``):
thousands separators, surrounding backticks, a final full stop and a unit after the number
are all fine. The unit, when given, must be the item's own (compared case-insensitively,
spaces ignored); any other unit makes the answer wrong, never unreadable.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from django import forms
from rest_framework import serializers

from quizzes.itemtypes.base import (
    Answer,
    AnswerError,
    AnswerSerializer,
    Data,
    ItemTypeHandler,
    Layout,
)
from quizzes.itemtypes.forms import (
    SAMPLE_RULES,
    ErrorRule,
    NumberField,
    TypeForm,
    samples_entry,
    samples_fields,
    samples_initial,
)
from quizzes.models import ItemType

# A number: digits with optional thousands separators (',' or '_' between groups of three),
# an optional fraction and exponent. '1,5' is refused rather than read as 15.
_NUMBER = r"""
    [+-]?
    (?: \d{1,3} (?: ,\d{3} )+ (?: \.\d* )?
      | \d{1,3} (?: _\d{3} )+ (?: \.\d* )?
      | \d+ \.? \d*
      | \.\d+ )
    (?: [eE][+-]?\d+ )?
"""
# A unit: up to three words of letters and unit symbols (ms, MiB, %, °C, the times sign, requests/s,
# m/s^2, requests per second). No other digits, so '0x10' or '12 34' are not a number and
# a unit; no punctuation, so '12; drop' is refused.
_UNIT_WORD = r"(?:[^\W\d_]|[%‰°\u00d7])(?:[^\W\d_]|[%‰°\u00d7/·*]|\^[+-]?\d+)*"
_UNIT = rf"{_UNIT_WORD}(?:[ ]{_UNIT_WORD}){{0,2}}"
_QUANTITY_RE = re.compile(
    rf"(?P<tick>`?)(?P<number>{_NUMBER})(?P=tick) \s* (?P<unit>{_UNIT})?", re.VERBOSE
)
_UNIT_RE = re.compile(_UNIT)
MAX_UNIT_CHARS = 30
TIMES = "\u00d7"  # the multiplication sign of "3 times faster", which people type as x
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


def _undecorated(text: str) -> str:
    """``text`` without a final full stop and surrounding backticks (in either order)."""
    text = text.strip().replace("\u2212", "-")  # a typographic minus sign
    text = text.removesuffix(".").strip()
    if len(text) >= 2 and text.startswith("`") and text.endswith("`"):
        text = text[1:-1].strip().removesuffix(".").strip()
    return text


def parse_quantity(text: Any) -> tuple[float, str]:
    """A typed answer as (number, unit as typed or ''); raises AnswerError for anything else.

    Accepts '1,000.5', ' 12 ', '1e3', '`250`', '250 ms', '250ms.', '`250 MS`', '12.5 %'.
    """
    if isinstance(text, bool):
        raise AnswerError(_ENTER_A_NUMBER)
    if isinstance(text, int | float):
        try:
            value = float(text)
        except OverflowError as exc:  # an integer beyond the largest float
            raise AnswerError(_TOO_LARGE) from exc
        unit = ""
    else:
        if len(str(text)) > MAX_NUMBER_CHARS:
            raise AnswerError(_TOO_LONG)
        match = _QUANTITY_RE.fullmatch(_undecorated(str(text)))
        if not match or len(match["unit"] or "") > MAX_UNIT_CHARS:
            raise AnswerError(_ENTER_A_NUMBER)
        value = float(match["number"].replace(",", "").replace("_", ""))
        unit = match["unit"] or ""
    if not math.isfinite(value):
        raise AnswerError(_TOO_LARGE)
    return value, unit


def parse_number(text: Any) -> float:
    """The number in what people type ('1,000.5', ' 12 ', '1e3', '250 ms'); see
    ``parse_quantity``. Raises AnswerError for anything that is not a number."""
    return parse_quantity(text)[0]


def same_unit(typed: str, unit: str) -> bool:
    """Whether a typed unit is the item's: case and spaces aside, the times sign as x."""

    def canonical(text: str) -> str:
        return "".join(text.split()).casefold().replace(TIMES, "x")

    return canonical(typed) == canonical(unit)


class NumberTextField(serializers.Field[str, str, Any, Any]):
    """What a person typed as a number, kept as text; empty means "no answer yet"."""

    def to_internal_value(self, data: Any) -> str:
        if data is None or data == "":
            return ""
        try:
            text = number_text(data)
            parse_quantity(data if isinstance(data, int | float) else text)
        except AnswerError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return text

    def to_representation(self, value: str) -> str:
        return value


class NumericAnswer(AnswerSerializer):
    value = NumberTextField(required=False, default="", allow_null=True)


def plain_number(value: float) -> str:
    """``value`` as people write it: no exponent, no trailing zeros ('1500', '0.0025')."""
    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def significant_digits(text: str) -> int:
    return len("".join(ch for ch in text if ch.isdigit()).strip("0"))


class NumericForm(TypeForm):
    """The answer, its tolerance (absolute or relative), its unit, and typed samples."""

    fields = {
        "answer": NumberField(label="Correct answer", required=False),
        "tolerance_kind": forms.ChoiceField(
            label="Tolerance is",
            choices=[("absolute", "Absolute (± this much)"), ("relative", "Relative (a fraction)")],
            widget=forms.RadioSelect,
            initial="absolute",
        ),
        "tolerance": NumberField(
            label="Tolerance",
            required=False,
            help_text="0 for an exact answer. A relative tolerance is a fraction: 0.01 is 1 %.",
        ),
        "unit": forms.CharField(
            label="Unit",
            required=False,
            max_length=MAX_UNIT_CHARS,
            help_text="Optional, such as ms, MiB or %. Learners may type it after the number.",
        ),
        **samples_fields(),
    }
    error_rules = (
        ErrorRule(r"'answer' must be", "answer", "Enter the correct answer as a number."),
        ErrorRule(r"give exactly one of", "tolerance", "Give a tolerance (0 for an exact answer)."),
        ErrorRule(
            r"the tolerance must be a number", "tolerance", "The tolerance cannot be negative."
        ),
        ErrorRule(
            r"'relative_tolerance' must be below",
            "tolerance",
            "A relative tolerance must be below 0.5 (it is a fraction: 0.01 is 1 %).",
        ),
        ErrorRule(
            r"'tolerance' is as large as the answer",
            "tolerance",
            "The tolerance is as large as the answer itself: any guess near 0 would pass.",
        ),
        ErrorRule(
            r"'unit' must be",
            "unit",
            "Write a unit a learner can type after the number: up to three words of "
            "letters or unit symbols (ms, MiB, %, requests/s).",
        ),
        *SAMPLE_RULES,
        ErrorRule(r"correct answer", "answer", "The correct answer cannot score full marks."),
    )

    def initial_from_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        relative = entry.get("relative_tolerance") is not None
        return {
            "answer": entry.get("answer"),
            "tolerance_kind": "relative" if relative else "absolute",
            "tolerance": entry.get("relative_tolerance" if relative else "tolerance"),
            "unit": entry.get("unit", ""),
            **samples_initial(entry),
        }

    def entry_fields(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        fields: dict[str, Any] = {"answer": data["answer"]}
        if data["tolerance"] is not None:
            key = "relative_tolerance" if data["tolerance_kind"] == "relative" else "tolerance"
            fields[key] = data["tolerance"]
        if data["unit"]:
            fields["unit"] = data["unit"]
        return {**fields, **samples_entry(data)}


class Numeric(ItemTypeHandler):
    type = ItemType.NUMERIC
    bank_keys = frozenset({"answer", "tolerance", "relative_tolerance", "unit", "samples"})
    typed_answer_field = "value"
    answer_serializer = NumericAnswer
    answer_example = {"value": "0.25"}
    question_template = "quizzes/itemtypes/numeric.html"
    review_template = "quizzes/itemtypes/numeric_review.html"
    authoring_form = NumericForm

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
        unit = item.get("unit", "")
        if not isinstance(unit, str) or (
            unit and (len(unit) > MAX_UNIT_CHARS or not _UNIT_RE.fullmatch(unit.strip()))
        ):
            return [
                "'unit' must be what a learner can type after the number: up to three words "
                f"of letters or unit symbols (ms, MiB, %, requests/s), at most {MAX_UNIT_CHARS} "
                "characters"
            ]
        return self.check_samples(item)

    def build_data(self, item: dict[str, Any]) -> Data:
        return {
            "answer": float(item["answer"]),
            "tolerance": item.get("tolerance"),
            "relative_tolerance": item.get("relative_tolerance"),
            "unit": item.get("unit", ""),
        }

    def score(self, data: Data, answer: Answer) -> float:
        try:
            value, unit = parse_quantity(answer.get("value"))
        except AnswerError:
            return 0.0
        if unit and not same_unit(unit, str(data.get("unit") or "")):
            return 0.0  # '250 s' for 250 ms is a wrong answer, whatever the number
        target = float(data["answer"])
        if data.get("tolerance") is not None:
            allowed = float(data["tolerance"])
        else:
            allowed = abs(target) * float(data["relative_tolerance"])
        # A hair of slack so that 0.1 + 0.2-style float noise never fails a right answer.
        return 1.0 if abs(value - target) <= allowed + 1e-9 * max(1.0, abs(target)) else 0.0

    def key_answer(self, data: Data) -> Answer:
        return {"value": repr(float(data["answer"]))}

    def answer_phrases(self, data: Data) -> list[str]:
        """The answer with its unit ('250 ms', '250ms', '1,500 ms'). A bare number, or a
        round one ('100 ms', '5 s': one significant digit), turns up in too many unrelated
        sentences to judge."""
        unit = str(data.get("unit") or "").strip()
        number = plain_number(data["answer"])
        if not unit or significant_digits(number) < 2:
            return []
        forms = {number}
        if abs(data["answer"]) >= 1000 and "." not in number:
            forms.add(f"{int(data['answer']):,}")
        return sorted({f"{n}{space}{unit}" for n in forms for space in ("", " ")})

    def learner_view(self, data: Data, layout: Layout, answer: Answer) -> dict[str, Any]:
        return {"unit": data.get("unit", "")}

    def key_display(self, data: Data) -> dict[str, Any]:
        tol = (
            f"± {data['tolerance']:g}"
            if data.get("tolerance") is not None
            else f"± {data['relative_tolerance'] * 100:g}%"
        )
        return {"value": f"{data['answer']:g} {data.get('unit') or ''}".strip(), "tolerance": tol}
