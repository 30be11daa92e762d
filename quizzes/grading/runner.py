"""Grade a Python or SQL submission: one sandbox run, worker-side comparison.

An SQL challenge's trusted side (the reference query or script, or in index mode the fixed
query without the learner's DDL) runs in a sandbox run of its own, before and apart from
the learner's; what it produced stays here and is compared with the learner's records.

The sandbox receives the learner's code, the harness and the test INPUTS; expected
values stay here. Visible tests run first; the inputs of hidden tests are handed over
(on the harness's stdin) only once a result for every visible test has been received,
so the values shown to the learner (visible tests' actual results) cannot carry hidden
inputs.

A hidden test reports pass or fail and nothing else: no input, value, message or
exception type, and not even how it failed (a wrong value, an exception, the time or
memory limit, or the whole run dying are all "failed"), since code that has seen the
input could choose any of those. The harness sends little for hidden tests, but the
learner's code shares its process and can write anything to the result channel, so the
rule is enforced here: a hidden test's record is reduced to a boolean by
``_hidden_outcome`` and nothing else of it is kept. The report's status and message are
settled before hidden inputs are sent (a load failure is reported then), or depend only
on the pass count; durations stay out of ``to_dict()``. What remains is when grading
finishes (see the security section of README.md).

``SandboxUnavailable`` propagates: the caller keeps the submission queued.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import signal
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from . import scoring
from .languages import LANGUAGES, Language
from .languages import language as get_language
from .languages.base import challenge_limits, per_test_seconds, run_wall_seconds
from .languages.python import HARNESS_ARGV, HARNESS_COMPILE_WALL_SECONDS, python_harness
from .outcomes import OutcomeCategory, ReportStatus
from .protocol import RecordKind, Reported
from .sandbox import Limits, SandboxRun, run_sandboxed
from .spec import (
    MAX_TIME_LIMIT,
    Call,
    CodeChallengeSpec,
    SqlChallengeSpec,
    TestCase,
    tests_for,
)

__all__ = [
    "CATEGORIES",
    "HARNESS_ARGV",
    "GradeReport",
    "TestOutcome",
    "grade_code",
    "grade_python",
    "grade_sql",
    "run_wall_seconds",
]

CATEGORIES: tuple[OutcomeCategory, ...] = tuple(OutcomeCategory)


_Record = RecordKind
_Reported = Reported


_LIMITS = (_Reported.TIMEOUT, _Reported.MEMORY_LIMIT)
_LIMIT_CATEGORY = {
    _Reported.TIMEOUT: OutcomeCategory.TIMEOUT,
    _Reported.MEMORY_LIMIT: OutcomeCategory.MEMORY_LIMIT,
}

MAX_REPR = 500
SQL_TOLERANCE = 1e-9

_SIGXCPU = int(signal.SIGXCPU)
_SIGKILL = int(signal.SIGKILL)


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class

    name: str
    visible: bool
    weight: float
    passed: bool
    category: OutcomeCategory
    exception_type: str | None = None
    input_repr: str | None = None
    expected_repr: str | None = None
    actual_repr: str | None = None


@dataclass(frozen=True)
class GradeReport:
    status: ReportStatus
    score: float
    outcomes: tuple[TestOutcome, ...]
    message: str
    # For operators only, and left out of to_dict() (the results stored for learners):
    # the run's duration includes the hidden tests', which their inputs may steer.
    wall_seconds: float
    # For operators only (harness stderr when the grader itself failed); never shown to
    # learners and left out of to_dict().
    diagnostics: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "score": self.score,
            "message": self.message,
            # The fields are scalars: a shallow copy is what asdict's deep one would give.
            "outcomes": [
                {name: getattr(outcome, name) for name in _OUTCOME_FIELDS}
                for outcome in self.outcomes
            ],
        }


_OUTCOME_FIELDS = tuple(f.name for f in fields(TestOutcome))


# --------------------------------------------------------------------------- shared


def _harness(slot: int = 0) -> tuple[dict[str, bytes], list[str]]:
    """The Python harness (SQL challenges run it too), compiled once per process."""
    return python_harness(slot)


def _limits(time_limit: float, memory_limit_mb: int) -> Limits:
    return challenge_limits(time_limit, memory_limit_mb)


def _per_test_seconds(time_limit: float) -> float:
    return per_test_seconds(time_limit)


def worst_case_seconds(
    spec: CodeChallengeSpec | SqlChallengeSpec, language: str = "python"
) -> float:
    """The longest grading one submission of ``spec`` can take: a cold harness compile,
    then its sandbox runs (an SQL challenge also runs its reference query; a compiled
    language adds its compile budget)."""
    runs = 2 if isinstance(spec, SqlChallengeSpec) else 1
    extra = 0.0 if isinstance(spec, SqlChallengeSpec) else get_language(language).extra_seconds
    return HARNESS_COMPILE_WALL_SECONDS + runs * run_wall_seconds(spec.time_limit) + extra


def max_worst_case_seconds() -> float:
    """``worst_case_seconds`` of the slowest challenge the spec allows, in any language:
    an SQL challenge's two runs, or one run of a code challenge plus its language's extra."""
    extra = max((lang.extra_seconds for lang in LANGUAGES.values()), default=0.0)
    slowest = max(2 * run_wall_seconds(MAX_TIME_LIMIT), run_wall_seconds(MAX_TIME_LIMIT) + extra)
    return HARNESS_COMPILE_WALL_SECONDS + slowest


def _select_tests(
    tests: tuple[TestCase, ...], visible_only: bool
) -> tuple[list[TestCase], list[TestCase]]:
    visible = [test for test in tests if test.visible]
    hidden = [] if visible_only else [test for test in tests if not test.visible]
    return visible, hidden


class _Records:
    """The harness's result lines, first record wins (the learner's code shares the
    harness's process and could append forged lines; it can only forge what it could
    have returned anyway, and never before the real record of a visible test)."""

    def __init__(self, raw: bytes) -> None:
        self.hello = False
        self.loaded = False
        self.done = False
        self.terminal: dict[str, Any] | None = None
        self.tests: dict[int, dict[str, Any]] = {}
        for line in raw.split(b"\n"):
            if not line:
                continue
            try:
                record = json.loads(line)
            except Exception:  # noqa: S112 - forged lines (e.g. nested too deep to parse)
                continue
            if not isinstance(record, dict):
                continue
            kind = record.get("t")
            if kind == _Record.HELLO:
                self.hello = True
            elif not self.hello:
                continue
            elif kind in (_Record.COMPILE_ERROR, _Record.LOAD_ERROR, _Record.SETUP_ERROR):
                if self.terminal is None and not self.loaded:
                    self.terminal = record
            elif kind == _Record.LOADED:
                self.loaded = self.loaded or self.terminal is None
            elif kind == _Record.TEST and self.loaded:
                index = record.get("i")
                if isinstance(index, int) and index not in self.tests:
                    self.tests[index] = record
            elif kind == _Record.DONE:
                self.done = True


def _hidden_responder(visible_count: int, payload: bytes) -> Callable[[bytes], bytes | None]:
    """Hands ``payload`` (the hidden tests' inputs) to the harness once every visible
    result is in (or nothing, once a load failure makes it moot)."""

    def respond(raw: bytes) -> bytes | None:
        records = _Records(raw)
        if records.terminal is not None:
            return b""  # nothing more will run
        if records.loaded and all(i in records.tests for i in range(visible_count)):
            return payload
        return None

    return respond


def _short(text: str, limit: int = MAX_REPR) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_repr(value: Any) -> str:
    return _short(repr(value))


def _reported_repr(encoded: Any) -> str:
    if isinstance(encoded, dict) and "v" in encoded:
        return _value_repr(encoded["v"])
    if isinstance(encoded, dict) and isinstance(encoded.get("r"), str):
        return _short(encoded["r"])
    return "<no value>"


def _exception_names(exc: Any) -> list[tuple[str, bool]]:
    if not isinstance(exc, list):
        return []
    return [
        (item[0], bool(item[1]))
        for item in exc
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
    ]


def _exception_display(exc: Any) -> str:
    """The type a visible test shows: the class as the learner's code named it."""
    names = _exception_names(exc)
    return names[0][0][:100] if names else "Exception"


def _crash_category(
    run: SandboxRun, language: Language | None = None
) -> tuple[OutcomeCategory, str | None]:
    """Why the harness stopped before reporting the test it was running."""
    if run.output_truncated:
        return OutcomeCategory.OUTPUT_LIMIT, None
    markers: tuple[bytes, ...] = (b"MemoryError", b"Cannot allocate memory")
    if language is not None:
        markers += language.out_of_memory_markers
    if any(marker in run.stderr for marker in markers):
        return OutcomeCategory.MEMORY_LIMIT, None
    if run.timed_out or run.signal in (_SIGXCPU, _SIGKILL):
        return OutcomeCategory.TIMEOUT, None
    if run.signal is not None:
        try:
            return OutcomeCategory.EXCEPTION, signal.Signals(run.signal).name
        except ValueError:
            return OutcomeCategory.EXCEPTION, f"signal {run.signal}"
    return OutcomeCategory.EXCEPTION, "SystemExit"


def _not_run(tests: list[TestCase]) -> tuple[TestOutcome, ...]:
    return tuple(
        TestOutcome(
            name=test.name, visible=test.visible, weight=test.weight, passed=False,
            category=OutcomeCategory.NOT_RUN,
        )
        for test in tests
    )  # fmt: skip


def _report(
    status: ReportStatus,
    outcomes: tuple[TestOutcome, ...],
    message: str,
    run: SandboxRun | None,
    diagnostics: str = "",
) -> GradeReport:
    return GradeReport(
        status=status,
        score=scoring.weighted_score(outcomes) if status == ReportStatus.GRADED else 0.0,
        outcomes=outcomes,
        message=message,
        wall_seconds=run.wall_seconds if run is not None else 0.0,
        diagnostics=diagnostics,
    )


def _infrastructure_error(run: SandboxRun, tests: list[TestCase]) -> GradeReport:
    how = "did not start in time" if run.timed_out else f"failed to start (exit {run.exit_code})"
    return _report(
        ReportStatus.ERROR,
        _not_run(tests),
        f"The grader {how}; this is not a problem with your code. It will be retried.",
        run,
        diagnostics=run.stderr[-4000:].decode("utf-8", "replace"),
    )


def _collect(
    tests: list[TestCase],
    records: _Records,
    run: SandboxRun,
    judge: Callable[[TestCase, dict[str, Any]], TestOutcome],
    passes: Callable[[TestCase, dict[str, Any]], bool],
    language: Language | None = None,
) -> tuple[TestOutcome, ...]:
    """One outcome per test: visible tests judged in full, hidden ones by ``passes``."""
    outcomes: list[TestOutcome] = []
    crashed = False
    for index, test in enumerate(tests):
        record = records.tests.get(index)
        if not test.visible:
            outcomes.append(
                _hidden_outcome(test, record is not None and _safely(passes, test, record))
            )
        elif record is not None:
            try:
                outcomes.append(judge(test, record))
            except Exception:  # a forged record the judge cannot read
                outcomes.append(_outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE))
        elif not crashed:  # hidden inputs were never sent: this is visible-only behaviour
            crashed = True
            category, exception_type = _crash_category(run, language)
            outcomes.append(_outcome(test, category, exception_type=exception_type, actual=None))
        else:
            outcomes.append(_outcome(test, OutcomeCategory.NOT_RUN))
    return tuple(outcomes)


