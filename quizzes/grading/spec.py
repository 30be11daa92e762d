"""Challenge specifications: the validated, typed form of a YAML ``challenge:`` mapping.

The format is defined in ``fixtures/questions/README.md``. ``spec_from_dict`` is the only
way in; it rejects anything it does not understand with a ``SpecError`` whose message
names the offending key, so ``check_bank`` can point an author at the exact mistake.

Invariant: a ``TestCase`` expects either a value (``raises is None``, ``expect`` may
legitimately be ``None``) or an exception type name (``raises`` set, ``expect`` unused).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .languages.errors import ERRORS
from .languages.names import LANGUAGE_KEYS
from .signature import (
    RESERVED_NAMES,
    Signature,
    SignatureError,
    bind_arguments,
    check_value,
    signature_from_dict,
)

__all__ = [
    "SQL_MODES",
    "Call",
    "CheckTable",
    "CodeChallengeSpec",
    "LanguageMaterial",
    "PythonChallengeSpec",
    "Rule",
    "SpecError",
    "SqlChallengeSpec",
    "TestCase",
    "WrongSolution",
    "code_spec_cached",
    "spec_from_dict",
    "tests_for",
]

DEFAULT_TIME_LIMIT = 2.0
DEFAULT_MEMORY_LIMIT_MB = 256
MAX_TIME_LIMIT = 30.0
MIN_MEMORY_LIMIT_MB = 64
MAX_MEMORY_LIMIT_MB = 2048

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXCEPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class SpecError(SignatureError):
    """A challenge mapping is malformed; the message says where and why."""


@dataclass(frozen=True)
class Call:
    """One method call of a class-kind test, run in order on the same instance."""

    method: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    expect: Any = None
    raises: str | None = None
    tolerance: float | None = None


@dataclass(frozen=True)
class Rule:
    """A rule the statement states; hidden tests name the rule they enforce."""

    id: str
    text: str


@dataclass(frozen=True)
class WrongSolution:
    """A plausible mistake: passes every visible test and fails a hidden one. ``breaks``
    names the one rule it breaks; ``author`` wrote it (someone other than the tests')."""

    source: str
    breaks: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class TestCase:
    """One graded test. Function kind uses args/kwargs; class kind init_*/calls; SQL data."""

    __test__ = False  # not a pytest test class

    name: str
    visible: bool = False
    weight: float = 1.0
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    expect: Any = None
    raises: str | None = None
    tolerance: float | None = None
    init_args: list[Any] = field(default_factory=list)
    init_kwargs: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    data: str = ""
    rule: str | None = None  # the stated rule this test enforces
    # The languages this hidden test applies to (empty: all), for a distinction only some
    # languages' values keep (JSON's 2.0 and 2 are one number in JavaScript).
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageMaterial:
    """One language's own material for a code challenge (Python's is in the spec itself):
    ``starter`` overrides the starter generated from the signature (None: generate)."""

    reference_solution: str
    wrong_solutions: tuple[WrongSolution, ...] = ()
    starter: str | None = None


@dataclass(frozen=True)
class CodeChallengeSpec:
    """A language-neutral code challenge: a function or a class over JSON-like values.

    ``signature`` is None only for a Python-only challenge (one written before signatures,
    or outside the roadmap bank); with it, every test has been checked against it and the
    challenge can be graded in every registered language. ``languages`` holds each other
    language's reference and wrong solutions (and an optional starter override); Python's
    are ``reference_solution``, ``wrong_solutions`` and ``starter``."""

    entry_point: str
    kind: Literal["function", "class"]
    tests: tuple[TestCase, ...]
    time_limit: float = DEFAULT_TIME_LIMIT
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    rules: tuple[Rule, ...] = ()
    wrong_solutions: tuple[WrongSolution, ...] = ()
    tests_author: str | None = None
    signature: Signature | None = None
    languages: Mapping[str, LanguageMaterial] = field(default_factory=dict)
    starter: str = ""
    reference_solution: str = ""

    def material(self, language: str) -> LanguageMaterial | None:
        """The reference and wrong solutions (and starter override) in ``language``."""
        if language == "python":
            return LanguageMaterial(
                self.reference_solution, self.wrong_solutions, self.starter or None
            )
        return self.languages.get(language)


# The name the grader used when code challenges were Python only.
PythonChallengeSpec = CodeChallengeSpec


SqlMode = Literal["query", "index", "transaction"]
SQL_MODES: tuple[SqlMode, ...] = ("query", "index", "transaction")


@dataclass(frozen=True)
class CheckTable:
    """A table whose final state a transaction challenge compares; ``columns`` empty
    means every column (list them to leave out surrogate keys whose values depend on
    insertion order)."""

    table: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SqlChallengeSpec:
    """An SQL challenge on SQLite. ``mode`` says what the learner submits and how it is
    judged (fixtures/questions/README.md): ``query`` a SELECT whose rows are compared with
    the reference's; ``index`` a DDL script after which the fixed ``query`` must SEARCH
    ``requires_index_on`` through an index the script created (without a temp B-tree when
    ``forbid_sort``), its rows unchanged; ``transaction`` a script whose final state of
    ``check_tables`` must match the reference script's, while a concurrent reader running
    ``reader_query`` after each statement sees only the state before or after."""

    schema: str
    ordered: bool
    reference_solution: str
    tests: tuple[TestCase, ...]
    time_limit: float = DEFAULT_TIME_LIMIT
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    rules: tuple[Rule, ...] = ()
    wrong_solutions: tuple[WrongSolution, ...] = ()
    tests_author: str | None = None
    mode: SqlMode = "query"
    query: str = ""  # index mode: the fixed query whose plan is judged
    requires_index_on: str = ""  # index mode: the table the plan must SEARCH by index
    forbid_sort: bool = False  # index mode: no USE TEMP B-TREE anywhere in the plan
    reader_query: str = ""  # transaction mode: the concurrent reader's invariant query
    check_tables: tuple[CheckTable, ...] = ()  # transaction mode: the final state compared


_PYTHON_KEYS = {
    "entry_point",
    "kind",
    "starter",
    "time_limit",
    "memory_limit_mb",
    "reference_solution",
    "wrong_solutions",
    "tests",
    "rules",
    "tests_author",
    "signature",
    "records",
    "languages",
}
_LANGUAGE_KEYS = {"starter", "reference_solution", "wrong_solutions"}
# The languages whose material sits under ``languages:`` (Python's is the spec's own).
OTHER_LANGUAGES = tuple(key for key in LANGUAGE_KEYS if key != "python")
_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_SQL_KEYS = {
    "schema",
    "ordered",
    "starter",
    "reference_solution",
    "wrong_solutions",
    "tests",
    "time_limit",
    "memory_limit_mb",
    "rules",
    "tests_author",
    "mode",
    "query",
    "requires_index_on",
    "forbid_sort",
    "reader_query",
    "check_tables",
}
# The keys that belong to one mode only; any other mode refuses them.
_SQL_MODE_KEYS: dict[str, frozenset[str]] = {
    "query": frozenset(),
    "index": frozenset({"query", "requires_index_on", "forbid_sort"}),
    "transaction": frozenset({"reader_query", "check_tables"}),
}
_CHECK_TABLE_KEYS = {"table", "columns"}
_COMMON_TEST_KEYS = {"name", "visible", "weight", "rule", "languages"}
_RULE_KEYS = {"id", "text"}
_WRONG_KEYS = {"source", "breaks", "author"}
_FUNCTION_TEST_KEYS = _COMMON_TEST_KEYS | {"args", "kwargs", "expect", "raises", "tolerance"}
_CLASS_TEST_KEYS = _COMMON_TEST_KEYS | {"init", "calls"}
_CALL_KEYS = {"method", "args", "kwargs", "expect", "raises", "tolerance"}
_INIT_KEYS = {"args", "kwargs"}
_SQL_TEST_KEYS = _COMMON_TEST_KEYS | {"data"}


def spec_from_dict(kind: str, data: dict[str, Any]) -> CodeChallengeSpec | SqlChallengeSpec:
    """Validate the ``challenge:`` mapping of a ``code`` (or, by its old name, ``python``)
    or ``sql`` item.

    Raises ``SpecError`` naming the first problem found.
    """
    parser = _PARSERS.get(kind)
    if parser is None:
        raise SpecError(f"unknown challenge type {kind!r}: expected 'code' or 'sql'")
    return parser(data)


def code_spec_from_dict(data: dict[str, Any]) -> CodeChallengeSpec:
    """Validate a code challenge's ``challenge:`` mapping; raises ``SpecError``."""
    return _python_spec(_mapping(data))


python_spec_from_dict = code_spec_from_dict


class _SpecMemo:
    """The specs of recently read ``challenge:`` mappings, for the pages that show a
    challenge: parsing one validates every test (milliseconds for a bank challenge with
    solutions in five languages), and a page asks for the spec several times.

    A spec is a pure function of its mapping and immutable, so the one parsed from equal
    content is handed out again: first by the mapping's identity (the same object read again
    within a request; the memo keeps it alive, so the address cannot be reused), then by a
    digest of its JSON (the same item version loaded again by a later request). Callers
    must not change a mapping after passing it. A mapping that fails to parse is not
    remembered: each call raises again."""

    def __init__(
        self,
        parser: Callable[[dict[str, Any]], CodeChallengeSpec],
        *,
        by_identity: int = 32,
        by_content: int = 256,
    ) -> None:
        self._parser = parser
        self._identity: OrderedDict[int, tuple[dict[str, Any], CodeChallengeSpec]] = OrderedDict()
        self._content: OrderedDict[bytes, CodeChallengeSpec] = OrderedDict()
        self._sizes = (by_identity, by_content)
        self._lock = threading.Lock()

    def __call__(self, data: dict[str, Any]) -> CodeChallengeSpec:
        with self._lock:
            held = self._identity.get(id(data))
            if held is not None and held[0] is data:
                self._identity.move_to_end(id(data))
                return held[1]
        try:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return self._parser(data)  # not JSON content: parsed (and refused) every time
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        with self._lock:
            spec = self._content.get(digest)
            if spec is not None:
                self._content.move_to_end(digest)
        if spec is None:
            spec = self._parser(data)
        with self._lock:
            self._remember(self._content, digest, spec, self._sizes[1])
            self._remember(self._identity, id(data), (data, spec), self._sizes[0])
        return spec

    @staticmethod
    def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)


