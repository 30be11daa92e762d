"""grade_sql in index and transaction modes, end to end through the real sandbox."""

from __future__ import annotations

import marshal
from collections import OrderedDict
from typing import Any

import pytest

from quizzes.grading.runner import GradeReport, TestOutcome, grade_sql
from quizzes.grading.spec import SqlChallengeSpec, spec_from_dict

pytestmark = pytest.mark.sandbox

SLOT = 4


def sql_spec(data: dict[str, Any]) -> SqlChallengeSpec:
    spec = spec_from_dict("sql", data)
    assert isinstance(spec, SqlChallengeSpec)
    return spec


def by_name(report: GradeReport) -> dict[str, TestOutcome]:
    return {outcome.name: outcome for outcome in report.outcomes}


def categories(report: GradeReport) -> list[str]:
    return [outcome.category for outcome in report.outcomes]


# ------------------------------------------------------------------------------- index mode

ORDERS_SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  created_at TEXT NOT NULL,
  total_cents INTEGER NOT NULL
);
CREATE INDEX orders_total ON orders(total_cents);
"""


def orders(customers: int, count: int, extra: str = "") -> str:
    return f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {customers})
INSERT INTO customers SELECT i, 'c' || i || '@example.com' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
INSERT INTO orders SELECT i, 1 + i % {customers},
  datetime('2025-01-01', '+' || (i * 37 % 900) || ' hours'), i * 13 % 10000 FROM n;
{extra}
"""  # noqa: S608 - test data


INDEX_BASE: dict[str, Any] = {
    "mode": "index",
    "schema": ORDERS_SCHEMA,
    "query": "SELECT id, created_at, total_cents FROM orders WHERE customer_id = 7 "
    "ORDER BY created_at DESC, id DESC LIMIT 5",
    "requires_index_on": "orders",
    "forbid_sort": True,
    "ordered": True,
    "reference_solution": "CREATE INDEX orders_cc ON orders(customer_id, created_at);",
    "tests": [
        {"name": "a shop", "visible": True, "data": orders(20, 400)},
        {"name": "a bigger shop", "data": orders(50, 3000)},
    ],
}
INDEX = sql_spec(INDEX_BASE)
COMPOSITE = "CREATE INDEX orders_customer_created ON orders(customer_id, created_at);"


def test_the_right_composite_index_passes_and_shows_its_plan() -> None:
    report = grade_sql(INDEX, COMPOSITE, slot=SLOT)
    assert report.status == "graded" and report.score == 1.0, report
    shown = by_name(report)["a shop"]
    assert shown.actual_repr == (
        "plan: SEARCH orders USING INDEX orders_customer_created (customer_id=?)"
    )
    assert shown.expected_repr is not None
    assert shown.expected_repr.startswith(
        "plan: SEARCH orders USING an index your script created, and no USE TEMP B-TREE; "
        "the query's rows unchanged: [("
    )
    hidden = by_name(report)["a bigger shop"]
    assert (hidden.category, hidden.actual_repr, hidden.expected_repr) == ("passed", None, None)


@pytest.mark.parametrize(
    "script",
    [
        "CREATE INDEX o ON orders(customer_id, created_at, id, total_cents)",  # covering
        "create unique index o on orders(customer_id, created_at, id); analyze;",
        "CREATE INDEX tmp ON orders(customer_id); CREATE INDEX o ON orders(customer_id, "
        "created_at DESC, id DESC); DROP INDEX tmp;",
        '-- the page\'s index\nCREATE INDEX IF NOT EXISTS "orders by customer" '
        "ON orders(customer_id, created_at) /* ; */;",
    ],
)
def test_other_good_scripts_pass(script: str) -> None:
    report = grade_sql(INDEX, script, slot=SLOT)
    assert report.score == 1.0, report