def _safely(
    passes: Callable[[TestCase, dict[str, Any]], bool], test: TestCase, record: dict[str, Any]
) -> bool:
    try:
        return bool(passes(test, record))
    except Exception:  # a forged record cannot pass, nor stop the grading
        return False


def _hidden_outcome(test: TestCase, passed: bool) -> TestOutcome:
    """All a hidden test tells: passed, or failed (however it failed, or if never run)."""
    return TestOutcome(
        name=test.name,
        visible=False,
        weight=test.weight,
        passed=passed,
        category=OutcomeCategory.PASSED if passed else OutcomeCategory.FAILED,
    )


def _outcome(
    test: TestCase,
    category: OutcomeCategory,
    *,
    exception_type: str | None = None,
    input_repr: str | None = None,
    expected_repr: str | None = None,
    actual: str | None = None,
) -> TestOutcome:
    """A visible test's outcome, in full."""
    if not test.visible:
        return _hidden_outcome(test, category == OutcomeCategory.PASSED)
    return TestOutcome(
        name=test.name,
        visible=True,
        weight=test.weight,
        passed=category == OutcomeCategory.PASSED,
        category=category,
        exception_type=exception_type,
        input_repr=input_repr,
        expected_repr=expected_repr,
        actual_repr=actual,
    )


