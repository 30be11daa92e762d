"""A hidden test tells the learner pass or fail, and nothing else: a differential battery.

Each attack is learner code that tries to make what the learner sees depend on a hidden
test's input through some channel other than pass/fail: exception names (chosen,
registered in ``builtins``, computed by a metaclass), messages and reprs, the harness's
own helpers patched from inside, forged result lines, exit codes and signals, output
sizes, time, memory, recursion, files, and the category of failure itself.

Every attack runs twice, against two challenges that differ in one bit of one hidden
input (6 and 7), and fails that hidden test both times. What the learner can see is then
compared byte for byte: the API's JSON for the submission (``submission_for_learner``),
the rendered ``_submission_outcomes.html``, and the results stored on the submission.
Any difference is a channel. The controls at the end show that visible tests keep their
full detail, so the comparison can tell runs apart when it should.
"""

from __future__ import annotations

import copy
import json
import re
import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest
from django.template.loader import render_to_string

from quizzes.access import jsonable
from quizzes.assessments.presenters import submission_for_learner
from quizzes.grading.outcomes import ReportStatus
from quizzes.grading.runner import GradeReport, grade_python, grade_sql
from quizzes.grading.spec import PythonChallengeSpec, SqlChallengeSpec, spec_from_dict
from quizzes.models import Submission, SubmissionKind, SubmissionStatus
from tests.security.conftest import SECURITY_SLOT

pytestmark = pytest.mark.sandbox

SECRETS = (6, 7)  # one bit apart
WHEN = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
HIDDEN_KEYS = {"name", "visible", "passed", "category", "category_label"}


# --------------------------------------------------------------------------- challenges


def python_spec(secret: int, *, secret_visible: bool = False) -> PythonChallengeSpec:
    spec = spec_from_dict(
        "python",
        {
            "entry_point": "double",
            "kind": "function",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "tests": [
                {"name": "shown", "visible": True, "args": [1], "expect": 2},
                {"name": "secret", "visible": secret_visible, "args": [secret],
                 "expect": 2 * secret},
                {"name": "after", "visible": False, "args": [3], "expect": 6},
            ],
        },
    )  # fmt: skip
    assert isinstance(spec, PythonChallengeSpec)
    return spec


def class_spec(secret: int) -> PythonChallengeSpec:
    spec = spec_from_dict(
        "python",
        {
            "entry_point": "Box",
            "kind": "class",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "tests": [
                {"name": "shown", "visible": True, "init": {"args": [1]},
                 "calls": [{"method": "get", "expect": 1}]},
                {"name": "secret", "visible": False, "init": {"args": [secret]},
                 "calls": [{"method": "get", "expect": secret}]},
                {"name": "after", "visible": False, "init": {"args": [3]},
                 "calls": [{"method": "get", "expect": 3}]},
            ],
        },
    )  # fmt: skip
    assert isinstance(spec, PythonChallengeSpec)
    return spec


def sql_spec(secret: int) -> SqlChallengeSpec:
    spec = spec_from_dict(
        "sql",
        {
            "schema": "CREATE TABLE t (x INTEGER NOT NULL);",
            "ordered": False,
            "reference_solution": "SELECT x * 2 FROM t",
            "time_limit": 1,
            "memory_limit_mb": 128,
            "tests": [
                {"name": "shown", "visible": True, "data": "INSERT INTO t VALUES (1);"},
                {"name": "secret", "visible": False, "data": f"INSERT INTO t VALUES ({secret});"},  # noqa: S608
                {"name": "after", "visible": False, "data": "INSERT INTO t VALUES (3);"},
            ],
        },
    )
    assert isinstance(spec, SqlChallengeSpec)
    return spec


# --------------------------------------------------------------------------- attacks

# The visible test passes and the "after" test fails in every run; the attack decides
# how the secret test (input 6 or 7; ``bit`` is its low bit) fails.
PYTHON_PREFIX = """\
import builtins, os, signal, sys, time

def double(x):
    if x == 1:
        return 2
    if x == 3:
        return -1
    bit = x & 1
"""