# ``code_spec_from_dict`` for the pages that read a stored challenge.
code_spec_cached = _SpecMemo(code_spec_from_dict)


def sql_spec_from_dict(data: dict[str, Any]) -> SqlChallengeSpec:
    """Validate an SQL challenge's ``challenge:`` mapping; raises ``SpecError``."""
    return _sql_spec(_mapping(data))


def _mapping(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SpecError(f"challenge: expected a mapping, got {_type_name(data)}")
    return data


def _python_spec(data: dict[str, Any]) -> PythonChallengeSpec:
    _check_keys(data, _PYTHON_KEYS, "challenge")
    if "entry_point" not in data:
        raise SpecError("challenge: missing required key 'entry_point'")
    entry_point = data["entry_point"]
    if not isinstance(entry_point, str) or not _IDENTIFIER.fullmatch(entry_point):
        raise SpecError(f"challenge.entry_point: expected a Python identifier, got {entry_point!r}")
    kind = data.get("kind", "function")
    if kind not in ("function", "class"):
        raise SpecError(f"challenge.kind: expected 'function' or 'class', got {kind!r}")
    for key in ("starter", "reference_solution"):
        if key in data and not isinstance(data[key], str):
            raise SpecError(f"challenge.{key}: expected a string, got {_type_name(data[key])}")
    rules = _rules(data)
    wrong = _wrong_solutions(data, rules)
    raw_tests = _test_list(data)
    tests: list[TestCase] = []
    for index, raw in enumerate(raw_tests):
        where = _test_where(index, raw)
        if kind == "function":
            tests.append(_function_test(raw, where))
        else:
            tests.append(_class_test(raw, where))
    _check_unique_names(tests)
    _check_test_rules(tests, rules)
    signature = _signature(data, kind, entry_point)
    if signature is not None:
        check_tests(signature, tests, raw_tests)
    elif "languages" in data:
        raise SpecError(
            "challenge.languages: a challenge offered in other languages needs a 'signature'"
        )
    return CodeChallengeSpec(
        entry_point=entry_point,
        kind=kind,
        tests=tuple(tests),
        time_limit=_time_limit(data),
        memory_limit_mb=_memory_limit(data),
        rules=rules,
        wrong_solutions=wrong,
        tests_author=_author(data),
        signature=signature,
        languages=_languages(data, rules),
        starter=data.get("starter", ""),
        reference_solution=data.get("reference_solution", ""),
    )


def _signature(data: dict[str, Any], kind: str, entry_point: str) -> Signature | None:
    if "signature" not in data:
        if "records" in data:
            raise SpecError("challenge.records: records are only used by a 'signature'")
        return None
    if kind == "function" and not _SNAKE.fullmatch(entry_point):
        raise SpecError(
            f"challenge.entry_point: a function's neutral name is snake_case, got {entry_point!r}"
        )
    if kind == "class" and not _PASCAL.fullmatch(entry_point):
        raise SpecError(
            f"challenge.entry_point: a class's neutral name is PascalCase, got {entry_point!r}"
        )
    if entry_point in RESERVED_NAMES:
        raise SpecError(f"challenge.entry_point: {entry_point!r} is a reserved word")
    try:
        return signature_from_dict(
            kind, data["signature"], data.get("records"), known_errors=ERRORS
        )
    except SpecError:
        raise
    except SignatureError as exc:
        raise SpecError(str(exc)) from None


def check_tests(
    signature: Signature, tests: list[TestCase], raw_tests: list[dict[str, Any]] | None = None
) -> None:
    """Every test's arguments and expected values fit the signature; raise SpecError
    naming the test, the argument and the place inside the value that does not."""
    records = signature.records_by_name
    try:
        for index, test in enumerate(tests):
            where = f"challenge.tests[{index}] ({test.name!r})"
            if signature.kind == "function":
                _check_call(
                    signature.params, test.args, test.kwargs, records, where,
                    returns=signature.returns, raises=test.raises, expect=test.expect,
                    allowed_raises=signature.raises,
                )  # fmt: skip
                continue
            _check_call(
                signature.params, test.init_args, test.init_kwargs, records, f"{where}.init",
                returns=None, raises=None, expect=None, allowed_raises=signature.init_raises,
            )  # fmt: skip
            for call_index, call in enumerate(test.calls):
                at = f"{where}.calls[{call_index}]"
                method = signature.method(call.method)
                if method is None:
                    names = ", ".join(m.name for m in signature.methods)
                    raise SpecError(
                        f"{at}.method: {call.method!r} is not a method of the signature "
                        f"(methods: {names})"
                    )
                _check_call(
                    method.params, call.args, call.kwargs, records, f"{at} ({call.method})",
                    returns=method.returns, raises=call.raises, expect=call.expect,
                    allowed_raises=method.raises,
                )  # fmt: skip
    except SpecError:
        raise
    except SignatureError as exc:
        raise SpecError(str(exc)) from None


def _check_call(
    params: tuple[Any, ...],
    args: list[Any],
    kwargs: dict[str, Any],
    records: Mapping[str, Any],
    where: str,
    *,
    returns: Any,
    raises: str | None,
    expect: Any,
    allowed_raises: tuple[str, ...],
) -> None:
    bound = bind_arguments(params, args, kwargs, where)
    for position, (param, value) in enumerate(zip(params, bound, strict=True)):
        if param.name in kwargs:
            at = f"{where}.kwargs.{param.name}"
        elif position < len(args):
            at = f"{where}.args[{position}] ({param.name})"
        else:
            continue  # the default, checked with the signature
        check_value(value, param.type, records, at)
    if raises is not None:
        if raises not in allowed_raises:
            declared = ", ".join(allowed_raises) or "none"
            raise SpecError(
                f"{where}.raises: {raises!r} is not in the signature's 'raises' "
                f"(declared: {declared})"
            )
        return
    if returns is not None:
        check_value(expect, returns, records, f"{where}.expect")


def _languages(data: dict[str, Any], rules: tuple[Rule, ...]) -> dict[str, LanguageMaterial]:
    raw = data.get("languages")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError("challenge.languages: expected a mapping of language: material")
    found: dict[str, LanguageMaterial] = {}
    for language, entry in raw.items():
        where = f"challenge.languages.{language}"
        if language == "python":
            raise SpecError(
                f"{where}: Python's solutions are the challenge's own reference_solution "
                "and wrong_solutions"
            )
        if language not in OTHER_LANGUAGES:
            raise SpecError(
                f"challenge.languages: unknown language {language!r} "
                f"(expected one of {', '.join(OTHER_LANGUAGES)})"
            )
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: expected a mapping with 'reference_solution'")
        _check_keys(entry, _LANGUAGE_KEYS, where)
        reference = entry.get("reference_solution")
        if not isinstance(reference, str) or not reference.strip():
            raise SpecError(f"{where}.reference_solution: expected the solution's source text")
        starter = entry.get("starter")
        if starter is not None and not isinstance(starter, str):
            raise SpecError(f"{where}.starter: expected a string")
        found[language] = LanguageMaterial(
            reference_solution=reference,
            wrong_solutions=_wrong_solutions(entry, rules, where=f"{where}.wrong_solutions"),
            starter=starter,
        )
    return found


def _sql_spec(data: dict[str, Any]) -> SqlChallengeSpec:
    _check_keys(data, _SQL_KEYS, "challenge")
    mode = data.get("mode", "query")
    if mode not in SQL_MODES:
        raise SpecError(
            f"challenge.mode: expected one of {', '.join(map(repr, SQL_MODES))}, got {mode!r}"
        )
    for owner, keys in _SQL_MODE_KEYS.items():
        for key in sorted(keys & data.keys()):
            if owner != mode:
                raise SpecError(
                    f"challenge.{key}: only used with 'mode: {owner}' (mode is {mode!r})"
                )
    for key in ("schema", "reference_solution"):
        if key not in data:
            raise SpecError(f"challenge: missing required key {key!r}")
        if not isinstance(data[key], str) or not data[key].strip():
            raise SpecError(f"challenge.{key}: expected a non-empty string")
    if mode == "transaction" and "ordered" in data:
        raise SpecError("challenge.ordered: a transaction challenge compares tables as sets")
    ordered = data.get("ordered", False)
    if not isinstance(ordered, bool):
        raise SpecError(f"challenge.ordered: expected true or false, got {ordered!r}")
    if "starter" in data and not isinstance(data["starter"], str):
        raise SpecError("challenge.starter: expected a string")
    rules = _rules(data)
    wrong = _wrong_solutions(data, rules)
    tests: list[TestCase] = []
    for index, raw in enumerate(_test_list(data)):
        where = _test_where(index, raw)
        _check_keys(raw, _SQL_TEST_KEYS, where)
        test_data = raw.get("data", "")
        if not isinstance(test_data, str):
            raise SpecError(f"{where}.data: expected a string of SQL, got {_type_name(test_data)}")
        tests.append(TestCase(**_common_test_fields(raw, where), data=test_data))
    _check_unique_names(tests)
    _check_test_rules(tests, rules)
    return SqlChallengeSpec(
        schema=data["schema"],
        ordered=ordered,
        reference_solution=data["reference_solution"],
        tests=tuple(tests),
        time_limit=_time_limit(data),
        memory_limit_mb=_memory_limit(data),
        rules=rules,
        wrong_solutions=wrong,
        tests_author=_author(data),
        mode=mode,
        **_SQL_MODE_PARSERS[mode](data),
    )


def _sql_text(data: dict[str, Any], key: str) -> str:
    if key not in data:
        raise SpecError(f"challenge: missing required key {key!r} (mode {data.get('mode')!r})")
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"challenge.{key}: expected a non-empty string of SQL")
    return value


