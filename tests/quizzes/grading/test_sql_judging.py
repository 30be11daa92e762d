"""The pieces of SQL index and transaction judging that need no sandbox: splitting a
script, reading a plan, and judging records (including forged and malformed ones)."""

from __future__ import annotations

from typing import Any

import pytest

from quizzes.grading import harness, runner
from quizzes.grading.spec import SqlChallengeSpec, spec_from_dict


def sql_spec(data: dict[str, Any]) -> SqlChallengeSpec:
    spec = spec_from_dict("sql", data)
    assert isinstance(spec, SqlChallengeSpec)
    return spec


# ----------------------------------------------------------------------------- the splitter


@pytest.mark.parametrize(
    ("script", "statements"),
    [
        ("CREATE INDEX a ON t(x)", ["CREATE INDEX a ON t(x)"]),
        ("CREATE INDEX a ON t(x); ANALYZE;", ["CREATE INDEX a ON t(x);", " ANALYZE;"]),
        ("SELECT 'a;b''c;' ; SELECT \"x;\" ;", ["SELECT 'a;b''c;' ;", ' SELECT "x;" ;']),
        ("SELECT `a;`, [b;c] FROM t", ["SELECT `a;`, [b;c] FROM t"]),
        ("-- a; comment\nSELECT 1; /* ; */", ["-- a; comment\nSELECT 1;"]),
        (" ;; ; -- only comments\n/* here */", []),
        ("SELECT 'unterminated; DROP TABLE t", ["SELECT 'unterminated; DROP TABLE t"]),
        ("SELECT 1 /* unterminated; DROP TABLE t", ["SELECT 1 /* unterminated; DROP TABLE t"]),
        # A trigger body splits at its semicolons: its first piece is refused by kind.
        (
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;",
            ["CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b;", " END;"],
        ),
    ],
)
def test_scripts_split_at_semicolons_outside_quotes_and_comments(
    script: str, statements: list[str]
) -> None:
    assert harness._split_sql(script) == statements


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("  /* x */ -- y\n create unique index i on t(x)", "CREATE UNIQUE INDEX"),
        ("CREATE TEMP TABLE t (x)", "CREATE TEMP TABLE"),
        ("create temporary view v as select 1", "CREATE TEMPORARY VIEW"),
        ("DROP TABLE IF EXISTS t", "DROP TABLE"),
        ("ALTER TABLE t ADD COLUMN y", "ALTER TABLE"),
        ("pragma journal_mode", "PRAGMA"),
        ("(SELECT 1)", "a statement that does not start with a keyword"),
    ],
)
def test_a_statement_is_named_by_its_leading_keywords(statement: str, kind: str) -> None:
    assert harness._statement_kind(harness._leading_words(statement)) == kind


# ------------------------------------------------------------------------------- the plan

INDEX = sql_spec(
    {
        "mode": "index",
        "schema": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);",
        "query": "SELECT id FROM orders o WHERE customer_id = 1",
        "requires_index_on": "orders",
        "forbid_sort": True,
        "reference_solution": "CREATE INDEX ix ON orders(customer_id);",
        "tests": [{"name": "t", "visible": True, "data": ""}],
    }
)
ROWS = [[1], [2]]


def index_record(plan: Any, indexes: Any, rows: Any = ROWS, **extra: Any) -> dict[str, Any]:
    return {"status": "ok", "plan": plan, "indexes": indexes, "rows": rows, **extra}


@pytest.mark.parametrize(
    ("plan", "indexes", "passes"),
    [
        (["SEARCH o USING INDEX ix (customer_id=?)"], [["ix", "orders"]], True),
        (["SEARCH o USING COVERING INDEX ix (customer_id=?)"], [["ix", "ORDERS"]], True),
        (["SEARCH My T USING INDEX my ix (a=?) (x=?)"], [["my ix (a=?)", "orders"]], True),
        (["SEARCH o USING INDEX ix"], [["ix", "orders"]], True),
        # A scan of the index, or an index the script did not create, or on another table.
        (["SCAN o USING INDEX ix"], [["ix", "orders"]], False),
        (["SEARCH o USING INDEX legacy (customer_id=?)"], [["ix", "orders"]], False),
        (["SEARCH c USING INDEX ix (id=?)"], [["ix", "customers"]], False),
        (["SEARCH o USING INDEX ix2 (customer_id=?)"], [["ix", "orders"]], False),
        (["SEARCH o USING AUTOMATIC COVERING INDEX (customer_id=?)"], [["ix", "orders"]], False),
        (["SEARCH o USING INTEGER PRIMARY KEY (rowid=?)"], [["ix", "orders"]], False),
        # forbid_sort
        (
            ["SEARCH o USING INDEX ix (customer_id=?)", "USE TEMP B-TREE FOR ORDER BY"],
            [["ix", "orders"]],
            False,
        ),
        # A name chosen to look like a plan: it still has to be the index the line uses.
        (
            ["SEARCH o USING INDEX legacy (customer_id=?)"],
            [["legacy (customer_id=?) USING INDEX ix", "orders"]],
            False,
        ),
        # Malformed records fail, and never raise.
        ("SEARCH o USING INDEX ix", [["ix", "orders"]], False),
        ([1], [["ix", "orders"]], False),
        (["SEARCH o USING INDEX ix (customer_id=?)"], "ix", False),
        (["SEARCH o USING INDEX ix (customer_id=?)"], [["ix"]], False),
        (["SEARCH o USING INDEX ix (customer_id=?)"], [[1, "orders"]], False),
    ],
)
def test_the_plan_must_search_the_table_through_an_index_the_script_created(
    plan: Any, indexes: Any, passes: bool
) -> None:
    assert runner._index_passes(INDEX, index_record(plan, indexes), ROWS) is passes


