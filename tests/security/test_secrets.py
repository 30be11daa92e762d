"""Nothing secret inside: no worker environment, no expected values, and hidden test
inputs never reach a value that is shown to the learner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from quizzes.grading import runner
from quizzes.grading.runner import grade_python
from quizzes.grading.spec import spec_from_dict
from tests.security.conftest import SECURITY_SLOT, output, run_program

pytestmark = pytest.mark.sandbox

PLANTED = "planted-secret-4f1c9e"
EXPECTED_MARKER = "EXPECTED-VALUE-d41d8c"
HIDDEN_INPUT_MARKER = "HIDDEN-INPUT-98f00b"


def test_worker_environment_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMAP_PLANTED_SECRET", PLANTED)
    monkeypatch.setenv("DATABASE_URL", f"postgres://u:{PLANTED}@127.0.0.1/x")
    run = run_program(
        """
        import json, os
        dump = {"environ": dict(os.environ)}
        for pid in ["1", "self"] + [p for p in os.listdir("/proc") if p.isdigit()]:
            try:
                dump[pid] = open("/proc/%s/environ" % pid, "rb").read().decode()
            except OSError as exc:
                dump[pid] = "error %s" % exc.errno
        print(json.dumps(dump))
        """
    )
    assert PLANTED not in output(run)
    assert PLANTED.encode() not in run.stderr + run.result
    dump = json.loads(output(run))
    assert dump["1"] == ""  # bwrap itself was started with an empty environment
    assert set(dump["environ"]) <= {"PATH", "LANG", "LC_CTYPE", "PWD", "SKILLMAP_RESULT_FD"}


def _spying_spec() -> Any:
    return spec_from_dict(
        "python",
        {
            "entry_point": "solve",
            "kind": "function",
            "tests": [
                {"name": "shown", "visible": True, "args": [1], "expect": 1},
                {"name": "secret", "visible": False, "args": [HIDDEN_INPUT_MARKER],
                 "expect": EXPECTED_MARKER},
            ],
        },
    )  # fmt: skip


def test_expected_values_never_enter_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[bytes] = []
    real_run = runner.run_sandboxed  # type: ignore[attr-defined]

    def spy(**kwargs: Any) -> Any:
        sent.extend(kwargs["files"].values())
        responder = kwargs.get("stdin_responder")
        if responder is not None:

            def recording(raw: bytes) -> bytes | None:
                answer: bytes | None = responder(raw)
                if answer is not None:
                    sent.append(answer)
                return answer

            kwargs["stdin_responder"] = recording
        return real_run(**kwargs)

    monkeypatch.setattr(runner, "run_sandboxed", spy)
    report = grade_python(_spying_spec(), "def solve(x):\n    return x\n", slot=SECURITY_SLOT)
    assert report.status == "graded"
    assert sent, "nothing was sent?"
    for blob in sent:
        assert EXPECTED_MARKER.encode() not in blob
    # The hidden input is sent (on stdin, after the visible results), the expected value never.
    assert any(HIDDEN_INPUT_MARKER.encode() in blob for blob in sent)


def test_hidden_inputs_cannot_be_smuggled_into_visible_results() -> None:
    # A visible test's actual value is shown to the learner. It is produced before the
    # hidden inputs exist inside the sandbox: whatever the code reads, they are not there.
    thief = r"""
import os, sys, threading, gc

def everything():
    found = []
    for name in os.listdir("/sandbox"):
        found.append(open("/sandbox/" + name, "rb").read().decode("latin-1"))
    for obj in gc.get_objects():
        try:
            found.append(repr(obj)[:2000])
        except Exception:
            pass
    return "\n".join(found)

def wait_for_stdin():
    global stolen
    stolen = sys.stdin.buffer.read()

stolen = b""
threading.Thread(target=wait_for_stdin, daemon=True).start()

def solve(x):
    if x == 1:
        return everything() + repr(stolen)
    raise ValueError(repr(x) + repr(stolen))
"""
    report = grade_python(_spying_spec(), thief, slot=SECURITY_SLOT)
    shown = json.dumps(report.to_dict())
    assert report.outcomes[0].actual_repr  # the thief's loot is shown...
    assert HIDDEN_INPUT_MARKER not in shown  # ...but holds no hidden input
    assert EXPECTED_MARKER not in shown
    hidden = report.outcomes[1]
    assert hidden.input_repr is None and hidden.expected_repr is None
    assert hidden.actual_repr is None


def test_hidden_exception_types_cannot_carry_data() -> None:
    # A class name is chosen by the learner, so a hidden test shows no type at all (see
    # test_hidden_test_leaks.py for the rest of what a hidden test does not show).
    source = "def solve(x):\n    raise type(str(x), (KeyError,), {})()\n"
    report = grade_python(_spying_spec(), source, slot=SECURITY_SLOT)
    visible, hidden = report.outcomes
    assert visible.exception_type == "1"  # the learner's own class, on a visible input
    assert hidden.category == "failed"
    assert hidden.exception_type is None
    assert HIDDEN_INPUT_MARKER not in json.dumps(report.to_dict())


def test_load_time_errors_do_not_carry_data() -> None:
    source = (
        "import marshal\n"
        "data = open('/sandbox/input.bin', 'rb').read()\n"
        "raise type(data.hex()[:50], (Exception,), {})(data)\n"
    )
    report = grade_python(_spying_spec(), source, slot=SECURITY_SLOT)
    assert report.status == "compile_error"
    assert report.message == "Exception raised on line 3 while loading your code."


def test_stdout_of_learner_code_is_not_reported() -> None:
    report = grade_python(
        _spying_spec(), "def solve(x):\n    print(x)\n    return x\n", slot=SECURITY_SLOT
    )
    assert HIDDEN_INPUT_MARKER not in json.dumps(report.to_dict())