@pytest.mark.parametrize(
    ("script", "plan"),
    [
        (
            "CREATE INDEX o ON orders(created_at, customer_id)",
            "plan: SCAN orders USING INDEX o; USE TEMP B-TREE FOR RIGHT PART OF ORDER BY "
            "(the rows are sorted after they are found)",
        ),
        (
            "CREATE INDEX o ON orders(customer_id)",
            "plan: SEARCH orders USING INDEX o (customer_id=?); USE TEMP B-TREE FOR ORDER BY "
            "(the rows are sorted after they are found)",
        ),
        (
            # total_cents between created_at and the rowid: the index no longer gives
            # ORDER BY created_at DESC, id DESC
            "CREATE INDEX o ON orders(customer_id, created_at, total_cents)",
            "plan: SEARCH orders USING COVERING INDEX o (customer_id=?); USE TEMP B-TREE FOR "
            "RIGHT PART OF ORDER BY (the rows are sorted after they are found)",
        ),
        (
            "CREATE INDEX c ON customers(email); ANALYZE",
            "plan: SCAN orders; USE TEMP B-TREE FOR ORDER BY "
            "(your script created no index on orders)",
        ),
    ],
)
def test_wrong_order_one_column_or_wrong_table_fail_the_plan_check(script: str, plan: str) -> None:
    report = grade_sql(INDEX, script, slot=SLOT)
    assert categories(report) == ["wrong_answer", "failed"], report
    assert report.outcomes[0].actual_repr == plan


def test_without_forbid_sort_a_search_with_a_sort_is_enough() -> None:
    lenient = sql_spec({**INDEX_BASE, "forbid_sort": False})
    assert grade_sql(lenient, "CREATE INDEX o ON orders(customer_id)", slot=SLOT).score == 1.0
    wrong_order = grade_sql(lenient, "CREATE INDEX o ON orders(created_at, customer_id)", slot=SLOT)
    assert wrong_order.score == 0.0  # a SCAN of the index is no SEARCH


def test_the_plan_must_use_an_index_the_script_created() -> None:
    # The data set already has an index of that name (older shops): IF NOT EXISTS keeps
    # it, so the plan uses an index the script did not create.
    legacy = "CREATE INDEX orders_customer_created ON orders(customer_id, created_at);"
    spec = sql_spec(
        {
            **INDEX_BASE,
            "tests": [
                {"name": "new shop", "visible": True, "data": orders(20, 400)},
                {"name": "old shop", "visible": True, "data": orders(20, 400, legacy)},
            ],
        }
    )
    script = "CREATE INDEX IF NOT EXISTS orders_customer_created ON orders(customer_id, created_at)"
    report = grade_sql(spec, script, slot=SLOT)
    assert categories(report) == ["passed", "wrong_answer"]
    assert by_name(report)["old shop"].actual_repr == (
        "plan: SEARCH orders USING INDEX orders_customer_created (customer_id=?) "
        "(your script created no index on orders)"
    )


def test_statistics_can_make_the_planner_ignore_a_new_index_until_analyze() -> None:
    # A data set with sqlite_stat1 and a single-column index: a new index has no
    # statistics, and the planner prefers the one it knows about until ANALYZE runs.
    stats = "CREATE INDEX orders_customer ON orders(customer_id); ANALYZE;"
    spec = sql_spec(
        {
            **INDEX_BASE,
            "tests": [
                {"name": "fresh shop", "visible": True, "data": orders(20, 400)},
                {"name": "shop with statistics", "data": orders(1000, 3000, stats)},
            ],
        }
    )
    assert categories(grade_sql(spec, COMPOSITE, slot=SLOT)) == ["passed", "failed"]
    assert grade_sql(spec, COMPOSITE + " ANALYZE;", slot=SLOT).score == 1.0


