"""Hostile SQL against the index and transaction modes.

The learner writes a script of several statements here (not one SELECT): each attack
tries to reach outside the database (ATTACH, load_extension, PRAGMA, VACUUM INTO), to
change or destroy the data the judge reads (DDL that drops or rewrites, triggers, views
shadowing the reader's tables), to exhaust time, memory or disk, to block the concurrent
reader, or to forge the harness's result records with text it controls. Each is refused
with a clear message or ends as a plain failure: never a hang, a forged pass, or
anything of a hidden test beyond pass or fail (the differential battery at the end, as in
``test_hidden_test_leaks.py``).
"""

from __future__ import annotations

import glob
from typing import Any

import pytest

from quizzes.grading import harness
from quizzes.grading.runner import GradeReport, grade_sql
from quizzes.grading.spec import SqlChallengeSpec, spec_from_dict
from tests.security.conftest import SECURITY_SLOT
from tests.security.test_hidden_test_leaks import SECRETS, assert_nothing_but_pass_fail

pytestmark = pytest.mark.sandbox


def sql_spec(data: dict[str, Any]) -> SqlChallengeSpec:
    spec = spec_from_dict("sql", data)
    assert isinstance(spec, SqlChallengeSpec)
    return spec


def grade(spec: SqlChallengeSpec, script: str) -> GradeReport:
    return grade_sql(spec, script, slot=SECURITY_SLOT)


def categories(report: GradeReport) -> list[str]:
    return [outcome.category for outcome in report.outcomes]


# --------------------------------------------------------------------------------- index