_UNREADABLE = "<the grader could not read the result>"

# What a visible test shows as its actual result when it never produced one.
_CATEGORY_TEXT = {
    OutcomeCategory.TIMEOUT: "timed out",
    OutcomeCategory.MEMORY_LIMIT: "ran out of memory",
    OutcomeCategory.OUTPUT_LIMIT: "printed too much output",
    OutcomeCategory.NOT_RUN: "not run",
}


# --------------------------------------------------------------------------- code


@dataclass(frozen=True)
class _Prepared:
    """What a challenge's runs share in one language: the tests in order, the harness's
    config (the visible tests' inputs) and the hidden inputs as sent on stdin."""

    spec: weakref.ref[CodeChallengeSpec]
    visible: list[TestCase]
    hidden: list[TestCase]
    config: dict[str, Any]
    hidden_payload: bytes


_PREPARED_SIZE = 256
_prepared_cache: dict[tuple[int, str, bool], _Prepared] = {}
_prepared_lock = threading.Lock()


def _prepared(
    spec: CodeChallengeSpec, lang: Language, language: str, visible_only: bool
) -> _Prepared:
    """Prepared once per spec object, language and kind of run (the grading service keeps
    one spec object per item version), and never shared by two specs: an entry whose
    spec is gone, or another object at the same address, is prepared again."""
    key = (id(spec), language, visible_only)
    entry = _prepared_cache.get(key)
    if entry is not None and entry.spec() is spec:
        return entry
    visible, hidden = _select_tests(tests_for(spec.tests, language), visible_only)
    entry = _Prepared(
        spec=weakref.ref(spec),
        visible=visible,
        hidden=hidden,
        config=lang.config(spec, [lang.test_input(spec, test) for test in visible], len(hidden)),
        hidden_payload=(
            lang.hidden_payload([lang.test_input(spec, t) for t in hidden]) if hidden else b""
        ),
    )
    with _prepared_lock:
        if len(_prepared_cache) >= _PREPARED_SIZE:
            _prepared_cache.pop(next(iter(_prepared_cache)))
        _prepared_cache[key] = entry
    return entry


