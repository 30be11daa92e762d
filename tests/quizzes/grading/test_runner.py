"""grade_python / grade_sql end to end, through the real sandbox."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest

from quizzes.grading.runner import GradeReport, TestOutcome, grade_python, grade_sql
from quizzes.grading.spec import PythonChallengeSpec, SqlChallengeSpec, spec_from_dict

pytestmark = pytest.mark.sandbox

SLOT = 3


def python_spec(data: dict[str, Any]) -> PythonChallengeSpec:
    spec = spec_from_dict("python", data)
    assert isinstance(spec, PythonChallengeSpec)
    return spec


def sql_spec(data: dict[str, Any]) -> SqlChallengeSpec:
    spec = spec_from_dict("sql", data)
    assert isinstance(spec, SqlChallengeSpec)
    return spec


CLAMP = python_spec(
    {
        "entry_point": "clamp",
        "kind": "function",
        "time_limit": 1,
        "tests": [
            {"name": "inside", "visible": True, "args": [5, 0, 10], "expect": 5},
            {"name": "below", "visible": True, "args": [-5, 0, 10], "expect": 0},
            {"name": "tuple", "visible": True, "args": [[1, 2], 0, 1], "expect": [1, 1]},
            {"name": "above", "visible": False, "args": [50, 0, 10], "expect": 10},
            {"name": "empty range", "visible": False, "args": [1, 5, 0], "raises": "ValueError"},
            {"name": "float", "visible": False, "kwargs": {"x": 0.30000000001, "lo": 0, "hi": 1},
             "expect": 0.3, "tolerance": 1e-6},
        ],
    }
)  # fmt: skip

CLAMP_OK = """\
def clamp(x, lo, hi):
    if lo > hi:
        raise ValueError("empty range")
    if isinstance(x, list):
        return tuple(clamp(item, lo, hi) for item in x)
    return max(lo, min(hi, x))