def _table_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise SpecError(f"{where}: expected a table name (a plain identifier), got {value!r}")
    return value


def _query_mode_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {}


def _index_mode_fields(data: dict[str, Any]) -> dict[str, Any]:
    if "requires_index_on" not in data:
        raise SpecError("challenge: missing required key 'requires_index_on' (mode 'index')")
    forbid_sort = data.get("forbid_sort", False)
    if not isinstance(forbid_sort, bool):
        raise SpecError(f"challenge.forbid_sort: expected true or false, got {forbid_sort!r}")
    return {
        "query": _sql_text(data, "query"),
        "requires_index_on": _table_name(data["requires_index_on"], "challenge.requires_index_on"),
        "forbid_sort": forbid_sort,
    }


def _transaction_mode_fields(data: dict[str, Any]) -> dict[str, Any]:
    reader_query = _sql_text(data, "reader_query")
    if "check_tables" not in data:
        raise SpecError("challenge: missing required key 'check_tables' (mode 'transaction')")
    raw = data["check_tables"]
    if not isinstance(raw, list) or not raw:
        raise SpecError("challenge.check_tables: expected a non-empty list of table names")
    tables: list[CheckTable] = []
    for index, entry in enumerate(raw):
        where = f"challenge.check_tables[{index}]"
        if isinstance(entry, dict):
            _check_keys(entry, _CHECK_TABLE_KEYS, where)
            table = _table_name(entry.get("table"), f"{where}.table")
            columns = entry.get("columns")
            if not isinstance(columns, list) or not columns:
                raise SpecError(f"{where}.columns: expected a non-empty list of column names")
            names = tuple(_table_name(c, f"{where}.columns") for c in columns)
            if len(set(names)) != len(names):
                raise SpecError(f"{where}.columns: a column is listed twice")
            tables.append(CheckTable(table, names))
        else:
            tables.append(CheckTable(_table_name(entry, where)))
    if len({t.table.lower() for t in tables}) != len(tables):
        raise SpecError("challenge.check_tables: a table is listed twice")
    return {"reader_query": reader_query, "check_tables": tuple(tables)}