def grade_code(
    spec: CodeChallengeSpec,
    source: str,
    *,
    language: str = "python",
    visible_only: bool = False,
    slot: int = 0,
) -> GradeReport:
    """Run ``source``, written in ``language``, against the spec's tests in one sandbox
    and score it (the protocol is the same in every language: languages/base.py).

    Raises ``UnknownLanguage`` for a language that is not registered, ``ValueError`` for
    a challenge without a signature in any language but Python, and
    ``SandboxUnavailable`` (from the sandbox) when nothing could be run."""
    lang = get_language(language)
    prepared = _prepared(spec, lang, language, visible_only)
    visible, hidden = prepared.visible, prepared.hidden
    tests = visible + hidden
    if not tests:
        return _report(ReportStatus.GRADED, (), "There are no tests to run.", None)
    program = lang.program(spec, source, prepared.config, slot=slot)
    run = lang.run(
        program,
        slot=slot,
        stdin_responder=(
            _hidden_responder(len(visible), prepared.hidden_payload) if hidden else None
        ),
        run_sandboxed=run_sandboxed,
    )
    records = _Records(run.result)
    if not records.hello:
        return _infrastructure_error(run, tests)
    if records.terminal is not None:
        return _report(
            ReportStatus.COMPILE_ERROR,
            _not_run(tests),
            _short(lang.load_message(spec, records.terminal, source), 300),
            run,
        )
    if not records.loaded:
        category, _ = _crash_category(run, lang)
        reason = {
            OutcomeCategory.TIMEOUT: f"took longer than {_per_test_seconds(spec.time_limit):g} s",
            OutcomeCategory.MEMORY_LIMIT: "ran out of memory",
            OutcomeCategory.OUTPUT_LIMIT: "printed too much output",
        }.get(category, "stopped the process")
        return _report(
            ReportStatus.COMPILE_ERROR, _not_run(tests), f"Loading your code {reason}.", run
        )
    judging = _Judging(spec, lang)
    if spec.kind == "function":
        judge, passes = judging.judge_function, judging.function_passes
    else:
        judge, passes = judging.judge_class, judging.class_passes
    outcomes = _collect(tests, records, run, judge, passes, lang)
    return _report(ReportStatus.GRADED, outcomes, _summary(outcomes), run)


def grade_python(
    spec: CodeChallengeSpec, source: str, *, visible_only: bool = False, slot: int = 0
) -> GradeReport:
    """``grade_code`` in Python (the grader's entry before there were other languages)."""
    return grade_code(spec, source, language="python", visible_only=visible_only, slot=slot)


class _Judging:
    """Judging one code challenge's records in one language: whether a reported result
    meets its expectation (``*_passes``, all a hidden test keeps) and, for a visible
    test, the full outcome with its call written as the language would."""

    def __init__(self, spec: CodeChallengeSpec, language: Language) -> None:
        self.spec = spec
        self.language = language

    def call_text(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
        return self.language.call_text(name, args, kwargs)

    def method_text(self, call: Call) -> str:
        method = self.language.name(call.method, role="method")
        return self.call_text(f"obj.{method}", call.args, call.kwargs)

    def expectation_text(self, expect: Any, raises: str | None) -> str:
        if raises is None:
            return _short(self.language.value_text(expect))
        return f"raises {self.language.raises_text(raises)}"

    def value_passes(
        self, reported: dict[str, Any], expect: Any, raises: str | None, tolerance: float | None
    ) -> bool:
        """Whether one reported call result meets its expectation: pass/fail, nothing more."""
        status = reported.get("status")
        if raises is not None:
            return status == _Reported.EXCEPTION and self.language.exception_matches(
                _exception_names(reported.get("exc")), raises
            )
        value = reported.get("value")
        return (
            status == _Reported.OK
            and isinstance(value, dict)
            and "v" in value
            and scoring.values_equal(value["v"], expect, tolerance)
        )

    def function_passes(self, test: TestCase, record: dict[str, Any]) -> bool:
        return self.value_passes(record, test.expect, test.raises, test.tolerance)

    def class_passes(self, test: TestCase, record: dict[str, Any]) -> bool:
        calls_out = record.get("calls")
        if record.get("status") != _Reported.OK or not isinstance(calls_out, list):
            return False
        if len(calls_out) < len(test.calls):
            return False
        return all(
            isinstance(reported, dict)
            and self.value_passes(reported, call.expect, call.raises, call.tolerance)
            for call, reported in zip(test.calls, calls_out, strict=False)
        )

    def reported_text(self, encoded: Any) -> str:
        if isinstance(encoded, dict) and "v" in encoded:
            return _short(self.language.value_text(encoded["v"]))
        return _reported_repr(encoded)

    def judge_value(
        self, reported: dict[str, Any], expect: Any, raises: str | None, tolerance: float | None
    ) -> tuple[OutcomeCategory, str | None, str]:
        """(category, exception type shown, actual text) of one call result of a visible
        test."""
        status = reported.get("status")
        passed = self.value_passes(reported, expect, raises, tolerance)
        if status == _Reported.OK:
            actual = self.reported_text(reported.get("value"))
            category = OutcomeCategory.PASSED if passed else OutcomeCategory.WRONG_ANSWER
            return category, None, actual
        if status == _Reported.EXCEPTION:
            if passed:
                assert raises is not None
                return OutcomeCategory.PASSED, None, f"raised {self.language.raises_text(raises)}"
            shown = _exception_display(reported.get("exc"))
            return OutcomeCategory.EXCEPTION, shown, f"raised {shown}"
        if status in _LIMITS:
            category = _LIMIT_CATEGORY[status]
            return category, None, _CATEGORY_TEXT[category]
        return OutcomeCategory.EXCEPTION, None, _UNREADABLE

    def judge_function(self, test: TestCase, record: dict[str, Any]) -> TestOutcome:
        category, exception_type, actual = self.judge_value(
            record, test.expect, test.raises, test.tolerance
        )
        entry = self.language.entry_name(self.spec)
        return _outcome(
            test,
            category,
            exception_type=exception_type,
            input_repr=_short(self.call_text(entry, test.args, test.kwargs)),
            expected_repr=self.expectation_text(test.expect, test.raises),
            actual=actual,
        )

    def judge_class(self, test: TestCase, record: dict[str, Any]) -> TestOutcome:
        constructor = self.call_text(
            self.language.entry_name(self.spec), test.init_args, test.init_kwargs
        )
        lines = [f"obj = {constructor}"]
        every_call = "\n".join(lines + [self.method_text(c) for c in test.calls])
        every_expectation = "; ".join(self.expectation_text(c.expect, c.raises) for c in test.calls)
        status = record.get("status")
        in_constructor = status == _Reported.INIT_EXCEPTION
        if status in (_Reported.INIT_EXCEPTION, _Reported.EXCEPTION):
            shown = _exception_display(record.get("exc"))
            return _outcome(
                test, OutcomeCategory.EXCEPTION, exception_type=shown,
                input_repr=_short(every_call),
                expected_repr=every_expectation,
                actual=f"raised {shown}" + (" in the constructor" if in_constructor else ""),
            )  # fmt: skip
        if status in _LIMITS:
            category = _LIMIT_CATEGORY[status]
            return _outcome(
                test, category,
                input_repr=_short(every_call),
                expected_repr=every_expectation,
                actual=_CATEGORY_TEXT[category],
            )  # fmt: skip
        calls_out = record.get("calls")
        if status != _Reported.OK or not isinstance(calls_out, list):
            return _outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE)
        actuals: list[str] = []
        for call, reported in zip(test.calls, calls_out, strict=False):
            lines.append(self.method_text(call))
            if not isinstance(reported, dict):
                reported = {}
            category, exception_type, actual = self.judge_value(
                reported, call.expect, call.raises, call.tolerance
            )
            actuals.append(actual)
            if category != OutcomeCategory.PASSED:
                return _outcome(
                    test, category, exception_type=exception_type,
                    input_repr=_short("\n".join(lines)),
                    expected_repr=self.expectation_text(call.expect, call.raises),
                    actual=actual,
                )  # fmt: skip
        if len(calls_out) < len(test.calls):
            return _outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE)
        return _outcome(
            test,
            OutcomeCategory.PASSED,
            input_repr=_short("\n".join(lines)),
            expected_repr=_short(every_expectation),
            actual=_short("; ".join(actuals)),
        )


