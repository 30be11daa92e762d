"""Java results as the signature reads them: a record's optional field that holds null is
left out of the value compared (quizzes/grading/signature.py), not written as null."""

from __future__ import annotations

import pytest

from quizzes.grading.languages import language
from quizzes.grading.runner import grade_code
from quizzes.grading.spec import CodeChallengeSpec, spec_from_dict

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        not language("java").available(), reason="no JDK 17 (make system-deps-test)"
    ),
]

SPEC = spec_from_dict(
    "code",
    {
        "entry_point": "parse",
        "kind": "function",
        "time_limit": 4,
        "signature": {
            "params": [{"name": "text", "type": "string"}],
            "returns": "Result",
        },
        "records": {"Result": {"line": "int", "value?": "int", "error?": "string"}},
        "tests": [
            {"name": "a value", "visible": True, "args": ["7"], "expect": {"line": 1, "value": 7}},
            {
                "name": "an error",
                "visible": True,
                "args": ["x"],
                "expect": {"line": 1, "error": "not_a_number"},
            },
        ],
    },
)
assert isinstance(SPEC, CodeChallengeSpec)

SOURCE = """\
record Result(long line, Long value, String error) {}

class Solution {
    static Result parse(String text) {
        try {
            return new Result(1, Long.parseLong(text), null);
        } catch (NumberFormatException e) {
            return new Result(1, null, "not_a_number");
        }
    }
}
"""


def test_the_starter_boxes_optional_fields_so_they_can_hold_null() -> None:
    assert "record Result(long line, Long value, String error) {}" in language("java").starter(SPEC)


def test_an_optional_record_field_holding_null_is_left_out() -> None:
    report = grade_code(SPEC, SOURCE, language="java", slot=0)
    assert [o.passed for o in report.outcomes] == [True, True]


def test_a_left_out_field_fails_a_test_that_expects_it() -> None:
    source = SOURCE.replace('"not_a_number"', "null")
    report = grade_code(SPEC, source, language="java", slot=0)
    error = report.outcomes[1]
    assert not error.passed
    assert error.actual_repr == '{"line": 1}'