_SQL_MODE_PARSERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "query": _query_mode_fields,
    "index": _index_mode_fields,
    "transaction": _transaction_mode_fields,
}


def _test_list(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "tests" not in data:
        raise SpecError("challenge: missing required key 'tests'")
    raw_tests = data["tests"]
    if not isinstance(raw_tests, list) or not raw_tests:
        raise SpecError("challenge.tests: expected a non-empty list of tests")
    for index, raw in enumerate(raw_tests):
        if not isinstance(raw, dict):
            raise SpecError(f"challenge.tests[{index}]: expected a mapping, got {_type_name(raw)}")
    return raw_tests


def _test_where(index: int, raw: dict[str, Any]) -> str:
    name = raw.get("name")
    return f"challenge.tests[{index}]" + (f" ({name!r})" if isinstance(name, str) else "")


def _common_test_fields(raw: dict[str, Any], where: str) -> dict[str, Any]:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"{where}: missing or empty 'name'")
    visible = raw.get("visible", False)
    if not isinstance(visible, bool):
        raise SpecError(f"{where}.visible: expected true or false, got {visible!r}")
    weight = raw.get("weight", 1)
    if not _is_number(weight) or not weight > 0 or not math.isfinite(weight):
        raise SpecError(f"{where}.weight: expected a positive number, got {weight!r}")
    rule = raw.get("rule")
    if rule is not None and (not isinstance(rule, str) or not rule.strip()):
        raise SpecError(f"{where}.rule: expected the id of a rule, got {rule!r}")
    languages = raw.get("languages", [])
    if (
        not isinstance(languages, list)
        or (not languages and "languages" in raw)
        or not all(isinstance(k, str) and k in LANGUAGE_KEYS for k in languages)
        or len(set(languages)) != len(languages)
    ):
        raise SpecError(
            f"{where}.languages: expected a non-empty list of languages, each one of "
            f"{', '.join(LANGUAGE_KEYS)}, got {languages!r}"
        )
    if languages and visible:
        raise SpecError(f"{where}.languages: a visible test is an example in every language")
    return {
        "name": name,
        "visible": visible,
        "weight": float(weight),
        "rule": rule,
        "languages": tuple(languages),
    }