"""


def by_name(report: GradeReport) -> dict[str, TestOutcome]:
    return {outcome.name: outcome for outcome in report.outcomes}


def test_a_correct_function_passes_everything() -> None:
    report = grade_python(CLAMP, CLAMP_OK, slot=SLOT)
    assert report.status == "graded"
    assert report.score == 1.0
    assert [o.category for o in report.outcomes] == ["passed"] * 6
    inside = by_name(report)["inside"]
    assert inside.input_repr == "clamp(5, 0, 10)"
    assert inside.expected_repr == "5" and inside.actual_repr == "5"
    json.dumps(report.to_dict())  # serialisable


def test_wrong_answer_and_exception_are_reported_per_test() -> None:
    source = (
        CLAMP_OK.replace("max(lo, min(hi, x))", "min(hi, x)")
        .replace('raise ValueError("empty range")', "raise TypeError('no')")
        .replace("return tuple(clamp(item, lo, hi) for item in x)", "raise TypeError('no')")
    )
    report = grade_python(CLAMP, source, slot=SLOT)
    outcomes = by_name(report)
    assert outcomes["inside"].passed
    below = outcomes["below"]
    assert below.category == "wrong_answer"
    assert (below.expected_repr, below.actual_repr) == ("0", "-5")
    listed = outcomes["tuple"]
    assert listed.category == "exception" and listed.exception_type == "TypeError"
    assert listed.actual_repr == "raised TypeError"
    empty = outcomes["empty range"]  # hidden: failed, however
    assert empty.category == "failed" and empty.exception_type is None
    assert report.score == pytest.approx(3 / 6)


def test_hidden_outcomes_show_no_input_expected_actual_or_message() -> None:
    source = "def clamp(x, lo, hi):\n    raise RuntimeError('secret ' + repr(x))\n"
    report = grade_python(CLAMP, source, slot=SLOT)
    for outcome in report.outcomes:
        if outcome.visible:
            assert outcome.category == "exception"
            assert outcome.exception_type == "RuntimeError"
        else:  # pass or fail, nothing more
            assert outcome.category == "failed"
            assert outcome.exception_type is None
            assert outcome.input_repr is None
            assert outcome.expected_repr is None
            assert outcome.actual_repr is None
    assert "secret" not in json.dumps(report.to_dict())
    hidden_wrong = by_name(grade_python(CLAMP, "def clamp(x, lo, hi):\n    return 99\n", slot=SLOT))
    assert hidden_wrong["above"].category == "failed"
    assert hidden_wrong["above"].actual_repr is None


def test_one_infinite_loop_fails_its_test_while_the_other_tests_pass() -> None:
    source = CLAMP_OK.replace(
        "    if lo > hi:", "    while x == 50:\n        pass\n    if lo > hi:"
    )
    report = grade_python(CLAMP, source, slot=SLOT)
    outcomes = by_name(report)
    assert outcomes["above"].category == "failed"  # hidden: not said that it timed out
    assert [o.name for o in report.outcomes if not o.passed] == ["above"]
    assert report.score == pytest.approx(5 / 6)


def test_a_loop_that_swallows_the_timeout_is_still_stopped() -> None:
    source = (
        "def clamp(x, lo, hi):\n"
        "    while True:\n"
        "        try:\n"
        "            while True:\n"
        "                pass\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    report = grade_python(CLAMP, source, slot=SLOT)
    assert report.status == "graded"
    assert report.outcomes[0].category == "timeout"
    assert {o.category for o in report.outcomes[1:3]} == {"not_run"}
    assert {o.category for o in report.outcomes[3:]} == {"failed"}  # hidden


def test_memory_hog_is_reported_as_memory_limit() -> None:
    source = CLAMP_OK.replace(
        "    if lo > hi:", "    if x == 5:\n        y = [0] * 10**9\n    if lo > hi:"
    )
    outcomes = by_name(grade_python(CLAMP, source, slot=SLOT))
    assert outcomes["inside"].category == "memory_limit"
    assert outcomes["below"].passed  # the harness recovered


def test_syntax_error_reports_the_learners_line() -> None:
    source = "def clamp(x, lo, hi):\n    y = 1\n    return max(lo, min(hi, x)\n\n"
    report = grade_python(CLAMP, source, slot=SLOT)
    assert report.status == "compile_error"
    assert report.message.startswith("SyntaxError on line 3: ")
    assert report.score == 0.0
    assert {o.category for o in report.outcomes} == {"not_run"}


def test_indentation_error() -> None:
    report = grade_python(CLAMP, "def clamp(x, lo, hi):\nreturn x\n", slot=SLOT)
    assert report.status == "compile_error"
    assert report.message.startswith("IndentationError on line 2: ")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def other():\n    pass\n", "Your code does not define `clamp`."),
        ("clamp = 3\n", "`clamp` must be a function."),
        ("x = 1\nraise KeyError('k')\n", "KeyError raised on line 2 while loading your code."),
        ("while True:\n    pass\n", "Loading your code took too long."),
    ],
)
def test_code_that_cannot_be_loaded(source: str, message: str) -> None:
    report = grade_python(CLAMP, source, slot=SLOT)
    assert report.status == "compile_error"
    assert report.message == message


def test_visible_only_runs_only_visible_tests() -> None:
    report = grade_python(CLAMP, CLAMP_OK, visible_only=True, slot=SLOT)
    assert [o.name for o in report.outcomes] == ["inside", "below", "tuple"]
    assert report.score == 1.0


def test_non_json_return_values_compare_unequal() -> None:
    spec = python_spec(
        {"entry_point": "f", "tests": [{"name": "set", "visible": True, "expect": [1, 2]}]}
    )
    report = grade_python(spec, "def f():\n    return {1, 2}\n", slot=SLOT)
    (outcome,) = report.outcomes
    assert outcome.category == "wrong_answer"
    assert outcome.actual_repr == "{1, 2}"


def test_bool_is_not_accepted_for_int() -> None:
    spec = python_spec(
        {"entry_point": "f", "tests": [{"name": "one", "visible": True, "expect": 1}]}
    )
    assert grade_python(spec, "def f():\n    return True\n", slot=SLOT).score == 0.0
    assert grade_python(spec, "def f():\n    return 1\n", slot=SLOT).score == 1.0


BUCKET = python_spec(
    {
        "entry_point": "TokenBucket",
        "kind": "class",
        "tests": [
            {"name": "starts full", "visible": True, "init": {"args": [2, 1.0]},
             "calls": [{"method": "allow", "args": [0.0], "expect": True},
                       {"method": "allow", "args": [0.0], "expect": True},
                       {"method": "allow", "args": [0.0], "expect": False}]},
            {"name": "refills", "visible": False, "init": {"args": [1, 1.0]},
             "calls": [{"method": "allow", "args": [0.0], "expect": True},
                       {"method": "allow", "args": [0.5], "expect": False},
                       {"method": "allow", "args": [1.0], "expect": True}]},
            {"name": "rejects time travel", "visible": False, "init": {"args": [1, 1.0]},
             "calls": [{"method": "allow", "args": [5.0], "expect": True},
                       {"method": "allow", "args": [1.0], "raises": "ValueError"}]},
        ],
    }
)  # fmt: skip

BUCKET_OK = """\
class TokenBucket:
    def __init__(self, capacity, refill_per_second):
        self.capacity = capacity
        self.rate = refill_per_second
        self.tokens = float(capacity)
        self.last = None

    def allow(self, now):
        if self.last is not None:
            if now < self.last:
                raise ValueError("time went backwards")
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
"""


def test_a_correct_class_passes() -> None:
    report = grade_python(BUCKET, BUCKET_OK, slot=SLOT)
    assert report.status == "graded", report.message
    assert report.score == 1.0
    shown = report.outcomes[0]
    assert shown.input_repr == (
        "obj = TokenBucket(2, 1.0)\nobj.allow(0.0)\nobj.allow(0.0)\nobj.allow(0.0)"
    )


def test_a_wrong_class_fails_on_the_first_wrong_call() -> None:
    never_refills = BUCKET_OK.replace("+ (now - self.last) * self.rate", "+ 0")
    report = grade_python(BUCKET, never_refills, slot=SLOT)
    outcomes = by_name(report)
    assert outcomes["starts full"].passed
    assert outcomes["refills"].category == "failed"
    assert outcomes["refills"].actual_repr is None
    no_check = BUCKET_OK.replace('raise ValueError("time went backwards")', "pass")
    outcomes = by_name(grade_python(BUCKET, no_check, slot=SLOT))
    assert not outcomes["rejects time travel"].passed
    assert outcomes["refills"].passed


def test_a_visible_class_failure_shows_the_calls_up_to_it() -> None:
    always_true = BUCKET_OK.replace("        return False\n", "        return True\n")
    shown = grade_python(BUCKET, always_true, slot=SLOT).outcomes[0]
    assert shown.category == "wrong_answer"
    assert shown.input_repr is not None and shown.input_repr.endswith("obj.allow(0.0)")
    assert (shown.expected_repr, shown.actual_repr) == ("False", "True")


def test_a_constructor_exception() -> None:
    broken = BUCKET_OK.replace("self.capacity = capacity", "self.capacity = capacity / 0")
    report = grade_python(BUCKET, broken, slot=SLOT)
    shown, *hidden = report.outcomes
    assert (shown.category, shown.exception_type) == ("exception", "ZeroDivisionError")
    assert shown.actual_repr == "raised ZeroDivisionError in the constructor"
    assert {(o.category, o.exception_type) for o in hidden} == {("failed", None)}


def test_kind_class_requires_a_class() -> None:
    report = grade_python(BUCKET, "def TokenBucket():\n    pass\n", slot=SLOT)
    assert (report.status, report.message) == ("compile_error", "`TokenBucket` must be a class.")


# ------------------------------------------------------------------------------- SQL

SQL_BASE: dict[str, Any] = {
    "schema": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, "
    "balance INTEGER NOT NULL);",
    "reference_solution": "SELECT owner, SUM(balance) AS total FROM accounts "
    "GROUP BY owner ORDER BY total DESC, owner;",
    "tests": [
        {"name": "two owners", "visible": True,
         "data": "INSERT INTO accounts VALUES (1, 'ana', 10), (2, 'bo', 5), (3, 'ana', 1);"},
        {"name": "tie", "visible": False,
         "data": "INSERT INTO accounts VALUES (1, 'bo', 5), (2, 'ana', 5);"},
    ],
}  # fmt: skip
ORDERED = sql_spec({**SQL_BASE, "ordered": True})
UNORDERED = sql_spec({**SQL_BASE, "ordered": False})
CORRECT = SQL_BASE["reference_solution"]
NO_TIE_BREAK = (
    "SELECT owner, SUM(balance) AS total FROM accounts GROUP BY owner "
    "ORDER BY total DESC, owner DESC"
)


def test_sql_correct_query_passes() -> None:
    report = grade_sql(ORDERED, CORRECT, slot=SLOT)
    assert report.status == "graded" and report.score == 1.0
    shown = report.outcomes[0]
    assert shown.expected_repr == shown.actual_repr == "[('ana', 11), ('bo', 5)]"


def test_sql_order_matters_only_when_ordered() -> None:
    ordered = grade_sql(ORDERED, NO_TIE_BREAK, slot=SLOT)
    assert [o.category for o in ordered.outcomes] == ["passed", "failed"]
    assert ordered.outcomes[1].actual_repr is None
    unordered = grade_sql(UNORDERED, NO_TIE_BREAK, slot=SLOT)
    assert unordered.score == 1.0
    reversed_rows = "SELECT owner, SUM(balance) FROM accounts GROUP BY owner ORDER BY owner DESC"
    assert grade_sql(UNORDERED, reversed_rows, slot=SLOT).score == 1.0
    assert grade_sql(ORDERED, reversed_rows, slot=SLOT).outcomes[0].category == "wrong_answer"


def test_sql_float_results_compare_with_tolerance() -> None:
    spec = sql_spec({**SQL_BASE, "reference_solution": "SELECT AVG(balance) * 3 FROM accounts"})
    report = grade_sql(spec, "SELECT SUM(balance) * 1.0 / COUNT(*) * 3 FROM accounts", slot=SLOT)
    assert report.score == 1.0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC owner FROM accounts", 'SQL error: near "SELEC": syntax error'),
        ("SELECT nope FROM accounts", "SQL error: no such column: nope"),
        ("SELECT 1; SELECT 2", "SQL error: You can only execute one statement at a time."),
        ("DELETE FROM accounts", "SQL error: only a single SELECT statement is allowed"),
        ("INSERT INTO accounts VALUES (9, 'x', 1)", "SQL error: only a single SELECT"),
        ("PRAGMA table_info(accounts)", "SQL error: only a single SELECT"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "SQL error: only a single SELECT"),
        (
            "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')",
            "SQL error: only a single SELECT",
        ),
        ("   ", "SQL error: the query is empty"),
    ],
)
def test_sql_bad_queries_are_compile_errors(query: str, message: str) -> None:
    report = grade_sql(ORDERED, query, slot=SLOT)
    assert report.status == "compile_error"
    assert report.message.startswith(message)


def test_sql_runaway_recursive_query_times_out() -> None:
    # Counting an endless recursive CTE in a scalar subquery runs in constant memory and
    # writes no temporary table, so only the time limit can stop it. (Joining the CTE
    # instead materialises it: the file-size limit then raced the deadline.)
    query = (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
        "SELECT owner, (SELECT COUNT(*) FROM n) FROM accounts"
    )
    spec = sql_spec({**SQL_BASE, "ordered": True, "time_limit": 0.5})
    report = grade_sql(spec, query, slot=SLOT)
    assert [o.category for o in report.outcomes] == ["timeout", "failed"]


def test_sql_reference_runs_in_its_own_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    from quizzes.grading import runner

    seen: list[bytes] = []
    real = runner.run_sandboxed  # type: ignore[attr-defined]

    def spy(**kwargs: Any) -> Any:
        seen.append(kwargs["files"]["query.sql"])
        return real(**kwargs)

    monkeypatch.setattr(runner, "run_sandboxed", spy)
    monkeypatch.setattr(runner, "_reference_cache", OrderedDict())
    grade_sql(ORDERED, "SELECT 1", slot=SLOT)
    reference = CORRECT.encode()
    assert seen == [reference, b"SELECT 1"]  # separate runs; never together
    grade_sql(ORDERED, "SELECT 2", slot=SLOT)
    assert seen[2:] == [b"SELECT 2"]  # memoised