PYTHON_ATTACKS = {
    "class registered in builtins under the input": """
        E = type("E%d" % x, (Exception,), {})
        setattr(builtins, E.__name__, E)
        raise E()
    """,
    "class shadowing a builtin name chosen by the input": """
        class Fake(Exception):
            pass
        Fake.__name__ = Fake.__qualname__ = "ValueError" if bit else "TypeError"
        setattr(builtins, Fake.__name__, Fake)
        raise Fake()
    """,
    "class named after the input": """
        raise type("E%d" % x, (Exception,), {})()
    """,
    "builtin exception type chosen by the input": """
        raise (KeyError if bit else IndexError)()
    """,
    "__name__, __qualname__ and __module__ set from the input": """
        class E(LookupError):
            pass
        E.__name__ = E.__qualname__ = "E%d" % x
        E.__module__ = "builtins"
        builtins.__dict__[E.__name__] = E
        raise E("E%d" % x)
    """,
    "fake sqlite3 module in sys.modules": """
        import types
        E = type("E%d" % x, (Exception,), {"__module__": "sqlite3"})
        fake = types.ModuleType("sqlite3")
        setattr(fake, E.__name__, E)
        sys.modules["sqlite3"] = fake
        raise E()
    """,
    "metaclass computing __name__ on access": """
        class Meta(type):
            @property
            def __name__(cls):
                return "E%d" % x
        class E(Exception, metaclass=Meta):
            pass
        setattr(builtins, "E%d" % x, E)
        raise E()
    """,
    "__str__ and __repr__ encoding the input": """
        class Loud(Exception):
            def __str__(self):
                return "SECRET-%d" % x
            __repr__ = __str__
        if bit:
            raise Loud()
        return Loud()
    """,
    "result whose repr encodes the input": """
        class Value:
            def __repr__(self):
                return "SECRET-%d" % x
        return Value()
    """,
    "result whose repr hangs on the input": """
        class Slippery:
            def __repr__(self):
                while bit:
                    pass
                return "slippery"
        return Slippery()
    """,
    "forged result line": """
        fd = int(os.environ["SKILLMAP_RESULT_FD"])
        os.write(fd, b'{"t":"test","i":1,"status":"exception","exc":[["E%d",true]]}\\n' % x)
        return -1
    """,
    "result line that breaks the parser on the input": """
        if bit:
            fd = int(os.environ["SKILLMAP_RESULT_FD"])
            os.write(fd, b'{"t":"test","i":1,"status":"ok","value":{"v":' + b"[" * 100000 + b"\\n")
        return -1
    """,
    "harness's exception namer patched": """
        harness = sys.modules["__main__"]
        harness._exception_names = lambda exc: [["E%d" % x, True]]
        raise ValueError()
    """,
    "harness's JSON encoder patched": """
        harness = sys.modules["__main__"]
        real = harness._dumps
        def dumps(value, depth=0):
            if depth == 0 and isinstance(value, dict) and value.get("t") == "test":
                value = dict(value, status="exception", exc=[["E%d" % x, True]])
            return real(value, depth)
        harness._dumps = dumps
        return -1
    """,
    "os.write, the harness's writer and print patched": """
        harness = sys.modules["__main__"]
        real = harness._write
        def write(fd, data):
            status = b'"status":"timeout"' if bit else b'"status":"memory_limit"'
            real(fd, bytes(data).replace(b'"status":"ok"', status))
            return len(data)
        harness._write = os.write = write
        builtins.print = lambda *args, **kwargs: None
        return -1
    """,
    "harness's guard patched (leaks through the next test)": """
        harness = sys.modules["__main__"]
        status = "timeout" if bit else "memory_limit"
        harness._guarded = lambda seconds, thunk: (status, None)
        return -1
    """,
    "sys.exit or a wrong value by the input": """
        if bit:
            sys.exit(x)
        return -1
    """,
    "os._exit with the input as exit code": """
        sys.stdout.flush()
        os._exit(x)
    """,
    "signal chosen by the input": """
        os.kill(os.getpid(), signal.SIGSEGV if bit else signal.SIGABRT)
        time.sleep(1)
    """,
    "stdout flood by the input": """
        sys.stdout.write("SECRET-%d " % x * (20000 if bit else 1))
        sys.stdout.flush()
        time.sleep(0.3)  # killed meanwhile for printing too much, on one input only
        return -1
    """,
    "result channel flood by the input": """
        if bit:
            os.write(int(os.environ["SKILLMAP_RESULT_FD"]), b"x" * (5 << 20))
        time.sleep(0.3)
        return -1
    """,
    "stderr marker the grader reads by the input": """
        sys.stderr.write("MemoryError" if bit else "SECRET-%d" % x)
        sys.stderr.flush()
        os._exit(1)
    """,
    "timeout by the input": """
        while bit:
            pass
        return -1
    """,
    "memory blow-up by the input": """
        if bit:
            hog = [bytes(1 << 20) for _ in range(1 << 12)]
        return -1
    """,
    "recursion by the input": """
        def down(n):
            return down(n + 1) + 1
        if bit:
            down(0)
        return -1
    """,
    "raising or a wrong value by the input": """
        if bit:
            raise ValueError("SECRET-%d" % x)
        return -1
    """,
    "sleep proportional to the input": """
        time.sleep(0.04 * x)
        return -1
    """,
    "file size by the input": """
        with open("/tmp/secret-%d" % x, "wb") as handle:
            handle.write(b"%d" % x * ((16 if bit else 1) << 20))
        return -1
    """,
    "KeyboardInterrupt or GeneratorExit by the input": """
        raise KeyboardInterrupt() if bit else GeneratorExit()
    """,
    "BaseException subclass named after the input": """
        raise type("Stop%d" % x, (SystemExit if bit else BaseException,), {})(x)
    """,
}