def test_the_query_must_return_the_same_rows() -> None:
    plan = ["SEARCH o USING INDEX ix (customer_id=?)"]
    indexes = [["ix", "orders"]]
    assert runner._index_passes(INDEX, index_record(plan, indexes, [[2], [1]]), ROWS)
    assert not runner._index_passes(INDEX, index_record(plan, indexes, [[1]]), ROWS)
    assert not runner._index_passes(INDEX, index_record(plan, indexes, truncated=True), ROWS)
    assert not runner._index_passes(INDEX, index_record(plan, indexes, "rows"), ROWS)
    ordered = sql_spec({**_index_data(), "ordered": True})
    assert not runner._index_passes(ordered, index_record(plan, indexes, [[2], [1]]), ROWS)


def _index_data() -> dict[str, Any]:
    return {
        "mode": "index",
        "schema": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER);",
        "query": "SELECT id FROM orders ORDER BY id",
        "requires_index_on": "orders",
        "reference_solution": "CREATE INDEX ix ON orders(customer_id);",
        "tests": [{"name": "t", "visible": True, "data": ""}],
    }


# ------------------------------------------------------------------------------ transaction

TXN = sql_spec(
    {
        "mode": "transaction",
        "schema": "CREATE TABLE a (id INTEGER PRIMARY KEY, v INTEGER);",
        "reader_query": "SELECT SUM(v) FROM a",
        "check_tables": ["a"],
        "reference_solution": "BEGIN; UPDATE a SET v = v + 1; COMMIT;",
        "tests": [{"name": "t", "visible": True, "data": ""}],
    }
)
EXPECTED = runner._TransactionExpectation(before=[[10]], after=[[12]], final=[[[1, 6], [2, 6]]])


def txn_record(**changes: Any) -> dict[str, Any]:
    record = {
        "status": "ok",
        "seen": [[0, {"rows": [[10]]}], [1, {"rows": [[10]]}], [2, {"rows": [[12]]}]],
        "final": [[[2, 6], [1, 6]]],
        "final_truncated": [False],
        "error": None,
        "open": False,
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"final": [[[1, 6], [2, 7]]]}, "final a: [(1, 6), (2, 7)]"),
        ({"final_truncated": [True]}, "final a: [(1, 6), (2, 6)]"),
        (
            {"seen": [[0, {"rows": [[10]]}], [1, {"rows": [[11]]}], [2, {"rows": [[12]]}]]},
            "after statement 1, a concurrent reader saw [(11,)]: neither the state before the "
            "script nor the state after it",
        ),
        (
            {"seen": [[0, {"rows": [[10]]}], [1, {"error": "database is locked"}]]},
            "after statement 1, the concurrent reader could not read the database",
        ),
        (
            {"seen": [[0, {"rows": [[10]], "truncated": True}]]},
            "before the script, the concurrent reader could not read the database",
        ),
        # Forged or malformed records fail and never raise.
        ({"seen": []}, runner._UNREADABLE),
        ({"seen": "ok"}, runner._UNREADABLE),
        ({"seen": [["0", {"rows": [[10]]}]]}, runner._UNREADABLE),
        ({"seen": [[-1, {"rows": [[10]]}]]}, runner._UNREADABLE),
        ({"final": []}, runner._UNREADABLE),
        ({"final": [[[1, 6], [2, 6]], []]}, runner._UNREADABLE),
        ({"final": ["rows"]}, "final a: <the grader could not read the result>"),
        ({"final_truncated": None}, runner._UNREADABLE),
        ({"status": "exception"}, runner._UNREADABLE),
    ],
)
def test_a_transaction_passes_on_its_final_state_and_what_the_reader_saw(
    changes: dict[str, Any], problem: str | None
) -> None:
    record = txn_record(**changes)
    assert runner._transaction_problem(TXN, record, EXPECTED) == problem
    assert runner._transaction_passes(TXN, record, EXPECTED) is (problem is None)


def test_hidden_script_records_keep_only_what_judging_needs() -> None:
    record = {
        **txn_record(),
        "error": {"at": 1, "msg": "statement 1: SECRET"},
        "open": True,
        "statements": ["SECRET"],
        "msg": "SECRET",
        "exc": [["SECRET", False]],
    }
    hidden = harness._hidden_script_record(record)
    assert set(hidden) == {"status", "seen", "final", "final_truncated"}
    assert "SECRET" not in repr(hidden)
    assert harness._hidden_script_record({"status": "exception", "msg": "SECRET"}) == {
        "status": "failed"
    }