def _rules(data: dict[str, Any]) -> tuple[Rule, ...]:
    raw = data.get("rules", [])
    if not isinstance(raw, list):
        raise SpecError("challenge.rules: expected a list of {id, text}")
    rules: list[Rule] = []
    for index, entry in enumerate(raw):
        where = f"challenge.rules[{index}]"
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: expected a mapping with 'id' and 'text'")
        _check_keys(entry, _RULE_KEYS, where)
        rule_id, text = entry.get("id"), entry.get("text")
        if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", rule_id):
            raise SpecError(f"{where}.id: expected a kebab-case id, got {rule_id!r}")
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"{where}.text: expected the rule as the statement states it")
        if any(r.id == rule_id for r in rules):
            raise SpecError(f"{where}.id: duplicate rule id {rule_id!r}")
        rules.append(Rule(rule_id, text.strip()))
    return tuple(rules)


def _author(data: dict[str, Any]) -> str | None:
    author = data.get("tests_author")
    if author is not None and (not isinstance(author, str) or not author.strip()):
        raise SpecError("challenge.tests_author: expected a name")
    return author


def _wrong_solutions(
    data: dict[str, Any], rules: tuple[Rule, ...], *, where: str = "challenge.wrong_solutions"
) -> tuple[WrongSolution, ...]:
    """Wrong solutions as plain source text, or as ``{source, breaks, author}``."""
    raw = data.get("wrong_solutions", [])
    if not isinstance(raw, list):
        raise SpecError(f"{where}: expected a list")
    ids = {r.id for r in rules}
    found: list[WrongSolution] = []
    base = where
    for index, entry in enumerate(raw):
        where = f"{base}[{index}]"
        if isinstance(entry, str):
            found.append(WrongSolution(entry))
            continue
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: expected source text or a mapping with 'source'")
        _check_keys(entry, _WRONG_KEYS, where)
        source, breaks, author = entry.get("source"), entry.get("breaks"), entry.get("author")
        if not isinstance(source, str) or not source.strip():
            raise SpecError(f"{where}.source: expected the solution's source text")
        if breaks is not None and breaks not in ids:
            raise SpecError(f"{where}.breaks: {breaks!r} is not one of the challenge's rules")
        if author is not None and (not isinstance(author, str) or not author.strip()):
            raise SpecError(f"{where}.author: expected a name")
        found.append(WrongSolution(source, breaks, author))
    return tuple(found)