# Forges the visible result so that the hidden inputs are sent while this code still runs
# inside the visible test, reads them from stdin before the harness does, and forges the
# hidden tests' results from them.
EARLY_READER = """\
import marshal, os, sys

def double(x):
    fd = int(os.environ["SKILLMAP_RESULT_FD"])
    if x == 1:
        os.write(fd, b'{"t":"test","i":0,"status":"ok","value":{"v":2}}\\n')
        secret = marshal.loads(sys.stdin.buffer.read())[0]["args"][0]
        limit = b"timeout" if secret & 1 else b"memory_limit"
        os.write(fd, b'{"t":"test","i":1,"status":"exception","exc":[["E%d",true]]}\\n' % secret)
        os.write(fd, b'{"t":"test","i":2,"status":"%s"}\\n' % limit)
        return 2
    return -1
"""

CLASS_ATTACK = """\
class Box:
    def __init__(self, x):
        self.x = x
        if x == 7:
            raise type("E%d" % x, (ValueError,), {})()

    def get(self):
        return self.x if self.x == 1 else -1
"""

SQL_PREFIX = "SELECT CASE WHEN x = 1 THEN 2 WHEN x = 3 THEN -1 "
SQL_ATTACKS = {  # learner queries (hence the noqa: S608 below)
    "integer overflow by the hidden row": SQL_PREFIX
    + "ELSE abs(-9223372036854775801 - x) END FROM t",
    "malformed JSON by the hidden row": SQL_PREFIX
    + "ELSE json(CASE WHEN x = 7 THEN 'bad' ELSE '-1' END) END FROM t",
    "error conditional on a count of hidden rows": SQL_PREFIX  # noqa: S608
    + "WHEN (SELECT count(*) FROM t WHERE x = 7) THEN json('bad' || x) ELSE -1 END FROM t",
    "error type chosen by the hidden row": SQL_PREFIX
    + "WHEN x = 7 THEN abs(-9223372036854775801 - x) ELSE length(zeroblob(2000000000)) END "
    "FROM t",
    "timeout by the hidden row": SQL_PREFIX  # noqa: S608
    + "WHEN x = 7 THEN (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n) ELSE -1 END FROM t",
    "memory blow-up by the hidden row": SQL_PREFIX
    + "ELSE length(CASE WHEN x = 7 THEN randomblob(900000000) ELSE 'a' END) END FROM t",
    "row count by the hidden row": "SELECT CASE WHEN x = 1 THEN 2 ELSE -1 END FROM t JOIN "
    "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20001) "
    "SELECT i FROM n) ON i = 1 OR x = 7",
}


