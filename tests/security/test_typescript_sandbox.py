"""The hostile battery in TypeScript: the compile step is learner-controlled work too.

TypeScript is type-checked inside the sandbox, in the run that then executes it, so a
compile that never ends is stopped by the run's limits, a compile cannot read a file
beyond the ones its startup snapshot holds, and what it reports is the learner's own
line numbers. Running the emitted JavaScript is the JavaScript battery's business
(test_javascript_sandbox.py, test_javascript_leaks.py, which also runs a TypeScript
attack); a memory bomb is repeated here through TypeScript's own path (the compiler's
memory allowance must not loosen it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from quizzes.grading.languages import language
from quizzes.grading.outcomes import OutcomeCategory, ReportStatus
from quizzes.grading.runner import GradeReport, grade_code
from quizzes.grading.spec import CodeChallengeSpec, spec_from_dict
from tests.security.conftest import slot_uid, wait_no_processes

pytestmark = pytest.mark.sandbox

TS_SLOT = 13


@pytest.fixture(autouse=True)
def _no_leftovers(_sandbox_works: None) -> Iterator[None]:
    yield
    if os.geteuid() == 0:
        assert wait_no_processes(slot_uid(TS_SLOT)) == []


def spec() -> CodeChallengeSpec:
    parsed = spec_from_dict(
        "code",
        {
            "entry_point": "twice",
            "kind": "function",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "signature": {"params": [{"name": "x", "type": "int"}], "returns": "int"},
            "tests": [
                {"name": "shown", "visible": True, "args": [1], "expect": 2},
                {"name": "hidden", "visible": False, "args": [3], "expect": 6},
            ],
        },
    )
    assert isinstance(parsed, CodeChallengeSpec)
    return parsed


def grade(source: str) -> GradeReport:
    return grade_code(spec(), source, language="typescript", slot=TS_SLOT)


# A conditional type recursing 999 levels deep, instantiated sixty times: about a minute
# of checking, and more memory than the run has.
LONG_COMPILE = (
    "type Rep<S extends string, N extends unknown[] = []> =\n"
    "  N['length'] extends 999 ? S : Rep<`${S}x`, [...N, 1]>;\n"
    + "".join(
        f"export type A{i} = Rep<'a{i}'>;\nexport const v{i}: A{i} = null!;\n" for i in range(60)
    )
    + "export function twice(x: number): number { return 2 * x; }\n"
)


def test_a_compile_that_never_ends_is_stopped_by_the_run_limits() -> None:
    limits = language("typescript").limits(spec())
    started = time.monotonic()
    report = grade(LONG_COMPILE)
    elapsed = time.monotonic() - started
    assert report.status == ReportStatus.COMPILE_ERROR
    # Whichever of the run's limits the checker reaches first: time or memory.
    assert "took longer" in report.message or "ran out of memory" in report.message
    assert all(outcome.category == OutcomeCategory.NOT_RUN for outcome in report.outcomes)
    assert elapsed < limits.wall_seconds + 5


def test_type_errors_are_reported_on_the_learners_own_lines() -> None:
    source = (
        "// a comment\n"
        "export function twice(x: number): number {\n"
        "  const label: string = x;\n"
        "  return label;\n"
        "}\n"
    )
    report = grade(source)
    assert report.status == ReportStatus.COMPILE_ERROR
    assert "line 3: TS2322" in report.message
    assert "line 4: TS2322" in report.message


def test_strict_mode_is_on() -> None:
    report = grade("export function twice(x) { return 2 * x; }\n")
    assert report.status == ReportStatus.COMPILE_ERROR
    assert "TS7006" in report.message  # parameter 'x' implicitly has an 'any' type


@pytest.mark.parametrize(
    "reach",
    [
        '/// <reference path="/proc/self/environ" />\n',
        '/// <reference path="/sandbox/input.json" />\n',
        'import secret = require("/proc/1/environ");\n',
        'import * as input from "/sandbox/input.json";\n',
        '/// <reference types="node" />\n',
    ],
)
def test_the_compiler_reads_no_file_beyond_its_snapshot(reach: str) -> None:
    report = grade(reach + "export function twice(x: number): number { return 2 * x; }\n")
    assert report.status == ReportStatus.COMPILE_ERROR
    assert "line 1:" in report.message
    for leaked in ("PATH=", "SKILLMAP", "per_test_seconds", '"tests"'):
        assert leaked not in report.message


def test_a_memory_bomb_after_compiling_is_contained() -> None:
    source = (
        "export function twice(x: number): number {\n"
        "  const hog: number[][] = [];\n"
        "  for (;;) hog.push(new Array(1 << 20).fill(x));\n"
        "}\n"
    )
    report = grade(source)
    assert report.status == ReportStatus.GRADED
    # The data limit, or on a slow machine the per-test time limit, stops it first.
    assert report.outcomes[0].category in (OutcomeCategory.MEMORY_LIMIT, OutcomeCategory.TIMEOUT)
    assert not report.outcomes[1].passed