def _check_test_rules(tests: list[TestCase], rules: tuple[Rule, ...]) -> None:
    ids = {r.id for r in rules}
    for test in tests:
        if test.rule is not None and test.rule not in ids:
            raise SpecError(
                f"challenge.tests ({test.name!r}).rule: {test.rule!r} is not one of the "
                "challenge's rules"
            )


def _function_test(raw: dict[str, Any], where: str) -> TestCase:
    _check_keys(raw, _FUNCTION_TEST_KEYS, where)
    expectation = _expectation(raw, where)
    return TestCase(
        **_common_test_fields(raw, where),
        args=_args(raw, where),
        kwargs=_kwargs(raw, where),
        **expectation,
    )


def _class_test(raw: dict[str, Any], where: str) -> TestCase:
    _check_keys(raw, _CLASS_TEST_KEYS, where)
    init = raw.get("init", {})
    if init is None:
        init = {}
    if not isinstance(init, dict):
        raise SpecError(f"{where}.init: expected a mapping with args/kwargs")
    _check_keys(init, _INIT_KEYS, f"{where}.init")
    raw_calls = raw.get("calls")
    if not isinstance(raw_calls, list) or not raw_calls:
        raise SpecError(f"{where}.calls: expected a non-empty list of method calls")
    calls: list[Call] = []
    for call_index, raw_call in enumerate(raw_calls):
        call_where = f"{where}.calls[{call_index}]"
        if not isinstance(raw_call, dict):
            raise SpecError(f"{call_where}: expected a mapping, got {_type_name(raw_call)}")
        _check_keys(raw_call, _CALL_KEYS, call_where)
        method = raw_call.get("method")
        if not isinstance(method, str) or not _IDENTIFIER.fullmatch(method):
            raise SpecError(f"{call_where}.method: expected a method name, got {method!r}")
        calls.append(
            Call(
                method=method,
                args=_args(raw_call, call_where),
                kwargs=_kwargs(raw_call, call_where),
                **_expectation(raw_call, call_where),
            )
        )
    return TestCase(
        **_common_test_fields(raw, where),
        init_args=_args(init, f"{where}.init"),
        init_kwargs=_kwargs(init, f"{where}.init"),
        calls=calls,
    )