def test_a_script_that_fails_on_some_data_fails_that_test_only() -> None:
    duplicates = (
        "INSERT INTO orders VALUES (9001, 7, '2025-01-03 10:00:00', 5), "
        "(9002, 7, '2025-01-03 10:00:00', 6);"
    )
    spec = sql_spec(
        {
            **INDEX_BASE,
            "tests": [
                {"name": "unique times", "visible": True, "data": orders(20, 400)},
                {"name": "two orders in one second", "visible": True,
                 "data": orders(20, 400, duplicates)},
                {"name": "hidden duplicates", "data": orders(20, 400, duplicates)},
            ],
        }
    )  # fmt: skip
    unique = "CREATE UNIQUE INDEX o ON orders(customer_id, created_at)"
    report = grade_sql(spec, unique, slot=SLOT)
    assert categories(report) == ["passed", "exception", "failed"]
    shown = by_name(report)["two orders in one second"]
    assert shown.exception_type == "IntegrityError"
    assert shown.actual_repr == (
        "statement 1: UNIQUE constraint failed: orders.customer_id, orders.created_at"
    )


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("", "SQL error: the script is empty"),
        ("-- nothing but a comment", "SQL error: the script is empty"),
        ("DROP TABLE orders", "SQL error: statement 1 (DROP TABLE) is not allowed: an index "
         "script may only CREATE INDEX, CREATE UNIQUE INDEX, DROP INDEX (of an index it created) "
         "and ANALYZE"),
        ("CREATE INDEX o ON orders(customer_id); DELETE FROM orders",
         "SQL error: statement 2 (DELETE) is not allowed"),
        ("UPDATE orders SET total_cents = 0", "SQL error: statement 1 (UPDATE) is not allowed"),
        ("INSERT INTO orders VALUES (1, 1, 'x', 1)", "SQL error: statement 1 (INSERT)"),
        ("CREATE TEMP TABLE t (x)", "SQL error: statement 1 (CREATE TEMP TABLE) is not allowed"),
        ("CREATE VIEW v AS SELECT 1", "SQL error: statement 1 (CREATE VIEW) is not allowed"),
        ("SELECT 1", "SQL error: statement 1 (SELECT) is not allowed"),
        ("REINDEX", "SQL error: statement 1 (REINDEX) is not allowed"),
        ("DROP INDEX orders_total", "SQL error: statement 1: DROP INDEX orders_total: only an "
         "index your script created may be dropped"),
        ("CREATE INDEX o ON nowhere(x)", "SQL error: statement 1: no such table: main.nowhere"),
        ("CREATE INDEX o ON orders(customer_id) garbage",
         'SQL error: statement 1: near "garbage": syntax error'),
        ("CREATE INDEX o ON orders(load_extension('x'))",
         "SQL error: statement 1: load_extension() is not allowed"),
        ("CREATE INDEX o ON orders(random())",
         "SQL error: statement 1: non-deterministic functions prohibited in index expressions"),
    ],
)  # fmt: skip
def test_index_scripts_that_cannot_run_are_refused_with_a_clear_message(
    script: str, message: str
) -> None:
    report = grade_sql(INDEX, script, slot=SLOT)
    assert report.status == "compile_error", report
    assert report.message.startswith(message), report.message
    assert categories(report) == ["not_run", "not_run"]


def test_dropping_an_index_the_data_set_brought_fails_that_test() -> None:
    legacy = "CREATE INDEX orders_old ON orders(customer_id);"
    spec = sql_spec(
        {
            **INDEX_BASE,
            "tests": [{"name": "old shop", "visible": True, "data": orders(20, 400, legacy)}],
        }
    )
    report = grade_sql(spec, "DROP INDEX IF EXISTS orders_old; " + COMPOSITE, slot=SLOT)
    (shown,) = report.outcomes
    assert shown.category == "exception"
    assert shown.actual_repr == (
        "statement 1: DROP INDEX orders_old: only an index your script created may be dropped"
    )


# ------------------------------------------------------------------------- transaction mode

BANK_SCHEMA = """
CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0));
CREATE TABLE transfers (id INTEGER PRIMARY KEY AUTOINCREMENT, src INTEGER NOT NULL,
                        dst INTEGER NOT NULL, amount INTEGER NOT NULL);
"""
DEBIT = "UPDATE accounts SET balance = balance - 30 WHERE id = 1;"
CREDIT = "UPDATE accounts SET balance = balance + 30 WHERE id = 2;"
RECORD = "INSERT INTO transfers (src, dst, amount) VALUES (1, 2, 30);"
TRANSFER = f"BEGIN; {DEBIT} {CREDIT} {RECORD} COMMIT;"
TXN_BASE: dict[str, Any] = {
    "mode": "transaction",
    "schema": BANK_SCHEMA,
    "reader_query": "SELECT SUM(balance), (SELECT COUNT(*) FROM transfers) FROM accounts",
    "check_tables": ["accounts", {"table": "transfers", "columns": ["src", "dst", "amount"]}],
    "reference_solution": TRANSFER,
    "tests": [
        {"name": "enough money", "visible": True,
         "data": "INSERT INTO accounts VALUES (1, 100), (2, 0);"},
        {"name": "not enough money", "visible": True,
         "data": "INSERT INTO accounts VALUES (1, 10), (2, 0);"},
        {"name": "hidden transfer", "data": "INSERT INTO accounts VALUES (1, 50), (2, 5);"},
        {"name": "hidden history",
         "data": "INSERT INTO accounts VALUES (1, 70), (2, 30); "
                 "INSERT INTO transfers VALUES (7, 2, 1, 30);"},
    ],
}  # fmt: skip
TXN = sql_spec(TXN_BASE)


