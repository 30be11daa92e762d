"""Go: starters and declarations from the signature, and real builds and runs in the
sandbox of the typed harness (records, nullables, maps, errors, classes, timeouts)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from quizzes.grading.languages import language, language_for_filename
from quizzes.grading.languages.go_source import go_type
from quizzes.grading.outcomes import OutcomeCategory, ReportStatus
from quizzes.grading.runner import GradeReport, grade_code
from quizzes.grading.spec import CodeChallengeSpec, spec_from_dict

GO = language("go")


def code_spec(data: dict[str, Any]) -> CodeChallengeSpec:
    spec = spec_from_dict("code", {"time_limit": 1, "memory_limit_mb": 128, **data})
    assert isinstance(spec, CodeChallengeSpec)
    return spec


DELIVERIES = code_spec(
    {
        "entry_point": "due_deliveries",
        "kind": "function",
        "records": {"Delivery": {"id": "string", "attempt": "int", "note": "string?"}},
        "signature": {
            "params": [
                {"name": "deliveries", "type": "list<Delivery>"},
                {"name": "max_attempt", "type": "int", "default": 3},
            ],
            "returns": "list<Delivery>",
            "raises": ["ValueError"],
        },
        "tests": [
            {"name": "keeps the due ones", "visible": True,
             "args": [[{"id": "a", "attempt": 1, "note": None},
                       {"id": "b", "attempt": 5, "note": "late"}]],
             "expect": [{"id": "a", "attempt": 1, "note": None}]},
            {"name": "none due", "visible": True, "args": [[]], "expect": []},
            {"name": "a bad limit", "visible": False, "args": [[], 0], "raises": "ValueError"},
            {"name": "notes kept", "visible": False,
             "kwargs": {"deliveries": [{"id": "c", "attempt": 2, "note": "é€"}],
                        "max_attempt": 2},
             "expect": [{"id": "c", "attempt": 2, "note": "é€"}]},
        ],
    }
)  # fmt: skip

DELIVERIES_SOLUTION = """\
package main

import (
    "errors"
    "fmt"
)

var ErrInvalidArgument = errors.New("invalid argument")

type Delivery struct {
    ID      string  `json:"id"`
    Attempt int     `json:"attempt"`
    Note    *string `json:"note"`
}

func DueDeliveries(deliveries []Delivery, maxAttempt int) ([]Delivery, error) {
    if maxAttempt < 1 {
        return nil, fmt.Errorf("max attempt %d: %w", maxAttempt, ErrInvalidArgument)
    }
    var due []Delivery // nil when none is due: reported as []
    for _, delivery := range deliveries {
        if delivery.Attempt <= maxAttempt {
            due = append(due, delivery)
        }
    }
    return due, nil
}
"""

CACHE = code_spec(
    {
        "entry_point": "Counter",
        "kind": "class",
        "signature": {
            "init": [{"name": "start", "type": "int"}],
            "methods": {
                "add": {"params": [{"name": "key", "type": "string"},
                                   {"name": "amount", "type": "float"}], "returns": "void"},
                "get": {"params": [{"name": "key", "type": "string"}], "returns": "float",
                        "raises": ["KeyError"]},
                "snapshot": {"params": [], "returns": "map<any>"},
            },
        },
        "tests": [
            {"name": "adds", "visible": True, "init": {"args": [1]},
             "calls": [{"method": "add", "args": ["a", 0.5], "expect": None},
                       {"method": "get", "args": ["a"], "expect": 1.5},
                       {"method": "get", "args": ["b"], "raises": "KeyError"},
                       {"method": "snapshot", "expect": {"a": 1.5, "start": 1}}]},
            {"name": "hidden", "visible": False, "init": {"args": [2]},
             "calls": [{"method": "get", "args": ["x"], "raises": "KeyError"}]},
        ],
    }
)  # fmt: skip

CACHE_SOLUTION = """\
package main

import "errors"

var ErrNotFound = errors.New("not found")

type Counter struct {
    start  int
    values map[string]float64
}