ORDERS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO orders SELECT i, 1 + i % 20, datetime('2025-01-01', '+' || i || ' hours') FROM n;
"""
INDEX = sql_spec(
    {
        "mode": "index",
        "schema": "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
        "created_at TEXT NOT NULL); CREATE INDEX orders_created ON orders(created_at);",
        "query": "SELECT id FROM orders WHERE customer_id = 3 ORDER BY created_at",
        "requires_index_on": "orders",
        "forbid_sort": True,
        "ordered": True,
        "time_limit": 1,
        "memory_limit_mb": 128,
        "reference_solution": "CREATE INDEX o ON orders(customer_id, created_at);",
        "tests": [
            {"name": "shown", "visible": True, "data": ORDERS},
            {"name": "hidden", "data": ORDERS},
        ],
    }
)
GOOD_INDEX = "CREATE INDEX o ON orders(customer_id, created_at);"
INDEX_ONLY = "an index script may only CREATE INDEX, CREATE UNIQUE INDEX, DROP INDEX"

INDEX_REFUSED = {
    "attach /etc/passwd": ("ATTACH DATABASE '/etc/passwd' AS p", "(ATTACH) is not allowed"),
    "attach after a good index": (
        GOOD_INDEX + " ATTACH 'file:/etc/passwd?mode=ro' AS p;",
        "statement 2 (ATTACH) is not allowed",
    ),
    "load_extension in an index expression": (
        "CREATE INDEX o ON orders(load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6'))",
        "statement 1: load_extension() is not allowed",
    ),
    "pragma writable_schema": ("PRAGMA writable_schema = ON", "(PRAGMA) is not allowed"),
    "vacuum into the result channel": (
        "VACUUM INTO '/proc/self/fd/3'",
        "(VACUUM) is not allowed",
    ),
    "drop the table": ("DROP TABLE orders", "(DROP TABLE) is not allowed"),
    "delete the rows": (GOOD_INDEX + " DELETE FROM orders;", "(DELETE) is not allowed"),  # noqa: S608
    "rewrite the rows": ("UPDATE orders SET customer_id = 3", "(UPDATE) is not allowed"),
    "insert rows": ("INSERT INTO orders VALUES (9999, 3, '2020')", "(INSERT) is not allowed"),
    "replace rows": ("REPLACE INTO orders VALUES (1, 3, '2020')", "(REPLACE) is not allowed"),
    "rename the table": (
        "ALTER TABLE orders RENAME TO old_orders",
        "(ALTER TABLE) is not allowed",
    ),
    "trigger that deletes": (
        "CREATE TRIGGER t AFTER INSERT ON orders BEGIN DELETE FROM orders; END;",
        "(CREATE TRIGGER) is not allowed",
    ),
    "view shadowing the table": (
        "CREATE TEMP VIEW orders AS SELECT 1 AS id",
        "(CREATE TEMP VIEW) is not allowed",
    ),
    "temp table": ("CREATE TEMP TABLE orders (id)", "(CREATE TEMP TABLE) is not allowed"),
    "forged statistics": (
        "INSERT INTO sqlite_stat1 VALUES ('orders', 'o', '1 1')",
        "(INSERT) is not allowed",
    ),
    "drop the schema's index": (
        "DROP INDEX orders_created",
        "statement 1: DROP INDEX orders_created: only an index your script created",
    ),
    "a dot command": (".output /proc/self/fd/3", "(a statement that does not start"),
    "a virtual table": (
        "CREATE VIRTUAL TABLE f USING fts5(x)",
        "(CREATE VIRTUAL TABLE) is not allowed",
    ),
}


@pytest.mark.parametrize("attack", list(INDEX_REFUSED), ids=list(INDEX_REFUSED))
def test_index_scripts_reaching_outside_or_changing_data_are_refused(attack: str) -> None:
    script, message = INDEX_REFUSED[attack]
    report = grade(INDEX, script)
    assert report.status == "compile_error", report
    assert message in report.message, report.message
    assert categories(report) == ["not_run", "not_run"]


def test_the_index_authorizer_denies_every_write_but_its_own() -> None:
    # The kind check comes first; the authorizer is the barrier even without it.
    denied: list[Any] = []
    authorize = harness._index_authorizer({"orders_created"}, denied)
    for action, arg1 in [
        (9, "orders"), (18, "orders"), (23, "orders"), (11, "orders"), (19, "journal_mode"),
        (24, "/etc/passwd"), (7, "t"), (8, "v"), (2, "evil"), (4, "t"), (3, "i"), (26, "main"),
        (29, "f"), (33, None), (10, "orders_created"), (10, "ORDERS_CREATED"),
    ]:  # fmt: skip
        assert authorize(action, arg1, None, "main", None) == 1, (action, arg1)
    assert authorize(31, None, "load_extension", None, None) == 1
    assert authorize(1, "i", "orders", "temp", None) == 1  # an index in another schema
    for action, arg1 in [(1, "i"), (10, "i"), (28, "orders"), (18, "sqlite_master")]:
        assert authorize(action, arg1, "orders", "main", None) == 0, (action, arg1)


def test_a_huge_index_expression_ends_at_the_memory_or_time_limit() -> None:
    script = GOOD_INDEX + " CREATE INDEX big ON orders(hex(zeroblob(100000000)));"
    report = grade(INDEX, script)
    assert report.status == "graded"
    assert categories(report)[0] in ("memory_limit", "timeout", "exception"), report
    assert categories(report)[1] == "failed"


def test_an_index_name_cannot_forge_a_result_record() -> None:
    # The wrong index (one column: the rows get sorted) is named with a forged record
    # for the hidden test: names travel escaped inside the real record.
    forged = '\n{"t":"test","i":1,"status":"ok","plan":["SEARCH orders USING INDEX o"],' + (
        '"indexes":[["o","orders"]],"rows":[]}\n'
    )
    name = forged.replace('"', '""')
    report = grade(INDEX, f'CREATE INDEX "{name}" ON orders(customer_id);')
    assert categories(report) == ["wrong_answer", "failed"], report
    shown = report.outcomes[0].actual_repr
    assert shown is not None and "USE TEMP B-TREE" in shown


# --------------------------------------------------------------------------- transaction

BANK = """
CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0));
CREATE TABLE transfers (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL);
"""
TRANSFER = (
    "BEGIN; UPDATE accounts SET balance = balance - 30 WHERE id = 1; "
    "UPDATE accounts SET balance = balance + 30 WHERE id = 2; "
    "INSERT INTO transfers (note) VALUES ('1 to 2'); COMMIT;"
)
TXN = sql_spec(
    {
        "mode": "transaction",
        "schema": BANK,
        "reader_query": "SELECT SUM(balance), (SELECT COUNT(*) FROM transfers) FROM accounts",
        "check_tables": ["accounts", "transfers"],
        "reference_solution": TRANSFER,
        "time_limit": 1,
        "memory_limit_mb": 128,
        "tests": [
            {"name": "shown", "visible": True,
             "data": "INSERT INTO accounts VALUES (1, 100), (2, 0);"},
            {"name": "hidden", "data": "INSERT INTO accounts VALUES (1, 50), (2, 5);"},
        ],
    }
)  # fmt: skip
TXN_ONLY = "a transaction script may only read and write rows"

TXN_REFUSED = {
    "attach /etc/passwd": ("ATTACH DATABASE '/etc/passwd' AS p", "(ATTACH) is not allowed"),
    "attach memory": ("ATTACH ':memory:' AS m", "(ATTACH) is not allowed"),
    "detach": ("DETACH main", "(DETACH) is not allowed"),
    "load_extension": (
        "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libc.so.6')",
        "statement 1: load_extension() is not allowed",
    ),
    "load_extension inside a write": (
        "BEGIN; UPDATE accounts SET balance = load_extension('x'); COMMIT;",
        "statement 2: load_extension() is not allowed",
    ),
    "pragma journal_mode": ("PRAGMA journal_mode = DELETE", "(PRAGMA) is not allowed"),
    "pragma locking_mode": (
        "PRAGMA locking_mode = EXCLUSIVE; " + TRANSFER,
        "statement 1 (PRAGMA) is not allowed",
    ),
    "pragma function": (
        "SELECT * FROM pragma_database_list",
        "SQLite's own tables (sqlite_master) are off limits",
    ),
    "dbstat": ("SELECT * FROM dbstat", "statement 1: vtable constructor failed: dbstat"),
    "vacuum into a file": ("VACUUM INTO '/tmp/copy.db'", "(VACUUM) is not allowed"),
    "view with the invariant's table name": (
        "CREATE TEMP VIEW accounts AS SELECT 1 AS id, 100 AS balance; " + TRANSFER,
        "statement 1 (CREATE TEMP VIEW) is not allowed",
    ),
    "table with the invariant's name": (
        "CREATE TABLE main.transfers2 AS SELECT * FROM transfers",
        "(CREATE TABLE) is not allowed",
    ),
    "trigger keeping the sum": (
        "CREATE TRIGGER t AFTER UPDATE ON accounts BEGIN UPDATE accounts SET balance = 0; END;",
        "(CREATE TRIGGER) is not allowed",
    ),
    "drop the audit": ("BEGIN; DROP TABLE transfers; COMMIT;", "statement 2 (DROP TABLE)"),
    "alter a table": ("ALTER TABLE accounts ADD COLUMN x", "(ALTER TABLE) is not allowed"),
    "reset the sequence": (
        "UPDATE sqlite_sequence SET seq = 0",
        "SQLite's own tables (sqlite_sequence) are off limits",
    ),
    "a dot command": (".output /proc/self/fd/3", "(a statement that does not start"),
    "writefile": (
        "SELECT writefile('/proc/self/fd/3', 'x')",
        "statement 1: no such function: writefile",
    ),
}


@pytest.mark.parametrize("attack", list(TXN_REFUSED), ids=list(TXN_REFUSED))
def test_transaction_scripts_reaching_outside_or_at_the_reader_are_refused(attack: str) -> None:
    script, message = TXN_REFUSED[attack]
    report = grade(TXN, script)
    assert report.status == "compile_error", report
    assert message in report.message, report.message
    assert categories(report) == ["not_run", "not_run"]


def test_the_transaction_authorizer_denies_the_schema_the_connection_and_files() -> None:
    denied: list[Any] = []
    authorize = harness._transaction_authorizer(denied)
    for action, arg1, db_name in [
        (19, "journal_mode", None), (24, "/etc/passwd", None), (25, "main", None),
        (2, "t", "main"), (4, "t", "temp"), (6, "accounts", "temp"), (7, "t", "main"),
        (11, "transfers", "main"), (26, "main", "main"), (28, "accounts", "main"),
        (29, "f", "main"), (1, "i", "main"), (10, "i", "main"),
        (18, "accounts", "temp"), (23, "sqlite_sequence", "main"), (9, "sqlite_stat1", "main"),
    ]:  # fmt: skip
        assert authorize(action, arg1, None, db_name, None) == 1, (action, arg1)
    assert authorize(31, None, "load_extension", None, None) == 1
    for action, arg1, db_name in [
        (22, "BEGIN", None), (32, "BEGIN", "s"), (20, "accounts", "main"), (21, None, None),
        (18, "accounts", "main"), (23, "accounts", "main"), (9, "transfers", "main"),
        (33, None, None),
    ]:  # fmt: skip
        assert authorize(action, arg1, None, db_name, None) == 0, (action, arg1)


def test_begin_exclusive_does_not_block_the_reader() -> None:
    # WAL: an exclusive writer still lets readers read the last committed state.
    exclusive = TRANSFER.replace("BEGIN;", "BEGIN EXCLUSIVE;")
    assert grade(TXN, exclusive).score == 1.0


def test_an_exclusive_transaction_that_never_ends_is_a_timeout_not_a_hang() -> None:
    script = (
        "BEGIN EXCLUSIVE; UPDATE accounts SET balance = balance - 30 WHERE id = 1; "
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n;"
    )
    report = grade(TXN, script)
    assert report.status == "graded"
    assert categories(report) == ["timeout", "failed"], report


def test_an_exclusive_transaction_left_open_is_rolled_back() -> None:
    report = grade(TXN, "BEGIN EXCLUSIVE; UPDATE accounts SET balance = 0;")
    assert categories(report) == ["wrong_answer", "failed"]
    assert report.outcomes[0].actual_repr == (
        "final accounts: [(1, 100), (2, 0)] (the script ended inside a transaction, which was "
        "rolled back)"
    )


@pytest.mark.parametrize(
    "script",
    [
        # An endless recursive insert: the time limit, the tmpfs or the file-size limit.
        "INSERT INTO transfers (note) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
        "SELECT i + 1 FROM n) SELECT printf('%.1000c', 'x') FROM n;",
        # Big rows until something gives.
        "BEGIN; INSERT INTO transfers (note) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
        "SELECT i + 1 FROM n WHERE i < 100) SELECT hex(zeroblob(10000000)) FROM n; COMMIT;",
        # One value too big for the memory limit.
        "INSERT INTO transfers (note) VALUES (hex(zeroblob(400000000)));",
    ],
    ids=["endless insert", "big rows", "one huge value"],
)
def test_writing_huge_data_ends_as_a_failure(script: str) -> None:
    before = set(glob.glob("/tmp/skillmap-*"))
    report = grade(TXN, script)
    assert report.status == "graded", report
    assert categories(report)[0] in ("timeout", "memory_limit", "wrong_answer"), report
    assert categories(report)[1] == "failed"
    assert set(glob.glob("/tmp/skillmap-*")) == before  # nothing on the host


def test_row_values_cannot_forge_a_result_record() -> None:
    forged = (
        '\n{"t":"test","i":1,"status":"ok","seen":[[0,{"rows":[[55,0]]}]],'
        '"final":[[[1,20],[2,35]],[[1,"1 to 2"]]],"final_truncated":[false,false]}\n'
    )
    script = TRANSFER.replace("'1 to 2'", "'" + forged.replace("'", "''") + "'")
    report = grade(TXN, script)
    assert categories(report) == ["wrong_answer", "failed"], report  # the note differs
    shown = report.outcomes[0].actual_repr
    assert shown is not None and shown.startswith("final transfers: [(1, '\\n{")


# ------------------------------------------------------ hidden tests: pass or fail, nothing else


def index_leak_spec(secret: int) -> SqlChallengeSpec:
    return sql_spec(
        {
            "mode": "index",
            "schema": "CREATE TABLE t (x INTEGER NOT NULL);",
            "query": "SELECT x FROM t WHERE x = 1",
            "requires_index_on": "t",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "reference_solution": "CREATE INDEX good ON t(x);",
            "tests": [
                {"name": "shown", "visible": True, "data": "INSERT INTO t VALUES (1);"},
                {"name": "secret", "data": f"INSERT INTO t VALUES ({secret});"},  # noqa: S608
                {"name": "after", "data": "INSERT INTO t VALUES (3);"},
            ],
        }
    )


# Each fails on the secret row (6 or 7) in a way chosen by the row, and on the row 3.
INDEX_LEAKS = {
    "error type chosen by the hidden row": "CREATE INDEX good ON t(x); CREATE INDEX bad ON t("
    "CASE x WHEN 1 THEN 1 WHEN 7 THEN abs(-9223372036854775801 - x) "
    "ELSE json('not json') END);",
    "memory or error by the hidden row": "CREATE INDEX good ON t(x); CREATE INDEX bad ON t("
    "CASE x WHEN 1 THEN 1 WHEN 6 THEN length(hex(zeroblob(300000000))) "
    "ELSE json('not json ' || x) END);",
}


@pytest.mark.parametrize("attack", list(INDEX_LEAKS), ids=list(INDEX_LEAKS))
def test_index_attack_shows_only_pass_fail(attack: str) -> None:
    first, second = (grade(index_leak_spec(secret), INDEX_LEAKS[attack]) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


def transaction_leak_spec(secret: int) -> SqlChallengeSpec:
    return sql_spec(
        {
            "mode": "transaction",
            "schema": "CREATE TABLE t (x INTEGER NOT NULL);",
            "reader_query": "SELECT SUM(x) FROM t",
            "check_tables": ["t"],
            "time_limit": 1,
            "memory_limit_mb": 128,
            "reference_solution": "BEGIN; UPDATE t SET x = x * 2; COMMIT;",
            "tests": [
                {"name": "shown", "visible": True, "data": "INSERT INTO t VALUES (1);"},
                {"name": "secret", "data": f"INSERT INTO t VALUES ({secret});"},  # noqa: S608
                {"name": "after", "data": "INSERT INTO t VALUES (3);"},
            ],
        }
    )


TXN_PREFIX = "BEGIN; UPDATE t SET x = CASE WHEN x = 1 THEN 2 WHEN x = 3 THEN -1 "
TXN_LEAKS = {  # learner scripts (hence the noqa: S608 below)
    "error by the hidden row": TXN_PREFIX
    + "WHEN x = 7 THEN abs(-9223372036854775801 - x) ELSE 0 END; COMMIT;",
    "timeout by the hidden row": TXN_PREFIX  # noqa: S608
    + "WHEN x = 7 THEN (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n) ELSE 0 END; COMMIT;",
    "memory by the hidden row": TXN_PREFIX
    + "WHEN x = 6 THEN length(hex(zeroblob(300000000))) ELSE 0 END; COMMIT;",
    "partial state seen by the hidden row's reader": "UPDATE t SET x = CASE WHEN x = 1 THEN 2 "
    "WHEN x = 3 THEN -1 ELSE x END; UPDATE t SET x = x + 1 WHERE x = 7; "
    "UPDATE t SET x = 0 WHERE x > 3;",
}


@pytest.mark.parametrize("attack", list(TXN_LEAKS), ids=list(TXN_LEAKS))
def test_transaction_attack_shows_only_pass_fail(attack: str) -> None:
    first, second = (grade(transaction_leak_spec(secret), TXN_LEAKS[attack]) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)