def _summary(outcomes: tuple[TestOutcome, ...]) -> str:
    passed = sum(1 for outcome in outcomes if outcome.passed)
    return f"{passed} of {len(outcomes)} tests passed."


# --------------------------------------------------------------------------- sql

_reference_cache_lock = threading.Lock()
_reference_cache: OrderedDict[str, Any] = OrderedDict()
_REFERENCE_CACHE_SIZE = 512


@dataclass(frozen=True)
class _Reference:
    """How the trusted side of an SQL challenge is run, and what is kept of each test's
    record: rows (the reference query, or in index mode the fixed query without the
    learner's DDL) or a transaction's expected states."""

    source: str
    mode: str
    extract: Callable[[SqlChallengeSpec, dict[str, Any]], Any]


@dataclass(frozen=True)
class _TransactionExpectation:
    before: list[list[Any]]  # what the reader sees before the script
    after: list[list[Any]]  # ... and after the reference script
    final: list[list[list[Any]]]  # each check table's rows after the reference script


def _reference_key(spec: SqlChallengeSpec, reference: _Reference, test: TestCase) -> str:
    digest = hashlib.sha256()
    tables = repr([(t.table, t.columns) for t in spec.check_tables])
    for part in (
        reference.mode,
        spec.schema,
        test.data,
        reference.source,
        spec.reader_query,
        tables,
    ):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def _sql_config(
    spec: SqlChallengeSpec, mode: str, visible: list[TestCase], hidden_count: int
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "mode": mode,
        "schema": spec.schema,
        "per_test_seconds": _per_test_seconds(spec.time_limit),
        "tests": [{"data": test.data} for test in visible],
        "hidden_count": hidden_count,
    }
    if mode == "index":
        config["query"] = spec.query
    elif mode == "transaction":
        config["reader_query"] = spec.reader_query
        config["check_tables"] = [[t.table, list(t.columns)] for t in spec.check_tables]
    return config


def _run_sql(
    spec: SqlChallengeSpec,
    source: str,
    visible: list[TestCase],
    hidden: list[TestCase],
    slot: int,
    mode: str = "query",
) -> SandboxRun:
    """One sandbox run of ``source`` (learner's or trusted) in one harness mode."""
    harness_files, argv = _harness(slot)
    return run_sandboxed(
        files={
            **harness_files,
            "input.bin": marshal.dumps(_sql_config(spec, mode, visible, len(hidden))),
            "query.sql": source.encode("utf-8", "replace"),
        },
        argv=argv,
        limits=_limits(spec.time_limit, spec.memory_limit_mb),
        slot=slot,
        stdin_responder=(
            _hidden_responder(len(visible), marshal.dumps([{"data": test.data} for test in hidden]))
            if hidden
            else None
        ),
    )


class _ReferenceFailed(Exception):
    pass


