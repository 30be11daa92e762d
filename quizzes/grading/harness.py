"""The program that runs INSIDE the sandbox (stdlib only; never imported by the worker).

    /usr/bin/python3 -I -S -B /sandbox/harness.py

Inputs: ``/sandbox/input.bin`` (marshal: the worker is trusted in this direction, and
marshal costs no import, unlike json, which drags in re and enum) holds the challenge
shape and the inputs of the VISIBLE tests only; ``/sandbox/solution.py`` or
``/sandbox/query.sql`` the learner's code.
Expected values never enter the sandbox.

The config's ``mode`` picks the code path: ``function`` (Python), and for SQL on SQLite
``query`` (one SELECT, its rows reported), ``index`` (a DDL script applied to each test's
database, then the challenge's fixed query: its plan, the indexes the script created and
its rows reported) and ``transaction`` (a script run statement by statement on one
connection of a WAL database file in /tmp, while a second connection runs the reader's
query before it and after each statement; the observations and the final rows of the
checked tables reported). A script runs under an authorizer that allows its mode's
statements only: nothing reaches a file (ATTACH, VACUUM), the connection (PRAGMA) or,
in transaction mode, the schema, so the reader's connection and query stay as written.

Protocol (output is JSON, written by a small encoder here, because the worker must
parse it as untrusted data): one JSON object per line on the private result channel (the fd named by
``SKILLMAP_RESULT_FD``; stdout and stderr belong to the learner's code):

    {"t": "hello"}                                     before any learner code runs
    {"t": "compile_error", "type", "line", "msg"}      the source does not compile
    {"t": "load_error", "category", ...}               loading it failed; nothing else runs
    {"t": "loaded"}
    {"t": "test", "i": n, "status": ...}               one per test, in order
    {"t": "await_hidden"}                              then hidden inputs are read from stdin
    {"t": "done"}

Hidden test inputs arrive on stdin only after the worker holds a result for every
visible test: the learner's code can read anything in this process, so the inputs of
hidden tests must not be here while the results that are shown to the learner
(visible tests' actual values) are being produced.

A hidden test reports only what tells pass from fail: a JSON value ("ok"), the
exception's type names (matched against an expected ``raises``; "exception"), or
"failed" for everything else (a value that is not JSON, time, memory, a crash of the
test). Which limit was hit is not said.
The worker keeps none of it beyond pass/fail: learner code shares this process and can
rewrite anything written here, so the worker, not this file, is the boundary.

Values are reported as {"v": <json>} or, when not JSON-representable, {"r": <repr>}.
Exceptions as a list of [type name, is_trusted] pairs along the MRO, where trusted means
one of the builtin (or, for SQL, sqlite3) exception classes recorded by IDENTITY when this
program starts, before any learner code runs: a name looked up later could be one the
learner registered.
"""

from __future__ import annotations

import _json
import _signal
import builtins
import marshal
import math
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs an import on every run; mypy alone needs it
    from collections.abc import Callable
    from types import FrameType, ModuleType
    from typing import Any

    Record = dict[str, Any]

INPUT_PATH = "/sandbox/input.bin"
SOLUTION_PATH = "/sandbox/solution.py"
QUERY_PATH = "/sandbox/query.sql"
SOLUTION_FILENAME = "solution.py"

MAX_VALUE_CHARS = 256 * 1024
MAX_REPR_CHARS = 2000
MAX_ROWS = 10000
RETRIGGER_SECONDS = 0.05

_write = os.write
_monotonic = time.monotonic
_setitimer = _signal.setitimer
_ITIMER_REAL = _signal.ITIMER_REAL
_quote = _json.encode_basestring_ascii
_type = type
_id = id
# The slots themselves, not attribute lookups a metaclass could answer with a property.
_mro_of = type.__dict__["__mro__"].__get__
_name_of = type.__dict__["__name__"].__get__


def _exception_classes(namespace: dict[str, Any]) -> dict[int, tuple[type, str]]:
    """{id(class): (class, name)} of the exception classes in a namespace (the class is
    kept, so its id is never reused)."""
    return {
        id(value): (value, value.__name__)
        for value in namespace.values()
        if isinstance(value, type) and issubclass(value, BaseException)
    }


# Taken as this module loads, before the learner's code exists in this process.
_TRUSTED = _exception_classes(vars(builtins))


class _Timeout(BaseException):
    pass


class _NotJson(Exception):
    pass


class _NotEncodable(Exception):
    pass


def _dumps(value: Any, depth: int = 0) -> str:
    """JSON text of a value made of None/bool/int/float/str/list/dict (NaN allowed)."""
    if depth > 200:
        raise _NotEncodable()
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value in (math.inf, -math.inf):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    if kind is str:
        return _quote(value)
    if kind is list:
        return "[" + ",".join([_dumps(item, depth + 1) for item in value]) + "]"
    if kind is dict:
        parts = []
        for key, item in value.items():
            if type(key) is not str:
                raise _NotEncodable()
            parts.append(_quote(key) + ":" + _dumps(item, depth + 1))
        return "{" + ",".join(parts) + "}"
    raise _NotEncodable()


