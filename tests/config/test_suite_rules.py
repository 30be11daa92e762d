"""The suite's own rules (tests/conftest.py), checked on generated test files with pytester:
an unmarked test over the time limit fails; soak tests are skipped unless asked for."""

from __future__ import annotations

import pytest

# The generated conftest takes the hooks from the suite's conftest. The inner run is in
# this process: pytest-django and pytest-playwright stay out of it (each would set up a
# second time what the outer run already holds).
CONFTEST = """
from tests.conftest import (
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_runtest_makereport,
)
"""
INI = """
[pytest]
test_time_limit = 0.2
markers =
    slow: slow
    soak: soak
"""
TESTS = """
import time

import pytest


def busy(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def test_unmarked_and_slow():
    busy(0.5)


@pytest.mark.slow
def test_marked_slow():
    busy(0.5)


@pytest.mark.soak
def test_marked_soak():
    busy(0.5)


def test_fast():
    pass


def test_slow_and_failing_keeps_its_own_failure():
    busy(0.5)
    assert 1 == 2
"""
INNER_ARGS = (
    "-p", "no:django", "-p", "no:playwright", "-p", "no:cacheprovider", "--strict-markers",
)  # fmt: skip


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(test_generated=TESTS)
    return pytester


def test_an_unmarked_test_over_the_time_limit_fails(suite: pytest.Pytester) -> None:
    result = suite.runpytest(*INNER_ARGS, "-rA")
    result.assert_outcomes(passed=2, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unmarked_and_slow _*",
            "took * s; mark it slow or make it faster (the limit without a slow or soak"
            " marker is 0.2 s)",
            "*_ test_slow_and_failing_keeps_its_own_failure _*",
            "*assert 1 == 2",
        ]
    )
    passed = [line for line in result.outlines if line.startswith("PASSED")]
    assert sorted(passed) == [
        "PASSED test_generated.py::test_fast",
        "PASSED test_generated.py::test_marked_slow",
    ]
    result.stdout.fnmatch_lines(["FAILED test_generated.py::test_unmarked_and_slow - took *"])


def test_soak_tests_are_collected_but_skipped_unless_asked_for(suite: pytest.Pytester) -> None:
    default = suite.runpytest(*INNER_ARGS, "-rs", "-k", "soak")
    default.assert_outcomes(skipped=1)
    default.stdout.fnmatch_lines(["*soak test: run it with -m soak*"])
    collected = suite.runpytest(*INNER_ARGS, "--collect-only", "-q")
    collected.stdout.fnmatch_lines(["*5 tests collected*"])

    asked = suite.runpytest(*INNER_ARGS, "-m", "soak")
    asked.assert_outcomes(passed=1, deselected=4)  # and past the time limit: it is soak