def _rows_expectation(spec: SqlChallengeSpec, record: dict[str, Any]) -> list[list[Any]]:
    rows = _reported_rows(record)
    if record.get("status") != _Reported.OK or rows is None or record.get("truncated"):
        raise _ReferenceFailed("no rows")
    return rows


def _transaction_expectation(
    spec: SqlChallengeSpec, record: dict[str, Any]
) -> _TransactionExpectation:
    seen = record.get("seen")
    final = record.get("final")
    if record.get("status") != _Reported.OK or not isinstance(seen, list) or not seen:
        raise _ReferenceFailed(f"status {record.get('status')!r}")
    observed = [_observed_rows(entry) for entry in seen]
    if any(rows is None for rows in observed):
        raise _ReferenceFailed("the reader could not read")
    before, after = observed[0], observed[-1]
    assert before is not None and after is not None
    for rows in observed:
        assert rows is not None
        if not _same_rows(rows, before) and not _same_rows(rows, after):
            raise _ReferenceFailed("the reader saw a partial state of the reference script")
    if (
        not isinstance(final, list)
        or len(final) != len(spec.check_tables)
        or any(record.get("final_truncated") or [True])
        or not all(isinstance(rows, list) for rows in final)
    ):
        raise _ReferenceFailed("no final state")
    return _TransactionExpectation(before=before, after=after, final=final)


def _sql_reference(spec: SqlChallengeSpec) -> _Reference:
    if spec.mode == "index":
        return _Reference(spec.query, "query", _rows_expectation)
    if spec.mode == "transaction":
        return _Reference(spec.reference_solution, "transaction", _transaction_expectation)
    return _Reference(spec.reference_solution, "query", _rows_expectation)


def _reference_results(spec: SqlChallengeSpec, tests: list[TestCase], slot: int) -> list[Any]:
    """What each test expects, from the trusted side's own sandbox run (memoised)."""
    reference = _sql_reference(spec)
    keys = [_reference_key(spec, reference, test) for test in tests]
    with _reference_cache_lock:
        cached = {key: _reference_cache[key] for key in keys if key in _reference_cache}
    missing = [test for test, key in zip(tests, keys, strict=True) if key not in cached]
    if missing:
        # All as "visible": the reference is trusted and nothing of this run is shown.
        run = _run_sql(spec, reference.source, missing, [], slot, reference.mode)
        records = _Records(run.result)
        if not records.loaded:
            detail = records.terminal.get("msg") if records.terminal else run.stderr[-300:]
            raise _ReferenceFailed(f"the reference failed: {detail!r}")
        for index, test in enumerate(missing):
            record = records.tests.get(index)
            try:
                if record is None:
                    raise _ReferenceFailed("no record")
                value = reference.extract(spec, record)
            except _ReferenceFailed as exc:
                raise _ReferenceFailed(
                    f"the reference failed on test {test.name!r}: {exc}"
                ) from exc
            cached[_reference_key(spec, reference, test)] = value
        with _reference_cache_lock:
            for test in missing:
                key = _reference_key(spec, reference, test)
                _reference_cache[key] = cached[key]
                _reference_cache.move_to_end(key)
            while len(_reference_cache) > _REFERENCE_CACHE_SIZE:
                _reference_cache.popitem(last=False)
    return [cached[key] for key in keys]


def grade_sql(
    spec: SqlChallengeSpec, query: str, *, visible_only: bool = False, slot: int = 0
) -> GradeReport:
    """Grade an SQL submission in the spec's mode, on a fresh SQLite database per test,
    against what the trusted side produced in a separate sandbox run: the reference
    query's rows (``query``), the fixed query's rows without the learner's DDL
    (``index``), or the reference script's final state and reader values
    (``transaction``)."""
    visible, hidden = _select_tests(spec.tests, visible_only)
    tests = visible + hidden
    if not tests:
        return _report(ReportStatus.GRADED, (), "There are no tests to run.", None)
    try:
        expected = _reference_results(spec, tests, slot)
    except _ReferenceFailed as exc:
        return _report(
            ReportStatus.ERROR,
            _not_run(tests),
            "The reference solution of this challenge failed; staff have to fix it.",
            None,
            diagnostics=str(exc),
        )
    run = _run_sql(spec, query, visible, hidden, slot, spec.mode)
    records = _Records(run.result)
    if not records.hello:
        return _infrastructure_error(run, tests)
    if records.terminal is not None:
        terminal = records.terminal
        if terminal.get("t") == _Record.SETUP_ERROR:
            return _report(
                ReportStatus.ERROR, _not_run(tests), "The challenge's schema failed to load.", run,
                diagnostics=str(terminal.get("msg")),
            )  # fmt: skip
        return _report(
            ReportStatus.COMPILE_ERROR,
            _not_run(tests),
            _short(f"SQL error: {terminal.get('msg')}", 300),
            run,
        )
    if not records.loaded:
        what = "query" if spec.mode == "query" else "script"
        return _report(
            ReportStatus.COMPILE_ERROR, _not_run(tests), f"Checking your {what} took too long.", run
        )
    expected_by_name = dict(zip((test.name for test in tests), expected, strict=True))
    judge_sql, sql_passes = _SQL_JUDGES[spec.mode]

    def judge(test: TestCase, record: dict[str, Any]) -> TestOutcome:
        return judge_sql(spec, test, record, expected_by_name[test.name])

    def passes(test: TestCase, record: dict[str, Any]) -> bool:
        return sql_passes(spec, record, expected_by_name[test.name])

    outcomes = _collect(tests, records, run, judge, passes)
    return _report(ReportStatus.GRADED, outcomes, _summary(outcomes), run)