# --------------------------------------------------------------------------- what shows


def learner_sees(report: GradeReport) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(results as stored, the API's JSON, the rendered outcomes) of a graded submission."""
    assert report.status == ReportStatus.GRADED, report
    results = json.loads(json.dumps(report.to_dict()))
    submission = Submission(
        kind=SubmissionKind.SUBMIT,
        status=SubmissionStatus.GRADED,
        score=report.score,
        results=results,
        created_at=WHEN,
        graded_at=WHEN,
    )
    view = submission_for_learner(submission, feedback=True)
    api = json.loads(json.dumps(jsonable(view)))
    html = render_to_string("quizzes/_submission_outcomes.html", {"submission": view})
    return results, api, html


def without_passed(data: dict[str, Any]) -> str:
    data = copy.deepcopy(data)
    for outcome in data.get("outcomes", []):
        outcome.pop("passed", None)
    return json.dumps(data, sort_keys=True)


def hidden_rows(html: str) -> list[str]:
    rows = re.findall(r"<tr><td>.*?</tr>", html, re.DOTALL)
    return [row for row in rows if '<span class="tag">hidden</span>' in row]


def assert_nothing_but_pass_fail(first: GradeReport, second: GradeReport) -> None:
    seen = [learner_sees(first), learner_sees(second)]
    verdicts = [[o["passed"] for o in api["outcomes"]] for _, api, _ in seen]
    # The attacks fail the secret test in both runs: only a side channel could differ.
    assert verdicts[0] == verdicts[1] == [True, False, False], verdicts
    (results_a, api_a, html_a), (results_b, api_b, html_b) = seen
    assert without_passed(api_a) == without_passed(api_b), "the API tells the runs apart"
    assert html_a == html_b, "the page tells the runs apart"
    assert without_passed(results_a) == without_passed(results_b), "the stored results differ"
    for results, api, html in seen:
        for stored, shown in zip(results["outcomes"][1:], api["outcomes"][1:], strict=True):
            assert not shown["visible"]
            assert set(shown) == HIDDEN_KEYS, shown
            assert (shown["category"], shown["category_label"]) == ("failed", "failed"), shown
            assert stored["category"] == "failed", stored
            assert stored["exception_type"] is None, stored
            assert stored["input_repr"] is stored["actual_repr"] is stored["expected_repr"] is None
        assert api["message"] == "1 of 3 tests passed."
        rows = hidden_rows(html)
        assert len(rows) == 2, html
        for row in rows:
            assert "✘ failed</span></td>\n      <td></td></tr>" in row, row
        assert "SECRET" not in json.dumps(results) + html


# --------------------------------------------------------------------------- the battery


@pytest.mark.parametrize("attack", list(PYTHON_ATTACKS), ids=list(PYTHON_ATTACKS))
def test_python_attack_shows_only_pass_fail(attack: str) -> None:
    source = PYTHON_PREFIX + textwrap.indent(textwrap.dedent(PYTHON_ATTACKS[attack]), "    ")
    first, second = (
        grade_python(python_spec(secret), source, slot=SECURITY_SLOT) for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


def test_hidden_inputs_read_early_show_only_pass_fail() -> None:
    first, second = (
        grade_python(python_spec(secret), EARLY_READER, slot=SECURITY_SLOT) for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


def test_class_attack_shows_only_pass_fail() -> None:
    # The constructor raises on one input, a method returns a wrong value on the other.
    first, second = (
        grade_python(class_spec(secret), CLASS_ATTACK, slot=SECURITY_SLOT) for secret in SECRETS
    )
    assert_nothing_but_pass_fail(first, second)


@pytest.mark.parametrize("attack", list(SQL_ATTACKS), ids=list(SQL_ATTACKS))
def test_sql_attack_shows_only_pass_fail(attack: str) -> None:
    query = SQL_ATTACKS[attack]
    first, second = (grade_sql(sql_spec(secret), query, slot=SECURITY_SLOT) for secret in SECRETS)
    assert_nothing_but_pass_fail(first, second)


# --------------------------------------------------------------------------- controls


def test_visible_tests_keep_their_full_detail() -> None:
    source = "def double(x):\n    if x == 1:\n        raise KeyError('k')\n    return 2 * x\n"
    _, api, html = learner_sees(grade_python(python_spec(6), source, slot=SECURITY_SLOT))
    shown = api["outcomes"][0]
    assert shown["visible"] and not shown["passed"]
    assert (shown["category"], shown["category_label"]) == ("exception", "exception")
    assert shown["exception_type"] == "KeyError"
    assert (shown["input_repr"], shown["expected_repr"], shown["actual_repr"]) == (
        "double(1)",
        "2",
        "raised KeyError",
    )
    assert "✘ exception" in html
    for detail in ("<code>double(1)</code>", "<code>2</code>", "<code>raised KeyError</code>"):
        assert detail in html
    assert [o["passed"] for o in api["outcomes"]] == [False, True, True]
    assert api["outcomes"][1] == {
        "name": "secret", "visible": False, "passed": True,
        "category": "passed", "category_label": "passed",
    }  # fmt: skip

    wrong = "def double(x):\n    return 2 * x if x != 1 else 3\n"
    _, api, html = learner_sees(grade_python(python_spec(6), wrong, slot=SECURITY_SLOT))
    shown = api["outcomes"][0]
    assert (shown["category"], shown["actual_repr"], shown["expected_repr"]) == (
        "wrong_answer",
        "3",
        "2",
    )
    assert "✘ wrong answer" in html and "<code>3</code>" in html


def test_visible_sql_tests_keep_their_full_detail() -> None:
    query = "SELECT abs(-9223372036854775807 - x) FROM t"
    _, api, html = learner_sees(grade_sql(sql_spec(6), query, slot=SECURITY_SLOT))
    shown = api["outcomes"][0]
    assert (shown["category"], shown["exception_type"]) == ("exception", "OperationalError")
    assert shown["input_repr"] == "INSERT INTO t VALUES (1);"
    assert shown["expected_repr"] == "[(2,)]"
    assert "OperationalError" in html and "✘ exception" in html


def test_the_comparison_tells_runs_apart_when_the_input_is_visible() -> None:
    # The same attack against a challenge whose bit-carrying test is visible: the learner
    # may see that input, so the runs differ, and the battery's comparison notices.
    source = PYTHON_PREFIX + textwrap.indent(
        textwrap.dedent(PYTHON_ATTACKS["builtin exception type chosen by the input"]), "    "
    )
    seen = [
        learner_sees(
            grade_python(python_spec(secret, secret_visible=True), source, slot=SECURITY_SLOT)
        )
        for secret in SECRETS
    ]
    (_, api_a, html_a), (_, api_b, html_b) = seen
    assert without_passed(api_a) != without_passed(api_b)
    assert html_a != html_b
    assert api_a["outcomes"][1]["exception_type"] == "IndexError"
    assert api_b["outcomes"][1]["exception_type"] == "KeyError"
    with pytest.raises(AssertionError, match="the API tells the runs apart"):
        assert_nothing_but_pass_fail(
            *(
                grade_python(python_spec(secret, secret_visible=True), source, slot=SECURITY_SLOT)
                for secret in SECRETS
            )
        )
