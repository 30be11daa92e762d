"""The program that runs INSIDE the sandbox (stdlib only; never imported by the worker).

    /usr/bin/python3 -I -S -B /sandbox/harness.py

Inputs: ``/sandbox/input.bin`` (marshal: the worker is trusted in this direction, and
marshal costs no import, unlike json, which drags in re and enum) holds the challenge
shape and the inputs of the VISIBLE tests only; ``/sandbox/solution.py`` or
``/sandbox/query.sql`` the learner's code.
Expected values never enter the sandbox.

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


# --------------------------------------------------------------------------- main


def main() -> None:
    result_fd = int(os.environ["SKILLMAP_RESULT_FD"])
    _signal.signal(_signal.SIGALRM, _on_alarm)
    _emit({"t": "hello"}, result_fd)
    with open(INPUT_PATH, "rb") as handle:
        config = marshal.loads(handle.read())  # noqa: S302 - written by the worker
    if config["mode"] == "query":
        _run_sql(config, result_fd)
    else:
        _run_python(config, result_fd)
    _emit({"t": "done"}, result_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (and the learner's atexit hooks)


if __name__ == "__main__":
    main()