def _rows_text(rows: list[list[Any]], limit: int = MAX_REPR) -> str:
    shown = ", ".join(repr(tuple(row)) for row in rows[:20])
    more = f", … ({len(rows)} rows)" if len(rows) > 20 else ""
    return _short(f"[{shown}{more}]", limit)


def _reported_rows(record: dict[str, Any]) -> list[list[Any]] | None:
    rows = record.get("rows")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return None
    return rows


def _same_rows(rows: list[list[Any]], expected: list[list[Any]], *, ordered: bool = False) -> bool:
    return scoring.rows_equal(rows, expected, ordered=ordered, tolerance=SQL_TOLERANCE)


def _sql_passes(spec: SqlChallengeSpec, record: dict[str, Any], expected: list[list[Any]]) -> bool:
    rows = _reported_rows(record)
    return (
        record.get("status") == _Reported.OK
        and rows is not None
        and not record.get("truncated")
        and _same_rows(rows, expected, ordered=spec.ordered)
    )


def _input_text(test: TestCase) -> str:
    return _short(test.data.strip() or "(no rows)")


def _failed_run_outcome(test: TestCase, record: dict[str, Any], expected_repr: str) -> TestOutcome:
    """A visible test whose run ended in an exception or at a limit."""
    status = record.get("status")
    if status == _Reported.EXCEPTION:
        shown = _exception_display(record.get("exc"))
        message = record.get("msg")
        actual = _short(message) if isinstance(message, str) else f"raised {shown}"
        return _outcome(
            test, OutcomeCategory.EXCEPTION, exception_type=shown,
            input_repr=_input_text(test), expected_repr=expected_repr, actual=actual,
        )  # fmt: skip
    if status in _LIMITS:
        category = _LIMIT_CATEGORY[status]
        return _outcome(
            test, category,
            input_repr=_input_text(test), expected_repr=expected_repr,
            actual=_CATEGORY_TEXT[category],
        )  # fmt: skip
    return _outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE)


def _judge_sql(
    spec: SqlChallengeSpec, test: TestCase, record: dict[str, Any], expected: list[list[Any]]
) -> TestOutcome:
    expected_repr = _rows_text(expected)
    if record.get("status") == _Reported.OK:
        rows = _reported_rows(record)
        if rows is None:
            return _outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE)
        passed = _sql_passes(spec, record, expected)
        return _outcome(
            test, OutcomeCategory.PASSED if passed else OutcomeCategory.WRONG_ANSWER,
            input_repr=_input_text(test), expected_repr=expected_repr, actual=_rows_text(rows),
        )  # fmt: skip
    return _failed_run_outcome(test, record, expected_repr)


# --------------------------------------------------------------------------- sql: index


def _strings(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return value


def _learner_indexes(spec: SqlChallengeSpec, record: dict[str, Any]) -> list[str]:
    """The indexes the learner's script created on the required table."""
    indexes = record.get("indexes")
    if not isinstance(indexes, list):
        return []
    table = spec.requires_index_on.lower()
    return [
        entry[0]
        for entry in indexes
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], str)
        and entry[1].lower() == table
    ]


def _searches_with(detail: str, names: list[str]) -> bool:
    """Whether a plan line is a SEARCH through one of ``names``. The line shows the table's
    alias, but an index belongs to one table, so the index's name settles which table."""
    if not detail.startswith("SEARCH "):
        return False
    for marker in (" USING INDEX ", " USING COVERING INDEX "):
        at = detail.find(marker)
        while at >= 0:
            rest = detail[at + len(marker) :]
            if any(rest == name or rest.startswith(name + " (") for name in names):
                return True
            at = detail.find(marker, at + 1)
    return False


def _sorts(plan: list[str]) -> bool:
    return any(detail.startswith("USE TEMP B-TREE") for detail in plan)


def _plan_passes(spec: SqlChallengeSpec, record: dict[str, Any]) -> bool:
    plan = _strings(record.get("plan"))
    if plan is None:
        return False
    names = _learner_indexes(spec, record)
    searches = any(_searches_with(detail, names) for detail in plan)
    return searches and not (spec.forbid_sort and _sorts(plan))


def _index_passes(
    spec: SqlChallengeSpec, record: dict[str, Any], expected: list[list[Any]]
) -> bool:
    return _sql_passes(spec, record, expected) and _plan_passes(spec, record)


def _judge_index(
    spec: SqlChallengeSpec, test: TestCase, record: dict[str, Any], expected: list[list[Any]]
) -> TestOutcome:
    table = spec.requires_index_on
    wanted = f"SEARCH {table} USING an index your script created"
    if spec.forbid_sort:
        wanted += ", and no USE TEMP B-TREE"
    expected_repr = _short(f"plan: {wanted}; the query's rows unchanged: {_rows_text(expected)}")
    if record.get("status") != _Reported.OK:
        return _failed_run_outcome(test, record, expected_repr)
    plan = _strings(record.get("plan"))
    rows = _reported_rows(record)
    if plan is None or rows is None:
        return _outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE)
    actual = "plan: " + ("; ".join(plan) or "(empty)")
    if not _learner_indexes(spec, record):
        actual += f" (your script created no index on {table})"
    elif spec.forbid_sort and _sorts(plan):
        actual += " (the rows are sorted after they are found)"
    if not _sql_passes(spec, record, expected):
        actual += f"; the query's rows changed: {_rows_text(rows)}"
    passed = _index_passes(spec, record, expected)
    return _outcome(
        test, OutcomeCategory.PASSED if passed else OutcomeCategory.WRONG_ANSWER,
        input_repr=_input_text(test), expected_repr=expected_repr, actual=_short(actual),
    )  # fmt: skip


