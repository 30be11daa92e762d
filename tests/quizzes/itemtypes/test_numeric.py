"""Numeric answers: what a learner who knows the answer types is read as that number, a
different unit is a wrong answer, and junk is still refused when saved."""

from __future__ import annotations

import random
from typing import Any

import pytest

from quizzes.itemtypes import AnswerError, handler_for
from quizzes.itemtypes.numeric import MAX_NUMBER_CHARS, TIMES, parse_number, parse_quantity

NUMERIC = handler_for("numeric")


def entry(**fields: Any) -> dict[str, Any]:
    return {"answer": 250, "tolerance": 0.5, "unit": "ms", **fields}


def score(typed: str, **fields: Any) -> float:
    data = NUMERIC.build_data(entry(**fields))
    layout = NUMERIC.layout(data, random.Random(0), shuffle=False)
    answer = NUMERIC.clean_answer({"value": typed}, layout)
    return NUMERIC.score(data, NUMERIC.to_item_ids(answer, layout))


@pytest.mark.parametrize(
    ("typed", "number", "unit"),
    [
        ("250", 250, ""),
        (" 250 ", 250, ""),
        ("250.", 250, ""),
        ("`250`", 250, ""),
        ("`250`.", 250, ""),
        ("250 ms", 250, "ms"),
        ("250ms", 250, "ms"),
        ("250 MS", 250, "MS"),
        ("`250 ms`", 250, "ms"),
        ("`250 ms.`", 250, "ms"),
        ("`250` ms", 250, "ms"),
        ("250 ms.", 250, "ms"),
        ("1,000.5", 1000.5, ""),
        ("1,000,000 requests", 1_000_000, "requests"),
        ("1_000", 1000, ""),
        ("1e3", 1000, ""),
        ("2.5e-3 s", 0.0025, "s"),
        ("-12", -12, ""),
        ("\u221212", -12, ""),
        (".5", 0.5, ""),
        ("12.5%", 12.5, "%"),
        ("12.5 %", 12.5, "%"),
        (f"3{TIMES}", 3, TIMES),
        ("40 requests/s", 40, "requests/s"),
        ("9.81 m/s^2", 9.81, "m/s^2"),
        ("20 °C", 20, "°C"),
        ("100 requests per second", 100, "requests per second"),
    ],
)
def test_what_people_type_is_read_as_a_number_and_a_unit(
    typed: str, number: float, unit: str
) -> None:
    assert parse_quantity(typed) == (pytest.approx(number), unit)
    assert parse_number(typed) == pytest.approx(number)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        " ",
        ".",
        "``",
        "twelve",
        "ms",
        "NaN",
        "inf",
        "-Infinity",
        "0x10",
        "12 34",
        "10 000",
        "1,5",
        "10,00",
        "1,0,0",
        "12; drop table",
        "12 ms ms ms ms",
        "12 (ms)",
        "12...",
        "`12",
        "12 " + "m" * 31,
        "$12",
    ],
)
def test_junk_is_not_a_number(typed: str) -> None:
    with pytest.raises(AnswerError, match="Enter a number"):
        parse_quantity(typed)


@pytest.mark.parametrize("typed", ["1e999", "-1e400", 10**400, "9" * 400])
def test_numbers_beyond_a_float_or_too_long_are_refused(typed: Any) -> None:
    with pytest.raises(AnswerError, match="Enter a number"):
        NUMERIC.clean_answer({"value": typed}, {})


@pytest.mark.parametrize(
    "typed", ["250", "250 ms", "250ms", "250 MS", "250 Ms.", "`250 ms`", "`250`", "250.2 ms"]
)
def test_the_right_number_in_the_items_unit_scores_full_marks(typed: str) -> None:
    assert score(typed) == 1.0


@pytest.mark.parametrize("typed", ["250 s", "0.25 s", "250 us", "250 msec", "251 ms", "25"])
def test_another_unit_or_number_is_saved_but_scores_nothing(typed: str) -> None:
    # Saved (no "Enter a number"), then scored wrong.
    assert NUMERIC.clean_answer({"value": typed}, {}) == {"value": typed}
    assert score(typed) == 0.0


def test_a_percentage_is_a_unit_like_any_other() -> None:
    assert score("12.5%", answer=12.5, unit="%") == 1.0
    assert score("12.5 %", answer=12.5, unit="%") == 1.0
    assert score("12.5", answer=12.5, unit="%") == 1.0
    assert score("12.5 percent", answer=12.5, unit="%") == 0.0


def test_a_unit_on_an_item_without_one_is_a_different_unit() -> None:
    assert score("250", unit="") == 1.0
    assert score("250 ms", unit="") == 0.0


def test_times_is_written_either_way() -> None:
    assert score("3x", answer=3, unit=TIMES) == 1.0
    assert score(f"3 {TIMES}", answer=3, unit=TIMES) == 1.0


def test_the_saved_text_is_what_was_typed_and_junk_is_still_refused() -> None:
    assert NUMERIC.clean_answer({"value": " 250 ms "}, {}) == {"value": "250 ms"}
    assert NUMERIC.clean_answer({"value": 250}, {}) == {"value": "250"}
    assert NUMERIC.clean_answer({"value": ""}, {}) == {"value": ""}
    with pytest.raises(AnswerError, match="Enter a number") as refused:
        NUMERIC.clean_answer({"value": "250 ms; rm"}, {})
    assert refused.value.field == "value"
    with pytest.raises(AnswerError, match=f"at most {MAX_NUMBER_CHARS} characters"):
        NUMERIC.clean_answer({"value": "1" * (MAX_NUMBER_CHARS + 1)}, {})


@pytest.mark.parametrize("unit", ["ms", "%", TIMES, "MiB", "requests/s", "requests per second"])
def test_a_typeable_unit_is_a_valid_bank_unit(unit: str) -> None:
    assert NUMERIC.check_bank(entry(unit=unit)) == []


@pytest.mark.parametrize("unit", [5, "ms (milliseconds)", "x10", "12h", "a b c d"])
def test_a_unit_nobody_can_type_after_the_number_is_refused(unit: Any) -> None:
    [problem] = NUMERIC.check_bank(entry(unit=unit))
    assert "'unit' must be what a learner can type" in problem


def test_samples_are_scored_by_the_type() -> None:
    fine = {"accept": ["250 ms", "`250`", "250MS.", "250"], "reject": ["250 s", "25 ms"]}
    assert NUMERIC.check_bank(entry(samples=fine)) == []
    wrong = {"accept": ["0.25 s"], "reject": ["250 ms"]}
    assert NUMERIC.check_bank(entry(samples=wrong)) == [
        "sample '0.25 s' is not accepted (scores 0)",
        "sample '250 ms' is accepted (scores 1)",
    ]