def _expectation(raw: dict[str, Any], where: str) -> dict[str, Any]:
    has_expect = "expect" in raw
    has_raises = "raises" in raw
    if has_expect == has_raises:
        raise SpecError(f"{where}: needs exactly one of 'expect' or 'raises'")
    tolerance = raw.get("tolerance")
    if tolerance is not None:
        if not _is_number(tolerance) or tolerance < 0 or not math.isfinite(tolerance):
            raise SpecError(f"{where}.tolerance: expected a non-negative number, got {tolerance!r}")
        if has_raises:
            raise SpecError(f"{where}.tolerance: only meaningful with 'expect'")
        tolerance = float(tolerance)
    if has_raises:
        raises = raw["raises"]
        if not isinstance(raises, str) or not _EXCEPTION_NAME.fullmatch(raises):
            raise SpecError(f"{where}.raises: expected an exception type name, got {raises!r}")
        return {"raises": raises.rsplit(".", 1)[-1], "expect": None, "tolerance": None}
    expect = raw["expect"]
    _check_json_value(expect, f"{where}.expect")
    return {"expect": expect, "raises": None, "tolerance": tolerance}


def _args(raw: dict[str, Any], where: str) -> list[Any]:
    args = raw.get("args", [])
    if args is None:
        args = []
    if not isinstance(args, list):
        raise SpecError(f"{where}.args: expected a list of arguments, got {_type_name(args)}")
    _check_json_value(args, f"{where}.args")
    return args