# --------------------------------------------------------------------------- sql: transaction

_LONG_REPR = 1000  # a transaction's expected final state spans several tables


def _observed_rows(entry: Any) -> list[list[Any]] | None:
    """The rows of one reader observation ``[statement number, {rows}]``; None if the
    reader could not read, or the entry is malformed."""
    if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[1], dict):
        return None
    observation = entry[1]
    if observation.get("truncated"):
        return None
    return _reported_rows(observation)


def _sorted_rows(rows: list[list[Any]]) -> list[list[Any]]:
    return sorted(rows, key=repr)


def _transaction_problem(
    spec: SqlChallengeSpec,
    record: dict[str, Any],
    expected: _TransactionExpectation,
    statements: list[str] | None = None,
) -> str | None:
    """None if the test passes; otherwise what went wrong, in the learner's terms."""
    if record.get("status") != _Reported.OK:
        return _UNREADABLE
    final = record.get("final")
    truncated = record.get("final_truncated")
    if not isinstance(final, list) or not isinstance(truncated, list):
        return _UNREADABLE
    if len(final) != len(spec.check_tables) or len(truncated) != len(spec.check_tables):
        return _UNREADABLE
    for table, rows, cut, wanted in zip(
        spec.check_tables, final, truncated, expected.final, strict=True
    ):
        if cut is not False or not isinstance(rows, list) or not _same_rows(rows, wanted):
            shown = _rows_text(_sorted_rows(rows)) if isinstance(rows, list) else _UNREADABLE
            return f"final {table.table}: {shown}"
    seen = record.get("seen")
    if not isinstance(seen, list) or not seen:
        return _UNREADABLE
    for entry in seen:
        rows = _observed_rows(entry)
        number = entry[0] if isinstance(entry, list) and entry else None
        if not isinstance(number, int) or number < 0:
            return _UNREADABLE
        where = "before the script" if number == 0 else f"after statement {number}"
        if number and statements and number <= len(statements):
            where += f" ({statements[number - 1]})"
        if rows is None:
            return f"{where}, the concurrent reader could not read the database"
        if not _same_rows(rows, expected.before) and not _same_rows(rows, expected.after):
            return (
                f"{where}, a concurrent reader saw {_rows_text(rows)}: neither the state "
                "before the script nor the state after it"
            )
    return None


def _transaction_passes(
    spec: SqlChallengeSpec, record: dict[str, Any], expected: _TransactionExpectation
) -> bool:
    return _transaction_problem(spec, record, expected) is None


def _transaction_notes(record: dict[str, Any]) -> str:
    """How the learner's script ended, when it did not simply run to its end."""
    error = record.get("error")
    left_open = record.get("open") is True
    if isinstance(error, dict) and isinstance(error.get("msg"), str):
        note = f"{error['msg']}; the script stopped there"
        return note + (", and its open transaction was rolled back" if left_open else "")
    if left_open:
        return "the script ended inside a transaction, which was rolled back"
    return ""


def _judge_transaction(
    spec: SqlChallengeSpec,
    test: TestCase,
    record: dict[str, Any],
    expected: _TransactionExpectation,
) -> TestOutcome:
    tables = "; ".join(
        f"{table.table}: {_rows_text(_sorted_rows(rows), _LONG_REPR)}"
        for table, rows in zip(spec.check_tables, expected.final, strict=True)
    )
    expected_repr = _short(
        f"final state: {tables}. A concurrent reader sees only {_rows_text(expected.before)} "
        f"(before) or {_rows_text(expected.after)} (after).",
        _LONG_REPR,
    )
    if record.get("status") != _Reported.OK:
        return _failed_run_outcome(test, record, expected_repr)
    statements = _strings(record.get("statements"))
    problem = _transaction_problem(spec, record, expected, statements)
    if problem == _UNREADABLE:
        return _outcome(test, OutcomeCategory.EXCEPTION, actual=_UNREADABLE)
    notes = _transaction_notes(record)
    if problem is None:
        actual = "final state as expected; the reader saw only the states before and after"
    else:
        actual = problem
    if notes:
        actual = f"{actual} ({notes})"
    return _outcome(
        test, OutcomeCategory.PASSED if problem is None else OutcomeCategory.WRONG_ANSWER,
        input_repr=_input_text(test), expected_repr=expected_repr,
        actual=_short(actual, _LONG_REPR),
    )  # fmt: skip


_SQL_JUDGES: dict[str, tuple[Callable[..., TestOutcome], Callable[..., bool]]] = {
    "query": (_judge_sql, _sql_passes),
    "index": (_judge_index, _index_passes),
    "transaction": (_judge_transaction, _transaction_passes),
}