func NewCounter(start int) *Counter {
    return &Counter{start: start, values: map[string]float64{}}
}

func (c *Counter) Add(key string, amount float64) {
    c.values[key] = float64(c.start) + amount
}

func (c *Counter) Get(key string) (float64, error) {
    value, ok := c.values[key]
    if !ok {
        return 0, ErrNotFound
    }
    return value, nil
}

func (c *Counter) Snapshot() map[string]any {
    out := map[string]any{"start": c.start}
    for key, value := range c.values {
        out[key] = value
    }
    return out
}
"""


def grade(spec: CodeChallengeSpec, source: str) -> GradeReport:
    return grade_code(spec, textwrap.dedent(source), language="go")


# --------------------------------------------------------------------------- no sandbox


def test_types_map_to_idiomatic_go() -> None:
    assert go_type("list<list<string>>") == "[][]string"
    assert go_type("map<int?>") == "map[string]*int"
    assert go_type("float") == "float64"
    assert go_type("Delivery?") == "*Delivery"
    assert go_type("list<int>?") == "[]int"
    assert go_type("any?") == "any"


def test_the_starter_declares_sentinels_records_and_the_function() -> None:
    assert GO.starter(DELIVERIES) == textwrap.dedent(
        """\
        package main

        import "errors"

        // ErrInvalidArgument is returned (or wrapped with %w) for invalid argument.
        var ErrInvalidArgument = errors.New("invalid argument")

        // Delivery is a JSON object with the keys "id", "attempt", "note".
        type Delivery struct {
        \tID      string  `json:"id"`
        \tAttempt int     `json:"attempt"`
        \tNote    *string `json:"note"`
        }

        func DueDeliveries(deliveries []Delivery, maxAttempt int) ([]Delivery, error) {
        \t// Your code here.
        \treturn nil, nil
        }
        """
    )


def test_a_class_starter_has_a_constructor_and_pointer_methods() -> None:
    starter = GO.starter(CACHE)
    assert "func NewCounter(start int) *Counter {\n\treturn &Counter{}\n}" in starter
    assert "func (c *Counter) Add(key string, amount float64) {\n\t// Your code here.\n}" in starter
    assert "func (c *Counter) Get(key string) (float64, error) {" in starter
    assert "func (c *Counter) Snapshot() map[string]any {" in starter
    assert 'var ErrNotFound = errors.New("not found")' in starter


def test_go_is_known_by_its_extension_and_version() -> None:
    assert language_for_filename("solution.go") is GO
    assert GO.version().startswith("Go 1.19.")
    assert GO.available()


# --------------------------------------------------------------------------- sandbox


@pytest.mark.sandbox
@pytest.mark.parametrize("spec", [DELIVERIES, CACHE], ids=["function", "class"])
def test_the_generated_starter_builds_and_fails_the_tests(spec: CodeChallengeSpec) -> None:
    report = grade(spec, GO.starter(spec))
    assert report.status == ReportStatus.GRADED, report.message
    assert report.score < 1.0


@pytest.mark.sandbox
def test_records_nullables_nil_slices_and_wrapped_sentinels_pass() -> None:
    report = grade(DELIVERIES, DELIVERIES_SOLUTION)
    assert report.status == ReportStatus.GRADED, report.message
    assert [o.passed for o in report.outcomes] == [True, True, True, True], report


@pytest.mark.sandbox
def test_a_class_with_void_methods_sentinels_and_any_values_passes() -> None:
    report = grade(CACHE, CACHE_SOLUTION)
    assert report.status == ReportStatus.GRADED, report.message
    assert report.score == 1.0, report


@pytest.mark.sandbox
def test_an_error_that_is_not_the_sentinel_does_not_pass() -> None:
    source = CACHE_SOLUTION.replace("return 0, ErrNotFound", 'return 0, errors.New("not found")')
    report = grade(CACHE, source)
    shown = report.outcomes[0]
    assert shown.category == OutcomeCategory.EXCEPTION
    assert shown.exception_type == "error: not found"
    assert not report.outcomes[1].passed


@pytest.mark.sandbox
def test_a_record_without_its_json_tags_is_refused_before_the_tests() -> None:
    source = DELIVERIES_SOLUTION.replace('Attempt int     `json:"attempt"`', "Attempts int")
    source = source.replace("delivery.Attempt ", "delivery.Attempts ")
    report = grade(DELIVERIES, source)
    assert report.status == ReportStatus.COMPILE_ERROR
    assert report.message == (
        'Delivery has no exported field Attempt tagged `json:"attempt"`: '
        "the challenge's JSON objects cannot be read into it."
    )


@pytest.mark.sandbox
def test_a_runtime_panic_is_shown_with_the_runtimes_message() -> None:
    source = DELIVERIES_SOLUTION.replace(
        "var due []Delivery", "_ = deliveries[5]\n    var due []Delivery"
    )
    report = grade(DELIVERIES, source)
    shown = report.outcomes[0]
    assert shown.category == OutcomeCategory.EXCEPTION
    assert shown.exception_type == "panic: runtime error: index out of range [5] with length 2"
    assert shown.actual_repr == "raised panic: runtime error: index out of range [5] with length 2"


@pytest.mark.sandbox
def test_a_hidden_timeout_does_not_stop_the_hidden_tests_after_it() -> None:
    source = DELIVERIES_SOLUTION.replace(
        "if maxAttempt < 1 {", "if maxAttempt < 1 {\n        for {\n        }"
    )
    report = grade(DELIVERIES, source)
    assert [o.passed for o in report.outcomes] == [True, True, False, True], report


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "package solution\n\nfunc DueDeliveries() {}\n",
            "Your file must start with `package main`.",
        ),
        (
            DELIVERIES_SOLUTION + "\nfunc main() {}\n",
            "Your file must not declare `main`: the grader's program has its own.",
        ),
        (
            DELIVERIES_SOLUTION.replace("maxAttempt int)", "maxAttempt int64)"),
            'Your code must declare var ErrInvalidArgument = errors.New("invalid argument"); '
            "func DueDeliveries(deliveries []Delivery, maxAttempt int) ([]Delivery, error)",
        ),
    ],
    ids=["package", "main", "signature"],
)
def test_build_errors_say_what_to_change(source: str, message: str) -> None:
    report = grade(DELIVERIES, source)
    assert report.status == ReportStatus.COMPILE_ERROR
    assert report.message.startswith(message), report.message


DESCRIBE = code_spec(
    {
        "entry_point": "describe",
        "kind": "function",
        "signature": {"params": [{"name": "value", "type": "any"}], "returns": "any"},
        "tests": [
            {"name": "an integer", "visible": True, "args": [10], "expect": "json.Number 10"},
            {"name": "a float", "visible": True, "args": [10.0], "expect": "json.Number 10.0"},
            {"name": "a struct", "visible": True, "args": ["struct"],
             "expect": {"a": 1, "items": [], "nested": {"n": None}}},
        ],
    }
)  # fmt: skip


@pytest.mark.sandbox
def test_numbers_in_any_are_exact_and_structs_in_any_encode_as_json() -> None:
    source = """\
    package main

    import "fmt"

    type inner struct {
        N *int `json:"n"`
    }

    type shape struct {
        A      int      `json:"a"`
        Hidden string   `json:"-"`
        Empty  *int     `json:"empty,omitempty"`
        Items  []string `json:"items"`
        Nested inner    `json:"nested"`
        secret int
    }

    func Describe(value any) any {
        if value == "struct" {
            return shape{A: 1, Hidden: "no", Items: []string{}, secret: 2}
        }
        return fmt.Sprintf("%T %s", value, value)
    }
    """
    report = grade(DESCRIBE, source)
    assert report.status == ReportStatus.GRADED, report.message
    assert [o.passed for o in report.outcomes] == [True, True, True], report
    assert "Numbers inside `any` arguments are json.Number" in GO.starter(DESCRIBE)
