"""spec_from_dict: the YAML ``challenge:`` mapping, validated with precise errors."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from quizzes.grading.spec import (
    Call,
    CheckTable,
    PythonChallengeSpec,
    SpecError,
    SqlChallengeSpec,
    _SpecMemo,
    spec_from_dict,
)
from quizzes.grading.spec import tests_for as applicable_tests

FUNCTION: dict[str, Any] = {
    "entry_point": "pair_sums",
    "kind": "function",
    "starter": "def pair_sums(xs, k): ...",
    "reference_solution": "def pair_sums(xs, k): return []",
    "wrong_solutions": ["def pair_sums(xs, k): return None"],
    "time_limit": 1.5,
    "tests": [
        {"name": "basic", "visible": True, "args": [[1, 2, 3], 2], "expect": [3, 5]},
        {"name": "bad k", "args": [[1], -1], "kwargs": {}, "raises": "ValueError", "weight": 2},
        {"name": "none", "args": [[], 1], "expect": None},
        {"name": "float", "args": [[0.1], 1], "expect": [0.1], "tolerance": 1e-6},
    ],
}
CLASS: dict[str, Any] = {
    "entry_point": "TokenBucket",
    "kind": "class",
    "tests": [
        {
            "name": "refills after a second",
            "visible": False,
            "init": {"args": [2, 1.0]},
            "calls": [
                {"method": "allow", "args": [0.0], "expect": True},
                {"method": "allow", "args": [0.0], "raises": "KeyError"},
            ],
        }
    ],
}
SQL: dict[str, Any] = {
    "schema": "CREATE TABLE t (id INTEGER);",
    "ordered": True,
    "starter": "SELECT …",
    "reference_solution": "SELECT id FROM t ORDER BY id;",
    "wrong_solutions": ["SELECT id FROM t;"],
    "tests": [{"name": "two", "visible": True, "data": "INSERT INTO t VALUES (2), (1);"}],
}


def changed(
    base: dict[str, Any], path: list[Any], value: Any = None, *, delete: bool = False
) -> dict[str, Any]:
    data = copy.deepcopy(base)
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_function_spec_is_parsed() -> None:
    spec = spec_from_dict("python", FUNCTION)
    assert isinstance(spec, PythonChallengeSpec)
    assert spec.entry_point == "pair_sums" and spec.kind == "function"
    assert spec.time_limit == 1.5 and spec.memory_limit_mb == 256
    basic, bad_k, none, floats = spec.tests
    assert basic.visible and basic.args == [[1, 2, 3], 2] and basic.expect == [3, 5]
    assert basic.raises is None and basic.weight == 1.0
    assert not bad_k.visible and bad_k.raises == "ValueError" and bad_k.weight == 2.0
    assert none.expect is None and none.raises is None  # "returns None" is an expectation
    assert floats.tolerance == 1e-6


def test_class_spec_is_parsed() -> None:
    spec = spec_from_dict("python", CLASS)
    assert isinstance(spec, PythonChallengeSpec) and spec.kind == "class"
    (test,) = spec.tests
    assert test.init_args == [2, 1.0] and test.init_kwargs == {}
    assert test.calls == [
        Call(method="allow", args=[0.0], expect=True),
        Call(method="allow", args=[0.0], raises="KeyError"),
    ]


def test_sql_spec_keeps_the_reference() -> None:
    spec = spec_from_dict("sql", SQL)
    assert isinstance(spec, SqlChallengeSpec)
    assert spec.ordered is True
    assert spec.reference_solution == "SELECT id FROM t ORDER BY id;"
    assert spec.tests[0].data.startswith("INSERT")


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("python", changed(FUNCTION, ["entry_point"], delete=True),
         "challenge: missing required key 'entry_point'"),
        ("python", changed(FUNCTION, ["entry_point"], "not valid"),
         "challenge.entry_point: expected a Python identifier"),
        ("python", changed(FUNCTION, ["kind"], "module"),
         "challenge.kind: expected 'function' or 'class'"),
        ("python", changed(FUNCTION, ["tests", 0, "expect"], delete=True),
         "challenge.tests[0] ('basic'): needs exactly one of 'expect' or 'raises'"),
        ("python", changed(FUNCTION, ["tests", 0, "raises"], "ValueError"),
         "challenge.tests[0] ('basic'): needs exactly one of 'expect' or 'raises'"),
        ("python", changed(FUNCTION, ["colour"], "red"),
         "challenge: unknown key(s) 'colour'"),
        ("python", changed(FUNCTION, ["tests", 1, "arguments"], []),
         "challenge.tests[1] ('bad k'): unknown key(s) 'arguments'"),
        ("python", changed(FUNCTION, ["tests", 0, "args"], "1, 2"),
         "challenge.tests[0] ('basic').args: expected a list of arguments, got str"),
        ("python", changed(FUNCTION, ["tests", 0, "kwargs"], [1]),
         "challenge.tests[0] ('basic').kwargs: expected a mapping, got list"),
        ("python", changed(FUNCTION, ["tests", 0, "weight"], -1),
         "challenge.tests[0] ('basic').weight: expected a positive number"),
        ("python", changed(FUNCTION, ["tests", 0, "weight"], True),
         "challenge.tests[0] ('basic').weight: expected a positive number"),
        ("python", changed(FUNCTION, ["tests", 0, "visible"], "yes"),
         "challenge.tests[0] ('basic').visible: expected true or false"),
        ("python", changed(FUNCTION, ["tests", 0, "name"], ""),
         "missing or empty 'name'"),
        ("python", changed(FUNCTION, ["tests", 1, "name"], "basic"),
         "challenge.tests: duplicate test name 'basic'"),
        ("python", changed(FUNCTION, ["tests"], []),
         "challenge.tests: expected a non-empty list of tests"),
        ("python", changed(FUNCTION, ["time_limit"], 0),
         "challenge.time_limit: expected seconds in (0, 30]"),
        ("python", changed(FUNCTION, ["memory_limit_mb"], "256"),
         "challenge.memory_limit_mb: expected an integer between 64 and 2048"),
        ("python", changed(FUNCTION, ["tests", 0, "expect"], {1: 2}),
         "challenge.tests[0] ('basic').expect: mapping keys must be strings"),
        ("python", changed(FUNCTION, ["tests", 0, "tolerance"], -0.1),
         "challenge.tests[0] ('basic').tolerance: expected a non-negative number"),
        ("python", changed(FUNCTION, ["tests", 1, "raises"], "not an exception"),
         "challenge.tests[1] ('bad k').raises: expected an exception type name"),
        ("python", changed(CLASS, ["tests", 0, "calls"], []),
         "challenge.tests[0] ('refills after a second').calls: expected a non-empty list"),
        ("python", changed(CLASS, ["tests", 0, "calls", 0, "expect"], delete=True),
         "calls[0]: needs exactly one of 'expect' or 'raises'"),
        ("python", changed(CLASS, ["tests", 0, "calls", 0, "method"], "1x"),
         "calls[0].method: expected a method name"),
        ("python", changed(CLASS, ["tests", 0, "init"], {"argz": []}),
         "challenge.tests[0] ('refills after a second').init: unknown key(s) 'argz'"),
        ("python", changed(CLASS, ["tests", 0, "args"], [1]),
         "unknown key(s) 'args'"),
        ("sql", changed(SQL, ["reference_solution"], delete=True),
         "challenge: missing required key 'reference_solution'"),
        ("sql", changed(SQL, ["ordered"], "yes"),
         "challenge.ordered: expected true or false"),
        ("sql", changed(SQL, ["tests", 0, "data"], 3),
         "challenge.tests[0] ('two').data: expected a string of SQL, got int"),
        ("sql", changed(SQL, ["tests", 0, "expect"], []),
         "challenge.tests[0] ('two'): unknown key(s) 'expect'"),
        ("cobol", FUNCTION, "unknown challenge type 'cobol'"),
    ],
)  # fmt: skip
def test_malformed_specs_are_rejected_with_a_precise_message(
    kind: str, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        spec_from_dict(kind, data)
    assert message in str(caught.value)


def test_a_non_mapping_is_rejected() -> None:
    with pytest.raises(SpecError, match="expected a mapping, got list"):
        spec_from_dict("python", [])  # type: ignore[arg-type]


RULED: dict[str, Any] = {
    **FUNCTION,
    "tests_author": "author-a",
    "rules": [
        {"id": "order", "text": "Sums keep the input order."},
        {"id": "negative-k", "text": "A negative k raises ValueError."},
    ],
    "wrong_solutions": [
        {"source": "def pair_sums(xs, k): return []", "breaks": "order", "author": "author-b"},
        "def pair_sums(xs, k): return None",
    ],
    "tests": [
        {"name": "basic", "visible": True, "args": [[1, 2, 3], 2], "expect": [3, 5]},
        {"name": "bad k", "args": [[1], -1], "raises": "ValueError", "rule": "negative-k"},
        {"name": "order kept", "args": [[3, 1], 1], "expect": [3, 1], "rule": "order"},
    ],
}


def test_rules_tests_and_wrong_solutions_name_each_other() -> None:
    spec = spec_from_dict("python", RULED)
    assert [r.id for r in spec.rules] == ["order", "negative-k"]
    assert {t.name: t.rule for t in spec.tests} == {
        "basic": None,
        "bad k": "negative-k",
        "order kept": "order",
    }
    assert [(w.breaks, w.author) for w in spec.wrong_solutions] == [
        ("order", "author-b"),
        (None, None),
    ]
    assert spec.tests_author == "author-a"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["tests", 1, "rule"], "nope", "'nope' is not one of the challenge's rules"),
        (["wrong_solutions", 0, "breaks"], "nope", "'nope' is not one of the challenge's rules"),
        (["rules", 1, "id"], "order", "duplicate rule id 'order'"),
        (["rules", 0, "id"], "Not Kebab", "expected a kebab-case id"),
        (["rules", 0, "text"], " ", "expected the rule as the statement states it"),
        (["wrong_solutions", 0, "source"], "", "expected the solution's source text"),
        (["wrong_solutions", 0, "colour"], "red", "unknown key(s) 'colour'"),
        (["tests_author"], 3, "expected a name"),
    ],
)
def test_malformed_rules_are_rejected(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        spec_from_dict("python", changed(RULED, path, value))


# ------------------------------------------------------------------------------- SQL modes

INDEX: dict[str, Any] = {
    **SQL,
    "mode": "index",
    "query": "SELECT id FROM t WHERE id > 1 ORDER BY id",
    "requires_index_on": "t",
    "forbid_sort": True,
    "reference_solution": "CREATE INDEX t_id ON t(id);",
}
TRANSACTION: dict[str, Any] = {
    "mode": "transaction",
    "schema": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);",
    "reference_solution": "BEGIN; UPDATE accounts SET balance = balance - 1 WHERE id = 1; "
    "UPDATE accounts SET balance = balance + 1 WHERE id = 2; COMMIT;",
    "reader_query": "SELECT SUM(balance) FROM accounts",
    "check_tables": ["accounts", {"table": "audit", "columns": ["account_id", "event"]}],
    "tests": [{"name": "two", "visible": True, "data": "INSERT INTO accounts VALUES (1, 5);"}],
}


def test_an_sql_challenge_is_a_query_unless_it_says_otherwise() -> None:
    spec = spec_from_dict("sql", SQL)
    assert isinstance(spec, SqlChallengeSpec)
    assert spec.mode == "query"
    assert (spec.query, spec.requires_index_on, spec.forbid_sort) == ("", "", False)
    assert (spec.reader_query, spec.check_tables) == ("", ())
    explicit = spec_from_dict("sql", {**SQL, "mode": "query"})
    assert explicit == spec


def test_index_mode_keeps_the_fixed_query_and_the_plan_requirement() -> None:
    spec = spec_from_dict("sql", INDEX)
    assert isinstance(spec, SqlChallengeSpec)
    assert spec.mode == "index"
    assert spec.query == "SELECT id FROM t WHERE id > 1 ORDER BY id"
    assert (spec.requires_index_on, spec.forbid_sort, spec.ordered) == ("t", True, True)
    assert spec.reference_solution == "CREATE INDEX t_id ON t(id);"
    lenient = spec_from_dict("sql", changed(INDEX, ["forbid_sort"], delete=True))
    assert isinstance(lenient, SqlChallengeSpec) and lenient.forbid_sort is False


def test_transaction_mode_keeps_the_reader_and_the_checked_tables() -> None:
    spec = spec_from_dict("sql", TRANSACTION)
    assert isinstance(spec, SqlChallengeSpec)
    assert spec.mode == "transaction"
    assert spec.reader_query == "SELECT SUM(balance) FROM accounts"
    assert spec.check_tables == (
        CheckTable("accounts"),
        CheckTable("audit", ("account_id", "event")),
    )
    assert spec.ordered is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (changed(SQL, ["mode"], "explain"),
         "challenge.mode: expected one of 'query', 'index', 'transaction', got 'explain'"),
        (changed(SQL, ["query"], "SELECT 1"),
         "challenge.query: only used with 'mode: index' (mode is 'query')"),
        (changed(SQL, ["reader_query"], "SELECT 1"),
         "challenge.reader_query: only used with 'mode: transaction' (mode is 'query')"),
        (changed(INDEX, ["check_tables"], ["t"]),
         "challenge.check_tables: only used with 'mode: transaction' (mode is 'index')"),
        (changed(TRANSACTION, ["forbid_sort"], True),
         "challenge.forbid_sort: only used with 'mode: index' (mode is 'transaction')"),
        (changed(INDEX, ["query"], delete=True),
         "challenge: missing required key 'query' (mode 'index')"),
        (changed(INDEX, ["query"], "  "),
         "challenge.query: expected a non-empty string of SQL"),
        (changed(INDEX, ["requires_index_on"], delete=True),
         "challenge: missing required key 'requires_index_on' (mode 'index')"),
        (changed(INDEX, ["requires_index_on"], "t; DROP TABLE t"),
         "challenge.requires_index_on: expected a table name (a plain identifier)"),
        (changed(INDEX, ["forbid_sort"], "yes"),
         "challenge.forbid_sort: expected true or false, got 'yes'"),
        (changed(TRANSACTION, ["reader_query"], delete=True),
         "challenge: missing required key 'reader_query' (mode 'transaction')"),
        (changed(TRANSACTION, ["check_tables"], delete=True),
         "challenge: missing required key 'check_tables' (mode 'transaction')"),
        (changed(TRANSACTION, ["check_tables"], []),
         "challenge.check_tables: expected a non-empty list of table names"),
        (changed(TRANSACTION, ["check_tables"], "accounts"),
         "challenge.check_tables: expected a non-empty list of table names"),
        (changed(TRANSACTION, ["check_tables", 0], "main.accounts"),
         "challenge.check_tables[0]: expected a table name (a plain identifier)"),
        (changed(TRANSACTION, ["check_tables", 1, "columns"], []),
         "challenge.check_tables[1].columns: expected a non-empty list of column names"),
        (changed(TRANSACTION, ["check_tables", 1, "columns"], ["event", "event"]),
         "challenge.check_tables[1].columns: a column is listed twice"),
        (changed(TRANSACTION, ["check_tables", 1, "order_by"], ["id"]),
         "challenge.check_tables[1]: unknown key(s) 'order_by'"),
        (changed(TRANSACTION, ["check_tables"], ["accounts", "Accounts"]),
         "challenge.check_tables: a table is listed twice"),
        (changed(TRANSACTION, ["ordered"], True),
         "challenge.ordered: a transaction challenge compares tables as sets"),
    ],
)  # fmt: skip
def test_malformed_sql_modes_are_rejected_with_a_precise_message(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        spec_from_dict("sql", data)
    assert message in str(caught.value)


def test_a_hidden_test_may_apply_to_some_languages_only() -> None:
    data = changed(FUNCTION, ["tests", 2, "languages"], ["python", "go", "java"])
    spec = spec_from_dict("python", data)
    assert spec.tests[2].languages == ("python", "go", "java")
    names = {
        lang: [t.name for t in applicable_tests(spec.tests, lang)] for lang in ("go", "typescript")
    }
    assert names == {
        "go": ["basic", "bad k", "none", "float"],
        "typescript": ["basic", "bad k", "float"],
    }
    assert spec.tests[0].languages == ()  # no list: every language


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [
        (2, [], "expected a non-empty list of languages"),
        (2, ["cobol"], "each one of python, javascript"),
        (2, "python", "expected a non-empty list"),
        (2, ["go", "go"], "expected a non-empty list"),
        (0, ["python"], "a visible test is an example in every language"),
    ],
)
def test_malformed_test_languages_are_refused(index: int, value: Any, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        spec_from_dict("python", changed(FUNCTION, ["tests", index, "languages"], value))


# --------------------------------------------------------------------------- the pages' memo


def test_the_memo_parses_equal_content_once_and_hands_out_the_same_spec() -> None:
    calls: list[dict[str, Any]] = []

    def parser(data: dict[str, Any]) -> Any:
        calls.append(data)
        return spec_from_dict("code", data)

    memo = _SpecMemo(parser)
    first = memo(FUNCTION)
    assert memo(FUNCTION) is first  # the same mapping again: by identity
    assert memo(copy.deepcopy(FUNCTION)) is first  # equal content read again: by digest
    assert len(calls) == 1
    assert first == spec_from_dict("code", FUNCTION)


def test_the_memo_never_answers_for_other_content() -> None:
    memo = _SpecMemo(lambda data: spec_from_dict("code", data))
    first = memo(FUNCTION)
    other = copy.deepcopy(FUNCTION)
    other["tests"][0]["expect"] = [3, 6]
    second = memo(other)
    assert second is not first
    assert second.tests[0].expect == [3, 6]
    assert first.tests[0].expect == [3, 5]


def test_the_memo_remembers_no_refusal_and_stays_bounded() -> None:
    calls = 0

    def parser(data: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        return spec_from_dict("code", data)

    memo = _SpecMemo(parser, by_identity=2, by_content=3)
    broken = {**FUNCTION, "entry_point": "not an identifier"}
    for _ in range(2):
        with pytest.raises(SpecError, match="entry_point"):
            memo(broken)
    assert calls == 2
    variants = [{**FUNCTION, "time_limit": 1.0 + n / 10} for n in range(5)]
    specs = [memo(variant) for variant in variants]
    assert [spec.time_limit for spec in specs] == [1.0, 1.1, 1.2, 1.3, 1.4]
    assert len(memo._identity) == 2 and len(memo._content) == 3
    calls = 0
    memo(copy.deepcopy(variants[0]))  # dropped, the oldest: parsed again
    memo(copy.deepcopy(variants[4]))  # kept
    assert calls == 1
    with pytest.raises(SpecError):
        memo({**FUNCTION, "time_limit": float("nan")})  # not JSON: parsed, refused, forgotten