def test_an_atomic_transfer_passes_and_shows_what_the_reader_may_see() -> None:
    report = grade_sql(TXN, TRANSFER, slot=SLOT)
    assert report.score == 1.0, report
    enough, short = report.outcomes[:2]
    assert enough.expected_repr == (
        "final state: accounts: [(1, 70), (2, 30)]; transfers: [(1, 2, 30)]. "
        "A concurrent reader sees only [(100, 0)] (before) or [(100, 1)] (after)."
    )
    assert enough.actual_repr == (
        "final state as expected; the reader saw only the states before and after"
    )
    # The CHECK constraint stops the reference and the learner alike: nothing changes.
    assert short.expected_repr is not None and short.expected_repr.startswith(
        "final state: accounts: [(1, 10), (2, 0)]; transfers: []."
    )
    assert short.actual_repr == (
        "final state as expected; the reader saw only the states before and after "
        "(statement 2: CHECK constraint failed: balance >= 0; the script stopped there, and "
        "its open transaction was rolled back)"
    )


@pytest.mark.parametrize(
    "script",
    [
        TRANSFER.replace("BEGIN;", "BEGIN IMMEDIATE;"),
        TRANSFER.replace("BEGIN;", "BEGIN EXCLUSIVE;").replace("COMMIT;", "END;"),
        f"SAVEPOINT transfer; {RECORD} {CREDIT} {DEBIT} RELEASE transfer;",
        # A guard instead of the CHECK constraint: every write is conditional.
        "BEGIN; UPDATE accounts SET balance = balance - 30 WHERE id = 1 AND balance >= 30; "
        "UPDATE accounts SET balance = balance + 30 WHERE id = 2 AND changes() = 1; "
        "INSERT INTO transfers (src, dst, amount) SELECT 1, 2, 30 WHERE changes() = 1; COMMIT;",
        f"BEGIN; {DEBIT} {CREDIT} {RECORD} SELECT * FROM accounts; COMMIT;",  # noqa: S608
    ],
)
def test_other_atomic_scripts_pass(script: str) -> None:
    assert grade_sql(TXN, script, slot=SLOT).score == 1.0


def test_a_script_without_a_transaction_shows_the_reader_a_partial_state() -> None:
    report = grade_sql(TXN, f"{DEBIT} {CREDIT} {RECORD}", slot=SLOT)
    assert categories(report) == ["wrong_answer", "passed", "failed", "failed"], report
    assert report.outcomes[0].actual_repr == (
        f"after statement 1 ({DEBIT}), a concurrent reader saw [(70, 0)]: neither the state "
        "before the script nor the state after it"
    )


def test_a_script_that_commits_halfway_fails() -> None:
    script = f"BEGIN; {DEBIT} COMMIT; BEGIN; {CREDIT} {RECORD} COMMIT;"
    report = grade_sql(TXN, script, slot=SLOT)
    assert categories(report) == ["wrong_answer", "passed", "failed", "failed"], report
    assert report.outcomes[0].actual_repr == (
        "after statement 3 (COMMIT;), a concurrent reader saw [(70, 0)]: neither the state "
        "before the script nor the state after it"
    )


def test_a_script_that_never_commits_changes_nothing() -> None:
    report = grade_sql(TXN, f"BEGIN; {DEBIT} {CREDIT} {RECORD}", slot=SLOT)
    assert report.outcomes[0].actual_repr == (
        "final accounts: [(1, 100), (2, 0)] (the script ended inside a transaction, which was "
        "rolled back)"
    )
    assert categories(report) == ["wrong_answer", "passed", "failed", "failed"]