def _kwargs(raw: dict[str, Any], where: str) -> dict[str, Any]:
    kwargs = raw.get("kwargs", {})
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise SpecError(f"{where}.kwargs: expected a mapping, got {_type_name(kwargs)}")
    for key in kwargs:
        if not isinstance(key, str) or not _IDENTIFIER.fullmatch(key):
            raise SpecError(f"{where}.kwargs: {key!r} is not a valid argument name")
    _check_json_value(kwargs, f"{where}.kwargs")
    return kwargs


def _check_json_value(value: Any, where: str, depth: int = 0) -> None:
    """Values must survive a JSON round trip (YAML dates, sets, tuples do not)."""
    if depth > 50:
        raise SpecError(f"{where}: nested too deeply")
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        return  # NaN and infinities are allowed; scoring knows how to compare them
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecError(f"{where}: mapping keys must be strings, got {key!r}")
            _check_json_value(item, f"{where}.{key}", depth + 1)
        return
    raise SpecError(f"{where}: {_type_name(value)} is not a JSON value")


def _time_limit(data: dict[str, Any]) -> float:
    value = data.get("time_limit", DEFAULT_TIME_LIMIT)
    if not _is_number(value) or not 0 < value <= MAX_TIME_LIMIT:
        raise SpecError(
            f"challenge.time_limit: expected seconds in (0, {MAX_TIME_LIMIT:g}], got {value!r}"
        )
    return float(value)


def _memory_limit(data: dict[str, Any]) -> int:
    value = data.get("memory_limit_mb", DEFAULT_MEMORY_LIMIT_MB)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not MIN_MEMORY_LIMIT_MB <= value <= MAX_MEMORY_LIMIT_MB
    ):
        raise SpecError(
            "challenge.memory_limit_mb: expected an integer between "
            f"{MIN_MEMORY_LIMIT_MB} and {MAX_MEMORY_LIMIT_MB}, got {value!r}"
        )
    return value


def _check_keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise SpecError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _check_unique_names(tests: list[TestCase]) -> None:
    seen: set[str] = set()
    for test in tests:
        if test.name in seen:
            raise SpecError(f"challenge.tests: duplicate test name {test.name!r}")
        seen.add(test.name)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    return type(value).__name__


_PARSERS: dict[str, Callable[[dict[str, Any]], CodeChallengeSpec | SqlChallengeSpec]] = {
    "code": code_spec_from_dict,
    "python": code_spec_from_dict,
    "sql": sql_spec_from_dict,
}


def tests_for(tests: tuple[TestCase, ...], language: str) -> tuple[TestCase, ...]:
    """The tests that apply to ``language`` (a test without ``languages`` applies to all)."""
    return tuple(t for t in tests if not t.languages or language in t.languages)