class _Guard:
    armed = False
    expired = False


_guard = _Guard()


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _guard.armed:
        _guard.expired = True
        raise _Timeout()


def _emit(record: Record, result_fd: int) -> None:
    try:
        line = _dumps(record) + "\n"
    except (_NotEncodable, RecursionError):
        line = _dumps({"t": "test", "i": record.get("i"), "status": "harness_error"}) + "\n"
    data = line.encode("utf-8", "replace")
    while data:
        try:
            written = _write(result_fd, data)
        except InterruptedError:
            continue
        data = data[written:]


def _guarded(seconds: float, thunk: Callable[[], Any]) -> tuple[str, Any]:
    """Run thunk() with a wall-clock guard; returns (status, value).

    status is "ok", "timeout", "memory_limit" or "exception" (value = MRO names)."""
    _guard.expired = False
    _guard.armed = True
    _setitimer(_ITIMER_REAL, seconds, RETRIGGER_SECONDS)
    try:
        try:
            value = thunk()
        finally:
            _guard.armed = False
            _setitimer(_ITIMER_REAL, 0)
    except _Timeout:
        return "timeout", None
    except MemoryError:
        return "memory_limit", None
    except RecursionError as exc:
        if _guard.expired:
            return "timeout", None
        return "exception", _exception_names(exc)
    except BaseException as exc:
        if _guard.expired:
            return "timeout", None
        return "exception", _exception_names(exc)
    if _guard.expired:
        return "timeout", None
    return "ok", value


def _exception_names(exc: BaseException) -> list[list[Any]]:
    names = []
    try:
        for cls in _mro_of(_type(exc))[:12]:
            if cls is object:
                break
            known = _TRUSTED.get(_id(cls))
            if known is not None and known[0] is cls:
                names.append([known[1], True])
            else:
                names.append([str.__str__(_name_of(cls))[:100], False])
    except BaseException:
        names.append(["Exception", True])
    return names


def _to_json(value: Any, depth: int = 0) -> Any:
    if depth > 100:
        raise _NotJson()
    if value is None or value is True or value is False:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (list, tuple)):
        return [_to_json(item, depth + 1) for item in value]
    if isinstance(value, dict):
        result = {}
        for key, item in dict.items(value):
            if not isinstance(key, str):
                raise _NotJson()
            result[str.__str__(key)] = _to_json(item, depth + 1)
        return result
    raise _NotJson()


def _encode(value: Any) -> Record:
    """Runs under the guard: repr() and iteration may call the learner's code."""
    try:
        converted = _to_json(value)
        text = _dumps(converted)
        if len(text) > MAX_VALUE_CHARS:
            return {"r": f"<a value of {len(text)} characters, too large to compare>"}
        return {"v": converted}
    except (_NotJson, _NotEncodable, RecursionError, ValueError):
        pass
    try:
        text = repr(value)
        if not isinstance(text, str):
            text = "<unrepresentable value>"
    except (MemoryError, _Timeout):
        raise
    except BaseException:
        text = "<unrepresentable value>"
    return {"r": str.__str__(text)[:MAX_REPR_CHARS]}


# --------------------------------------------------------------------------- python