def test_the_final_state_ignores_columns_left_out_of_check_tables() -> None:
    # transfers.id differs (an explicit id), but only src, dst and amount are compared.
    script = TRANSFER.replace(
        "INSERT INTO transfers (src, dst, amount) VALUES (1, 2, 30)",
        "INSERT INTO transfers VALUES (500, 1, 2, 30)",
    )
    assert grade_sql(TXN, script, slot=SLOT).score == 1.0
    wrong_amount = TRANSFER.replace("VALUES (1, 2, 30)", "VALUES (1, 2, 31)")
    report = grade_sql(TXN, wrong_amount, slot=SLOT)
    assert report.outcomes[0].actual_repr == "final transfers: [(1, 2, 31)]"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("", "SQL error: the script is empty"),
        ("CREATE TABLE t (x)", "SQL error: statement 1 (CREATE TABLE) is not allowed: a "
         "transaction script may only read and write rows (SELECT, INSERT, UPDATE, DELETE, "
         "REPLACE) and control transactions (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE)"),
        ("BEGIN; DROP TABLE transfers; COMMIT;", "SQL error: statement 2 (DROP TABLE)"),
        ("PRAGMA journal_mode = DELETE", "SQL error: statement 1 (PRAGMA) is not allowed"),
        ("ATTACH DATABASE '/etc/passwd' AS p", "SQL error: statement 1 (ATTACH) is not allowed"),
        ("VACUUM", "SQL error: statement 1 (VACUUM) is not allowed"),
        ("ANALYZE", "SQL error: statement 1 (ANALYZE) is not allowed"),
        ("BEGIN; UPDATE nowhere SET x = 1; COMMIT;",
         "SQL error: statement 2: no such table: nowhere"),
        ("DELETE FROM sqlite_master",
         "SQL error: statement 1: table sqlite_master may not be modified"),
        ("DELETE FROM sqlite_sequence",
         "SQL error: statement 1: SQLite's own tables (sqlite_sequence) are off limits"),
        ("SELECT * FROM pragma_table_info('accounts')",
         "SQL error: statement 1: SQLite's own tables (sqlite_master) are off limits, and so "
         "are the pragma functions and dbstat that use them"),
        ("UPDATE accounts SET balance = 0 WHERE id IN (SELECT load_extension('x'))",
         "SQL error: statement 1: load_extension() is not allowed"),
    ],
)  # fmt: skip
def test_transaction_scripts_that_cannot_run_are_refused_with_a_clear_message(
    script: str, message: str
) -> None:
    report = grade_sql(TXN, script, slot=SLOT)
    assert report.status == "compile_error", report
    assert report.message.startswith(message), report.message


def test_a_reference_a_reader_can_see_half_done_is_refused() -> None:
    broken = sql_spec({**TXN_BASE, "reference_solution": f"{DEBIT} {CREDIT} {RECORD}"})
    report = grade_sql(broken, TRANSFER, slot=SLOT)
    assert report.status == "error"
    assert (
        report.message == "The reference solution of this challenge failed; staff have to fix it."
    )
    assert "partial state" in report.diagnostics


# ------------------------------------------------------------------- what enters the sandbox


def test_expected_results_never_enter_the_learners_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    from quizzes.grading import runner

    runs: list[dict[str, bytes]] = []
    real = runner.run_sandboxed  # type: ignore[attr-defined]

    def spy(**kwargs: Any) -> Any:
        runs.append(kwargs["files"])
        return real(**kwargs)

    monkeypatch.setattr(runner, "run_sandboxed", spy)
    monkeypatch.setattr(runner, "_reference_cache", OrderedDict())
    for spec, source in ((INDEX, COMPOSITE), (TXN, TRANSFER)):
        runs.clear()
        grade_sql(spec, source, slot=SLOT)
        trusted, learner = runs[-2:]
        trusted_source = spec.query if spec.mode == "index" else spec.reference_solution
        assert trusted["query.sql"] == trusted_source.encode()
        assert learner["query.sql"] == source.encode()
        config = marshal.loads(learner["input.bin"])  # noqa: S302 - our own config
        assert config["mode"] == spec.mode
        assert [set(test) for test in config["tests"]] == [{"data"}] * len(config["tests"])
        assert len(config["tests"]) == sum(t.visible for t in spec.tests)  # hidden come later
        extra = {"index": {"query"}, "transaction": {"reader_query", "check_tables"}}[spec.mode]
        assert set(config) == {
            "mode", "schema", "per_test_seconds", "tests", "hidden_count", *extra
        }  # fmt: skip