def _traceback_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SOLUTION_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _run_python(config: Record, result_fd: int) -> None:
    with open(SOLUTION_PATH, "rb") as handle:
        source = handle.read()
    try:
        code = compile(source, SOLUTION_FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        _emit(
            {
                "t": "compile_error",
                "type": type(exc).__name__,
                "line": exc.lineno,
                "msg": str(exc.msg)[:300],
            },
            result_fd,
        )
        return
    except ValueError as exc:  # null bytes
        _emit(
            {"t": "compile_error", "type": "SyntaxError", "line": None, "msg": str(exc)[:300]},
            result_fd,
        )
        return

    module = type(sys)("solution")
    module.__file__ = SOLUTION_PATH
    sys.modules["solution"] = module
    namespace = module.__dict__
    per_test = float(config["per_test_seconds"])

    load_error = []

    def load() -> None:
        try:
            exec(code, namespace)
        except (MemoryError, _Timeout):
            raise
        except BaseException as exc:
            load_error.append(_traceback_line(exc))
            raise

    status, value = _guarded(per_test, load)
    if status != "ok":
        record: Record = {"t": "load_error", "category": status}
        if status == "exception":
            record["exc"] = value
            record["line"] = load_error[0] if load_error else None
        _emit(record, result_fd)
        return

    entry_point = config["entry_point"]
    kind = config["kind"]
    target = namespace.get(entry_point)
    if target is None:
        _emit({"t": "load_error", "category": "missing"}, result_fd)
        return
    if kind == "class" and not isinstance(target, type):
        _emit({"t": "load_error", "category": "not_class"}, result_fd)
        return
    if kind == "function" and not callable(target):
        _emit({"t": "load_error", "category": "not_callable"}, result_fd)
        return
    _emit({"t": "loaded"}, result_fd)

    def run_tests(tests: list[Record], first_index: int, hidden: bool) -> None:
        for offset, test in enumerate(tests):
            index = first_index + offset
            if kind == "function":
                record = _run_function_test(target, test, per_test)
            else:
                record = _run_class_test(target, test, per_test)
            if hidden:
                record = _hidden_python_record(record)
            record["t"] = "test"
            record["i"] = index
            _emit(record, result_fd)

    visible = config["tests"]
    run_tests(visible, 0, hidden=False)
    if config.get("hidden_count", 0):
        run_tests(_read_hidden(result_fd), len(visible), hidden=True)


def _run_function_test(target: Any, test: Record, per_test: float) -> Record:
    args = test.get("args", [])
    kwargs = test.get("kwargs", {})
    status, value = _guarded(per_test, lambda: _encode(target(*args, **kwargs)))
    if status == "ok":
        return {"status": "ok", "value": value}
    if status == "exception":
        return {"status": "exception", "exc": value}
    return {"status": status}


def _run_class_test(cls: Any, test: Record, per_test: float) -> Record:
    calls_out: list[Record] = []
    init_error = []

    def run() -> None:
        try:
            instance = cls(*test.get("init_args", []), **test.get("init_kwargs", {}))
        except (MemoryError, _Timeout):
            raise
        except BaseException as exc:
            init_error.append(_exception_names(exc))
            return
        for call in test.get("calls", []):
            try:
                method = getattr(instance, call["method"])
                value = _encode(method(*call.get("args", []), **call.get("kwargs", {})))
                calls_out.append({"status": "ok", "value": value})
            except (MemoryError, _Timeout):
                raise
            except BaseException as exc:
                calls_out.append({"status": "exception", "exc": _exception_names(exc)})
        return

    status, value = _guarded(per_test, run)
    if status == "exception":  # raised outside the per-call handlers (e.g. a hostile getattr)
        return {"status": "exception", "exc": value}
    if status != "ok":
        return {"status": status, "calls": calls_out}
    if init_error:
        return {"status": "init_exception", "exc": init_error[0]}
    return {"status": "ok", "calls": calls_out}


def _outcome_only(result: Record) -> Record:
    value = result.get("value")
    if result.get("status") == "ok" and isinstance(value, dict) and "v" in value:
        return {"status": "ok", "value": value}  # a repr ({"r": ...}) can never pass
    if result.get("status") == "exception":
        return {"status": "exception", "exc": result.get("exc")}
    return {"status": "failed"}


def _hidden_python_record(record: Record) -> Record:
    """A hidden test's record cut down to what grading needs (see the module docstring)."""
    if "calls" not in record:
        return _outcome_only(record)
    if record.get("status") != "ok":
        return {"status": "failed"}
    return {"status": "ok", "calls": [_outcome_only(call) for call in record["calls"]]}


def _hidden_sql_record(record: Record) -> Record:
    if record.get("status") != "ok":
        return {"status": "failed"}
    return {"status": "ok", "rows": record.get("rows"), "truncated": record.get("truncated")}


def _read_hidden(result_fd: int) -> list[Record]:
    _emit({"t": "await_hidden"}, result_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(0, 1 << 16)
        except InterruptedError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
    try:
        hidden = marshal.loads(b"".join(chunks))  # noqa: S302 - from the worker (trusted)
    except (ValueError, EOFError, TypeError):
        return []
    return hidden if isinstance(hidden, list) else []


# --------------------------------------------------------------------------- sql

_SQL_ALLOWED_ACTIONS = frozenset((20, 21, 31, 33))  # READ, SELECT, FUNCTION, RECURSIVE


def _sql_authorizer(
    action: int, arg1: str | None, arg2: str | None, db_name: str | None, trigger: str | None
) -> int:
    if action == 31 and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return 1  # disabled by Python's sqlite3 anyway; refused here too
    return 0 if action in _SQL_ALLOWED_ACTIONS else 1  # SQLITE_OK / SQLITE_DENY


def _sql_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"blob": value.hex()}
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else value
    return value


def _run_sql(config: Record, result_fd: int) -> None:
    import sqlite3

    _TRUSTED.update(_exception_classes(vars(sqlite3)))  # no learner Python runs in SQL mode

    with open(QUERY_PATH, "rb") as handle:
        query = handle.read().decode("utf-8", "replace").strip()
    schema = config["schema"]
    per_test = float(config["per_test_seconds"])

    if not query:
        _emit(
            {"t": "compile_error", "type": "SqlError", "line": None, "msg": "the query is empty"},
            result_fd,
        )
        return
    try:
        connection = sqlite3.connect(":memory:", isolation_level=None)
        connection.executescript(schema)
    except sqlite3.Error as exc:
        _emit({"t": "setup_error", "msg": f"schema: {exc}"[:300]}, result_fd)
        return
    connection.set_authorizer(_sql_authorizer)
    try:
        connection.execute("EXPLAIN " + query).fetchall()
    except sqlite3.Warning as exc:  # more than one statement
        _emit(
            {"t": "compile_error", "type": "SqlError", "line": None, "msg": str(exc)[:300]},
            result_fd,
        )
        return
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "not authorized" in message:
            message = "only a single SELECT statement is allowed (no writes, PRAGMA or ATTACH)"
        _emit(
            {"t": "compile_error", "type": "SqlError", "line": None, "msg": message[:300]},
            result_fd,
        )
        return
    except sqlite3.ProgrammingError as exc:
        _emit(
            {"t": "compile_error", "type": "SqlError", "line": None, "msg": str(exc)[:300]},
            result_fd,
        )
        return
    connection.close()
    _emit({"t": "loaded"}, result_fd)

    def run_tests(tests: list[Record], first_index: int, hidden: bool) -> None:
        for offset, test in enumerate(tests):
            record = _run_sql_test(sqlite3, schema, query, test.get("data", ""), per_test)
            if hidden:
                record = _hidden_sql_record(record)
            record["t"] = "test"
            record["i"] = first_index + offset
            _emit(record, result_fd)

    visible = config["tests"]
    run_tests(visible, 0, hidden=False)
    if config.get("hidden_count", 0):
        run_tests(_read_hidden(result_fd), len(visible), hidden=True)


def _run_sql_test(
    sqlite3: ModuleType, schema: str, query: str, data: str, per_test: float
) -> Record:
    try:
        connection = sqlite3.connect(":memory:", isolation_level=None)
        connection.executescript(schema)
        connection.executescript(data)
    except sqlite3.Error as exc:
        return {"status": "setup_error", "msg": str(exc)[:300]}
    deadline = _monotonic() + per_test
    connection.set_progress_handler(lambda: 1 if _monotonic() > deadline else 0, 1000)
    connection.set_authorizer(_sql_authorizer)
    rows = []
    truncated = False
    try:
        cursor = connection.execute(query)
        while True:
            batch = cursor.fetchmany(500)
            if not batch:
                break
            for row in batch:
                rows.append([_sql_value(value) for value in row])
            if len(rows) > MAX_ROWS:
                truncated = True
                break
    except MemoryError:
        return {"status": "memory_limit"}
    except sqlite3.Error as exc:
        if _monotonic() > deadline:
            return {"status": "timeout"}
        if "out of memory" in str(exc):
            return {"status": "memory_limit"}
        return {"status": "exception", "exc": _exception_names(exc)}
    finally:
        try:  # noqa: SIM105 - contextlib costs an import on every run
            connection.close()
        except Exception:  # noqa: S110 - closing a broken connection; nothing to report
            pass
    return {"status": "ok", "rows": rows[:MAX_ROWS], "truncated": truncated}


# --------------------------------------------------------------------------- sql scripts
# Index and transaction modes take a script of several statements. It is split here
# (quotes and comments respected) and every statement is run on its own with
# ``execute``, which refuses a second statement: what runs is exactly what was checked.
# The first words of each statement give the learner a clear refusal; the authorizer
# (one policy per mode) is the barrier.

MAX_SCRIPT_STATEMENTS = 100
MAX_READER_ROWS = 50
MAX_STATEMENT_TEXT = 80
LOCK_WAIT_SECONDS = 0.2

_DENIED_FUNCTIONS = frozenset(("load_extension",))

# sqlite3 authorizer action codes, for the learner's messages.
_ACTION_NAMES = {
    1: "CREATE INDEX", 2: "CREATE TABLE", 3: "CREATE TEMP INDEX", 4: "CREATE TEMP TABLE",
    5: "CREATE TEMP TRIGGER", 6: "CREATE TEMP VIEW", 7: "CREATE TRIGGER", 8: "CREATE VIEW",
    9: "DELETE", 10: "DROP INDEX", 11: "DROP TABLE", 12: "DROP TEMP INDEX",
    13: "DROP TEMP TABLE", 14: "DROP TEMP TRIGGER", 15: "DROP TEMP VIEW", 16: "DROP TRIGGER",
    17: "DROP VIEW", 18: "INSERT", 19: "PRAGMA", 20: "READ", 21: "SELECT",
    22: "BEGIN/COMMIT", 23: "UPDATE", 24: "ATTACH", 25: "DETACH", 26: "ALTER TABLE",
    27: "REINDEX", 28: "ANALYZE", 29: "CREATE VIRTUAL TABLE", 30: "DROP VIRTUAL TABLE",
    31: "a function call", 32: "SAVEPOINT", 33: "a recursive query",
}  # fmt: skip
_SCHEMA_TABLES = frozenset(("sqlite_master", "sqlite_schema", "sqlite_stat1", "sqlite_stat4"))
_STAT_TABLES = frozenset(("sqlite_stat1", "sqlite_stat4"))

_INDEX_RULE = (
    "an index script may only CREATE INDEX, CREATE UNIQUE INDEX, DROP INDEX "
    "(of an index it created) and ANALYZE"
)
_TRANSACTION_RULE = (
    "a transaction script may only read and write rows (SELECT, INSERT, UPDATE, DELETE, "
    "REPLACE) and control transactions (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE)"
)
_TRANSACTION_WORDS = frozenset((
    "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
    "SELECT", "WITH", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE",
))  # fmt: skip


def _skip_quoted(script: str, start: int) -> int:
    """The index after the quoted token opening at ``start`` (its end if unterminated)."""
    opening = script[start]
    closing = "]" if opening == "[" else opening
    position = start + 1
    while True:
        end = script.find(closing, position)
        if end < 0:
            return len(script)
        if closing != "]" and script.startswith(closing, end + 1):  # a doubled quote
            position = end + 2
            continue
        return end + 1


def _skip_comment(script: str, start: int) -> int:
    """The index after the comment opening at ``start``, or ``start`` if there is none."""
    if script.startswith("--", start):
        end = script.find("\n", start)
        return len(script) if end < 0 else end + 1
    if script.startswith("/*", start):
        end = script.find("*/", start + 2)
        return len(script) if end < 0 else end + 2
    return start


def _split_sql(script: str) -> list[str]:
    """A script's statements, split at the semicolons outside quotes and comments;
    pieces holding nothing but whitespace and comments are dropped."""
    statements = []
    start = position = 0
    has_token = False
    length = len(script)
    while position < length:
        char = script[position]
        if char in "'\"`[":
            position = _skip_quoted(script, position)
            has_token = True
            continue
        after = _skip_comment(script, position)
        if after != position:
            position = after
            continue
        if char == ";":
            if has_token:
                statements.append(script[start : position + 1])
            start = position + 1
            has_token = False
        elif not char.isspace():
            has_token = True
        position += 1
    if has_token:
        statements.append(script[start:])
    return statements


def _leading_words(statement: str, count: int = 4) -> list[str]:
    """The first keywords of a statement, upper-cased (comments skipped)."""
    words: list[str] = []
    position = 0
    length = len(statement)
    while position < length and len(words) < count:
        char = statement[position]
        if char.isspace():
            position += 1
            continue
        after = _skip_comment(statement, position)
        if after != position:
            position = after
            continue
        if not (char.isalpha() or char == "_"):
            break
        end = position
        while end < length and (statement[end].isalnum() or statement[end] == "_"):
            end += 1
        words.append(statement[position:end].upper())
        position = end
    return words


def _statement_kind(words: list[str]) -> str:
    """What a statement is, in the learner's words: "DROP TABLE", "CREATE TEMP VIEW"..."""
    if not words:
        return "a statement that does not start with a keyword"
    if words[0] in ("CREATE", "DROP", "ALTER"):
        kind = [words[0]]
        for word in words[1:]:
            kind.append(word)
            if word in ("TABLE", "INDEX", "VIEW", "TRIGGER"):
                break
        return " ".join(kind)
    return words[0]


def _statement_text(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= MAX_STATEMENT_TEXT else text[: MAX_STATEMENT_TEXT - 1] + "…"


def _script_statements(result_fd: int) -> list[str] | None:
    """The learner's script as statements, or None after reporting why it cannot run."""
    with open(QUERY_PATH, "rb") as handle:
        script = handle.read().decode("utf-8", "replace")
    statements = _split_sql(script)
    message = None
    if not statements:
        message = "the script is empty"
    elif len(statements) > MAX_SCRIPT_STATEMENTS:
        message = f"the script has more than {MAX_SCRIPT_STATEMENTS} statements"
    if message is not None:
        _emit({"t": "compile_error", "type": "SqlError", "line": None, "msg": message}, result_fd)
        return None
    return statements


def _refuse(result_fd: int, message: str) -> None:
    _emit({"t": "compile_error", "type": "SqlError", "line": None, "msg": message[:300]}, result_fd)


def _denial_message(number: int, denied: list[Any], error: BaseException) -> str:
    """The learner's message for a statement that failed to compile or run."""
    message = str(error)
    if "not authorized" in message and denied:
        action, name = denied[-1]
        if action == 10:
            return (
                f"statement {number}: DROP INDEX {name}: only an index your script created "
                "may be dropped"
            )
        what = _ACTION_NAMES.get(action, "this operation")
        if action in (9, 18, 23) and name and name.lower().startswith("sqlite_"):
            # Also how pragma functions and dbstat fail: they touch sqlite_master.
            return (
                f"statement {number}: SQLite's own tables ({name}) are off limits, and so are "
                "the pragma functions and dbstat that use them"
            )
        if action in (9, 18, 23) and name:
            what = f"{what} on {name}"
        if action == 31 and name:
            what = f"{name}()"
        return f"statement {number}: {what} is not allowed"
    return f"statement {number}: {message}"


def _index_names(connection: Any) -> set[str]:
    rows = connection.execute("SELECT name FROM main.sqlite_master WHERE type = 'index'")
    return {str(name).lower() for (name,) in rows.fetchall()}


def _index_authorizer(
    existing: set[str], denied: list[Any]
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """CREATE INDEX, DROP INDEX (not of an index that existed before the script), ANALYZE,
    and the writes to the schema and statistics tables those statements make themselves."""

    def authorize(
        action: int, arg1: str | None, arg2: str | None, db_name: str | None, trigger: str | None
    ) -> int:
        main = db_name in (None, "main")
        name = (arg1 or "").lower()
        if action in (20, 21):  # READ, SELECT: CREATE INDEX and ANALYZE read the table
            allowed = True
        elif action == 31:  # FUNCTION: index expressions
            allowed = (arg2 or "").lower() not in _DENIED_FUNCTIONS
        elif action in (1, 27, 28):  # CREATE INDEX (and its REINDEX), ANALYZE
            allowed = main
        elif action == 10:  # DROP INDEX
            allowed = main and name not in existing
        elif action in (9, 18, 23):  # what CREATE/DROP INDEX and ANALYZE write themselves
            allowed = main and name in _SCHEMA_TABLES
        elif action == 2:  # ANALYZE creates sqlite_stat1
            allowed = main and name in _STAT_TABLES
        else:
            allowed = False
        if allowed:
            return 0
        denied.append((action, arg2 if action == 31 else arg1))
        return 1

    return authorize


def _transaction_authorizer(
    denied: list[Any],
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """Reads, row writes to the schema's own tables, and transaction control; nothing
    that changes the schema, the connection (PRAGMA) or reaches another file (ATTACH)."""

    def authorize(
        action: int, arg1: str | None, arg2: str | None, db_name: str | None, trigger: str | None
    ) -> int:
        if action in (20, 21, 22, 32, 33):  # READ, SELECT, TRANSACTION, SAVEPOINT, RECURSIVE
            allowed = True
        elif action == 31:
            allowed = (arg2 or "").lower() not in _DENIED_FUNCTIONS
        elif action in (9, 18, 23):  # DELETE, INSERT, UPDATE
            allowed = db_name == "main" and not (arg1 or "").lower().startswith("sqlite_")
        else:
            allowed = False
        if allowed:
            return 0
        denied.append((action, arg2 if action == 31 else arg1))
        return 1

    return authorize


def _deadline_handler(deadline: float) -> Callable[[], int]:
    return lambda: 1 if _monotonic() > deadline else 0


def _sql_failure(sqlite3: ModuleType, exc: BaseException, deadline: float) -> Record:
    """A limit, or the exception's names."""
    if isinstance(exc, MemoryError):
        return {"status": "memory_limit"}
    if _monotonic() > deadline:
        return {"status": "timeout"}
    if "out of memory" in str(exc):
        return {"status": "memory_limit"}
    return {"status": "exception", "exc": _exception_names(exc)}


def _fetch_rows(cursor: Any, limit: int) -> tuple[list[list[Any]], bool]:
    rows: list[list[Any]] = []
    while True:
        batch = cursor.fetchmany(500)
        if not batch:
            return rows, False
        for row in batch:
            rows.append([_sql_value(value) for value in row])
        if len(rows) > limit:
            return rows[:limit], True


def _run_sql_mode(
    config: Record,
    result_fd: int,
    check: Callable[[ModuleType, list[str]], str | None],
    run_test: Callable[[ModuleType, list[str], Record, int], Record],
) -> None:
    """The shared frame of the script modes: split and check the script once, then run
    it once per test (visible first; hidden inputs only after)."""
    import sqlite3

    _TRUSTED.update(_exception_classes(vars(sqlite3)))  # no learner Python runs in SQL mode

    statements = _script_statements(result_fd)
    if statements is None:
        return
    try:
        problem = check(sqlite3, statements)
    except sqlite3.Error as exc:  # the schema itself
        _emit({"t": "setup_error", "msg": f"schema: {exc}"[:300]}, result_fd)
        return
    if problem is not None:
        _refuse(result_fd, problem)
        return
    _emit({"t": "loaded"}, result_fd)

    def run_tests(tests: list[Record], first_index: int, hidden: bool) -> None:
        for offset, test in enumerate(tests):
            index = first_index + offset
            record = run_test(sqlite3, statements, test, index)
            if hidden:
                record = _hidden_script_record(record)
            record["t"] = "test"
            record["i"] = index
            _emit(record, result_fd)

    visible = config["tests"]
    run_tests(visible, 0, hidden=False)
    if config.get("hidden_count", 0):
        run_tests(_read_hidden(result_fd), len(visible), hidden=True)


def _hidden_script_record(record: Record) -> Record:
    """What judging a hidden test needs, and nothing the learner's text shaped."""
    if record.get("status") != "ok":
        return {"status": "failed"}
    kept = ("plan", "indexes", "rows", "truncated", "seen", "final", "final_truncated")
    return {"status": "ok", **{key: record[key] for key in kept if key in record}}


# --------------------------------------------------------------------------- sql: index


def _check_index_script(
    sqlite3: ModuleType, schema: str, statements: list[str], per_test: float
) -> str | None:
    """Why the script cannot run (statement kinds, then a run on the bare schema)."""
    for number, statement in enumerate(statements, 1):
        words = _leading_words(statement)
        if not (
            words[:2] in (["CREATE", "INDEX"], ["DROP", "INDEX"])
            or words[:3] == ["CREATE", "UNIQUE", "INDEX"]
            or words[:1] == ["ANALYZE"]
        ):
            return f"statement {number} ({_statement_kind(words)}) is not allowed: {_INDEX_RULE}"
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        connection.executescript(schema)
        problem = _apply_index_script(sqlite3, connection, statements, per_test)
        if problem is None:
            return None
        if problem.get("status") == "exception":
            return str(problem.get("msg"))
        return "checking your script took too long"
    finally:
        connection.close()


def _apply_index_script(
    sqlite3: ModuleType, connection: Any, statements: list[str], per_test: float
) -> Record | None:
    """Run the script on ``connection``; None, or the failure as a test record."""
    deadline = _monotonic() + per_test
    connection.set_progress_handler(_deadline_handler(deadline), 1000)
    denied: list[Any] = []
    connection.set_authorizer(_index_authorizer(_index_names(connection), denied))
    for number, statement in enumerate(statements, 1):
        try:
            connection.execute(statement).fetchall()
        except (MemoryError, sqlite3.Error, sqlite3.Warning) as exc:
            failure = _sql_failure(sqlite3, exc, deadline)
            if failure["status"] == "exception":
                failure["msg"] = _denial_message(number, denied, exc)[:300]
            return failure
    return None


def _run_index_test(
    sqlite3: ModuleType, config: Record, statements: list[str], test: Record
) -> Record:
    per_test = float(config["per_test_seconds"])
    try:
        connection = sqlite3.connect(":memory:", isolation_level=None)
        connection.executescript(config["schema"])
        connection.executescript(test.get("data", ""))
    except sqlite3.Error as exc:
        return {"status": "setup_error", "msg": str(exc)[:300]}
    try:
        existing = _index_names(connection)
        failure = _apply_index_script(sqlite3, connection, statements, per_test)
        if failure is not None:
            return failure
        deadline = _monotonic() + per_test
        connection.set_progress_handler(_deadline_handler(deadline), 1000)
        connection.set_authorizer(_sql_authorizer)
        try:
            indexes = [
                [str(name), str(table)]
                for name, table in connection.execute(
                    "SELECT name, tbl_name FROM main.sqlite_master WHERE type = 'index'"
                ).fetchall()
                if str(name).lower() not in existing
            ]
            plan = [
                str(row[3])[:500]
                for row in connection.execute("EXPLAIN QUERY PLAN " + config["query"]).fetchall()
            ][:100]
            rows, truncated = _fetch_rows(connection.execute(config["query"]), MAX_ROWS)
        except (MemoryError, sqlite3.Error) as exc:
            failure = _sql_failure(sqlite3, exc, deadline)
            if failure["status"] == "exception":
                failure["msg"] = f"the challenge's query failed after your script: {exc}"[:300]
            return failure
        return {
            "status": "ok", "plan": plan, "indexes": indexes[:100],
            "rows": rows, "truncated": truncated,
        }  # fmt: skip
    finally:
        _close(connection)


def _close(connection: Any) -> None:
    try:  # noqa: SIM105 - contextlib costs an import on every run
        connection.close()
    except Exception:  # noqa: S110 - closing a broken connection; nothing to report
        pass


def _run_index(config: Record, result_fd: int) -> None:
    per_test = float(config["per_test_seconds"])
    _run_sql_mode(
        config,
        result_fd,
        lambda sqlite3, statements: _check_index_script(
            sqlite3, config["schema"], statements, per_test
        ),
        lambda sqlite3, statements, test, index: _run_index_test(sqlite3, config, statements, test),
    )


# --------------------------------------------------------------------------- sql: transaction

TRANSACTION_DB = "/tmp/skillmap-{}.db"  # noqa: S108 - the sandbox's private tmpfs


def _check_transaction_script(
    sqlite3: ModuleType, schema: str, statements: list[str]
) -> str | None:
    """Why the script cannot run: a statement of a kind not allowed, or one that does not
    compile against the schema (compiled with EXPLAIN, never run)."""
    for number, statement in enumerate(statements, 1):
        words = _leading_words(statement, 1)
        if not words or words[0] not in _TRANSACTION_WORDS:
            words = _leading_words(statement)
            return (
                f"statement {number} ({_statement_kind(words)}) is not allowed: "
                + _TRANSACTION_RULE
            )
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        connection.executescript(schema)
        denied: list[Any] = []
        connection.set_authorizer(_transaction_authorizer(denied))
        for number, statement in enumerate(statements, 1):
            try:
                connection.execute("EXPLAIN " + statement).fetchall()
            except (sqlite3.Error, sqlite3.Warning) as exc:
                return _denial_message(number, denied, exc)
        return None
    finally:
        connection.close()


def _remove_database(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:  # noqa: SIM105 - contextlib costs an import on every run
            os.remove(path + suffix)
        except OSError:
            pass


def _run_transaction_test(
    sqlite3: ModuleType, config: Record, statements: list[str], test: Record, index: int
) -> Record:
    """Run the script statement by statement on one connection of a WAL database while a
    second connection runs the reader's query before it and after each statement."""
    path = TRANSACTION_DB.format(index)
    _remove_database(path)
    try:
        setup = sqlite3.connect(path, isolation_level=None)
        try:
            setup.execute("PRAGMA journal_mode = WAL").fetchall()
            setup.executescript(config["schema"])
            setup.executescript(test.get("data", ""))
        finally:
            setup.close()
    except sqlite3.Error as exc:
        _remove_database(path)
        return {"status": "setup_error", "msg": str(exc)[:300]}
    per_test = float(config["per_test_seconds"])
    deadline = _monotonic() + per_test
    reader = writer = None
    try:
        reader = sqlite3.connect(path, isolation_level=None, timeout=LOCK_WAIT_SECONDS)
        reader.set_progress_handler(_deadline_handler(deadline), 1000)
        reader.set_authorizer(_sql_authorizer)
        writer = sqlite3.connect(path, isolation_level=None, timeout=LOCK_WAIT_SECONDS)
        writer.set_progress_handler(_deadline_handler(deadline), 1000)
        denied: list[Any] = []
        writer.set_authorizer(_transaction_authorizer(denied))
        reader_query = config["reader_query"]

        def observe() -> Record:
            try:
                rows, truncated = _fetch_rows(reader.execute(reader_query), MAX_READER_ROWS)
            except sqlite3.Error as exc:
                if _monotonic() > deadline:
                    raise
                return {"error": str(exc)[:200]}
            return {"rows": rows, "truncated": truncated} if truncated else {"rows": rows}

        seen = [[0, observe()]]
        error = None
        for number, statement in enumerate(statements, 1):
            try:
                cursor = writer.execute(statement)
                while cursor.fetchmany(500):
                    pass
            except (sqlite3.Error, sqlite3.Warning) as exc:
                if _monotonic() > deadline:
                    raise
                error = {
                    "at": number,
                    "exc": _exception_names(exc),
                    "msg": _denial_message(number, denied, exc)[:300],
                }
                break
            seen.append([number, observe()])
        left_open = bool(writer.in_transaction)
        writer.close()  # an open transaction is rolled back
        writer = None
        final = []
        final_truncated = []
        for table, columns in config["check_tables"]:
            select = ", ".join('"' + column + '"' for column in columns) if columns else "*"
            rows, truncated = _fetch_rows(
                reader.execute(f'SELECT {select} FROM main."{table}"'),  # noqa: S608
                MAX_ROWS,
            )
            final.append(rows)
            final_truncated.append(truncated)
    except (MemoryError, sqlite3.Error, sqlite3.Warning) as exc:
        failure = _sql_failure(sqlite3, exc, deadline)
        if failure["status"] == "exception":  # the reader's final read: the schema's tables
            failure["msg"] = f"reading the final state failed: {exc}"[:300]
        return failure
    finally:
        for connection in (writer, reader):
            if connection is not None:
                _close(connection)
        _remove_database(path)
    return {
        "status": "ok",
        "seen": seen,
        "final": final,
        "final_truncated": final_truncated,
        "error": error,
        "open": left_open,
        "statements": [_statement_text(statement) for statement in statements],
    }


def _run_transaction(config: Record, result_fd: int) -> None:
    _run_sql_mode(
        config,
        result_fd,
        lambda sqlite3, statements: _check_transaction_script(
            sqlite3, config["schema"], statements
        ),
        lambda sqlite3, statements, test, index: _run_transaction_test(
            sqlite3, config, statements, test, index
        ),
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    result_fd = int(os.environ["SKILLMAP_RESULT_FD"])
    _signal.signal(_signal.SIGALRM, _on_alarm)
    _emit({"t": "hello"}, result_fd)
    with open(INPUT_PATH, "rb") as handle:
        config = marshal.loads(handle.read())  # noqa: S302 - written by the worker
    mode = config["mode"]
    if mode == "query":
        _run_sql(config, result_fd)
    elif mode == "index":
        _run_index(config, result_fd)
    elif mode == "transaction":
        _run_transaction(config, result_fd)
    else:
        _run_python(config, result_fd)
    _emit({"t": "done"}, result_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (and the learner's atexit hooks)


if __name__ == "__main__":
    main()
