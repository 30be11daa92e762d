"""grade_code over the Language interface, through the real sandbox: Python unchanged,
and a stand-in language speaking the neutral JSON protocol (what the JavaScript, Go and
Java harnesses speak), so the core's side of that protocol is proven before they land."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from quizzes.grading import runner
from quizzes.grading.languages import UnknownLanguage
from quizzes.grading.languages.base import Language, SandboxProgram
from quizzes.grading.runner import grade_code, grade_python
from quizzes.grading.sandbox import SANDBOX_PYTHON, Limits, SandboxUnavailable, run_sandboxed
from quizzes.grading.spec import CodeChallengeSpec, code_spec_from_dict
from tests.conftest import language_standing_in

pytestmark = pytest.mark.sandbox

SLOT = 4

# A harness of the neutral protocol (languages/base.py), written in Python for the test:
# positional arguments from /sandbox/input.json, hidden inputs as JSON on stdin after
# "await_hidden", results on the private fd. A ValueError is reported as the trusted
# class the errors table accepts for JavaScript (RangeError); anything else untrusted.
HARNESS = r"""
import json, os, sys
fd = int(os.environ["SKILLMAP_RESULT_FD"])
def out(record):
    os.write(fd, (json.dumps(record) + "\n").encode())
config = json.load(open("/sandbox/input.json"))
out({"t": "hello"})
namespace = {}
try:
    exec(compile(open("/sandbox/solution.txt").read(), "solution", "exec"), namespace)
except SyntaxError as exc:
    out({"t": "compile_error", "type": "SyntaxError", "line": exc.lineno, "msg": exc.msg})
    sys.exit(0)
entry = namespace.get(config["entry"])
if entry is None:
    out({"t": "load_error", "category": "missing"})
    sys.exit(0)
out({"t": "loaded"})
def run(i, test):
    try:
        out({"t": "test", "i": i, "status": "ok", "value": {"v": entry(*test["args"])}})
    except ValueError:
        out({"t": "test", "i": i, "status": "exception", "exc": [["RangeError", True]]})
    except Exception as exc:
        out({"t": "test", "i": i, "status": "exception", "exc": [[type(exc).__name__, False]]})
for i, test in enumerate(config["tests"]):
    run(i, test)
if config["hidden_count"]:
    out({"t": "await_hidden"})
    for j, test in enumerate(json.loads(sys.stdin.read())):
        run(len(config["tests"]) + j, test)
out({"t": "done"})
"""


class StandIn(Language):
    key: ClassVar[str] = "javascript"
    label: ClassVar[str] = "Stand-in"
    extensions: ClassVar[tuple[str, ...]] = (".standin",)
    editor_mode: ClassVar[str] = "javascript"

    def entry_name(self, spec: CodeChallengeSpec) -> str:
        return spec.entry_point  # the stand-in's "language" is Python underneath

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        return SandboxProgram(
            files={
                "harness.py": HARNESS.encode(),
                "input.json": json.dumps(config).encode(),
                "solution.txt": source.encode(),
            },
            argv=[SANDBOX_PYTHON, "-I", "-S", "/sandbox/harness.py"],
            limits=self.limits(spec),
        )


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    with language_standing_in(StandIn()) as language:
        yield language


SPEC = code_spec_from_dict(
    {
        "entry_point": "scale",
        "kind": "function",
        "time_limit": 2,
        "signature": {
            "params": [
                {"name": "values", "type": "list<int>"},
                {"name": "factor", "type": "int", "default": 1},
            ],
            "returns": "list<int>",
            "raises": ["ValueError"],
        },
        "tests": [
            {"name": "shown", "visible": True, "args": [[1, 2]], "kwargs": {"factor": 3},
             "expect": [3, 6]},
            {"name": "default", "visible": True, "args": [[4]], "expect": [4]},
            {"name": "negative", "args": [[1]], "kwargs": {"factor": -1}, "raises": "ValueError"},
            {"name": "secret", "args": [[7, 8]], "kwargs": {"factor": 2}, "expect": [14, 16]},
        ],
    }
)  # fmt: skip

REFERENCE = """
def scale(values, factor):
    if factor < 0:
        raise ValueError("factor")
    return [v * factor for v in values]
"""


def test_a_language_gets_positional_arguments_and_passes(stand_in: StandIn) -> None:
    report = grade_code(SPEC, REFERENCE, language="javascript", slot=SLOT)
    assert report.status == "graded", report.message
    assert [o.passed for o in report.outcomes] == [True, True, True, True]
    shown = report.outcomes[0]
    # The visible test is written as the language writes calls: JSON values, its names.
    assert shown.input_repr == "scale([1, 2], factor: 3)"
    assert shown.expected_repr == "[3, 6]"


def test_hidden_failures_say_only_failed(stand_in: StandIn) -> None:
    wrong = "def scale(values, factor):\n    return [v * abs(factor) for v in values]\n"
    report = grade_code(SPEC, wrong, language="javascript", slot=SLOT)
    hidden = [o for o in report.outcomes if not o.visible]
    assert [(o.name, o.passed, o.category) for o in hidden] == [
        ("negative", False, "failed"),
        ("secret", True, "passed"),
    ]
    assert all(o.input_repr is None and o.actual_repr is None for o in hidden)


def test_an_error_counts_only_as_the_trusted_class_of_the_language(stand_in: StandIn) -> None:
    # The learner names their own class "RangeError": reported untrusted, it does not pass.
    forged = (
        "class RangeError(Exception):\n    pass\n"
        "def scale(values, factor):\n"
        "    if factor < 0:\n        raise RangeError('no')\n"
        "    return [v * factor for v in values]\n"
    )
    report = grade_code(SPEC, forged, language="javascript", slot=SLOT)
    assert {o.name: o.passed for o in report.outcomes}["negative"] is False
    visible = code_spec_from_dict(
        {
            **_raw(SPEC),
            "tests": [{"name": "err", "visible": True, "args": [[1], -1], "raises": "ValueError"}],
        }
    )
    shown = grade_code(visible, REFERENCE, language="javascript", slot=SLOT).outcomes[0]
    assert shown.passed and shown.expected_repr == "raises RangeError"


def _raw(spec: CodeChallengeSpec) -> dict[str, Any]:
    return {
        "entry_point": spec.entry_point,
        "kind": spec.kind,
        "signature": {
            "params": [
                {"name": "values", "type": "list<int>"},
                {"name": "factor", "type": "int", "default": 1},
            ],
            "returns": "list<int>",
            "raises": ["ValueError"],
        },
    }


def test_expected_values_never_enter_and_hidden_inputs_come_last(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[bytes] = []
    real = runner.run_sandboxed  # type: ignore[attr-defined]

    def spy(**kwargs: Any) -> Any:
        sent.extend(kwargs["files"].values())
        responder = kwargs["stdin_responder"]

        def recording(raw: bytes) -> bytes | None:
            answer: bytes | None = responder(raw)
            if answer is not None:
                # Every visible result is in before the hidden inputs go out.
                assert raw.count(b'"t": "test"') >= 2
                sent.append(answer)
            return answer

        kwargs["stdin_responder"] = recording
        return real(**kwargs)

    monkeypatch.setattr(runner, "run_sandboxed", spy)
    report = grade_code(SPEC, REFERENCE, language="javascript", slot=SLOT)
    assert report.status == "graded"
    config = json.loads(next(b for b in sent if b.startswith(b"{")))
    assert config["tests"] == [{"args": [[1, 2], 3]}, {"args": [[4], 1]}]
    assert json.loads(sent[-1]) == [{"args": [[1], -1]}, {"args": [[7, 8], 2]}]
    for blob in sent:
        if blob not in (HARNESS.encode(), REFERENCE.encode()):  # code may name ValueError
            assert b"14, 16" not in blob and b"ValueError" not in blob


def test_compile_errors_use_the_languages_message(stand_in: StandIn) -> None:
    report = grade_code(SPEC, "def scale(:\n", language="javascript", slot=SLOT)
    assert report.status == "compile_error"
    assert report.message.startswith("Compile error on line 1:")
    missing = grade_code(SPEC, "x = 1\n", language="javascript", slot=SLOT)
    assert missing.message == "Your code does not define `scale`."


def test_python_through_grade_code_is_grade_python() -> None:
    source = "def scale(values, factor=1):\n    return [v * factor for v in values]\n"
    via_code = grade_code(SPEC, source, language="python", slot=SLOT).to_dict()
    assert via_code == grade_python(SPEC, source, slot=SLOT).to_dict()
    # Python keeps calling with the test's own keyword arguments and repr-style text.
    assert via_code["outcomes"][0]["input_repr"] == "scale([1, 2], factor=3)"
    assert via_code["outcomes"][2]["passed"] is False  # no ValueError raised


def test_a_language_that_is_not_registered_or_a_spec_without_signature_is_refused(
    stand_in: StandIn,
) -> None:
    with pytest.raises(UnknownLanguage, match="unknown language 'cobol'"):
        grade_code(SPEC, REFERENCE, language="cobol", slot=SLOT)
    bare = code_spec_from_dict(
        {"entry_point": "f", "tests": [{"name": "t", "visible": True, "args": [], "expect": 1}]}
    )
    with pytest.raises(ValueError, match="only Python can grade a challenge without a signature"):
        grade_code(bare, "def f(): return 1", language="javascript", slot=SLOT)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the slots' unprivileged uids can read (pytest's tmp_path is private)."""
    path = Path(tempfile.mkdtemp(prefix="skillmap-test-", dir="/dev/shm"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_extra_read_only_binds_and_environment(shared_dir: Path) -> None:
    tmp_path = shared_dir
    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "VERSION").write_text("9.9")
    tool.chmod(0o755)
    (tool / "VERSION").chmod(0o644)
    program = (
        "import os\n"
        "data = open('/opt/tool/VERSION').read() + os.environ['TOOL_HOME']\n"
        "os.write(int(os.environ['SKILLMAP_RESULT_FD']), data.encode())\n"
        "try:\n    open('/opt/tool/new', 'w')\nexcept OSError:\n"
        "    os.write(int(os.environ['SKILLMAP_RESULT_FD']), b' read-only')\n"
    )
    run = run_sandboxed(
        files={},
        argv=[SANDBOX_PYTHON, "-I", "-S", "-c", program],
        limits=Limits(),
        slot=SLOT,
        extra_ro_binds=[(str(tool), "/opt/tool")],
        env={"TOOL_HOME": "/opt/tool"},
    )
    assert run.result == b"9.9/opt/tool read-only", run.stderr
    with pytest.raises(ValueError, match="cannot bind over '/sandbox/x'"):
        run_sandboxed(
            files={}, argv=["true"], limits=Limits(), slot=SLOT,
            extra_ro_binds=[(str(tool), "/sandbox/x")],
        )  # fmt: skip
    with pytest.raises(SandboxUnavailable, match="toolchain path missing"):
        run_sandboxed(
            files={}, argv=["true"], limits=Limits(), slot=SLOT,
            extra_ro_binds=[(str(tmp_path / "absent"), "/opt/absent")],
        )  # fmt: skip
    with pytest.raises(ValueError, match="invalid sandbox environment variable"):
        run_sandboxed(
            files={}, argv=["true"], limits=Limits(), slot=SLOT,
            env={"SKILLMAP_RESULT_FD": "1"},
        )  # fmt: skip


def test_the_memory_limit_can_bound_the_data_segment_instead_of_address_space() -> None:
    # A runtime that reserves a large address space up front (reserved here with
    # PROT_NONE, as a JVM or Go does) runs under RLIMIT_DATA, which still stops the heap.
    program = (
        "import mmap, os\n"
        "reserved = mmap.mmap(-1, 512 * 1024 * 1024, flags=mmap.MAP_PRIVATE, prot=0)\n"
        "os.write(int(os.environ['SKILLMAP_RESULT_FD']), b'reserved ')\n"
        "try:\n    hog = bytearray(256 * 1024 * 1024)\nexcept MemoryError:\n"
        "    os.write(int(os.environ['SKILLMAP_RESULT_FD']), b'stopped')\n"
    )
    argv = [SANDBOX_PYTHON, "-I", "-S", "-c", program]
    data = run_sandboxed(
        files={}, argv=argv, limits=Limits(memory_mb=128, memory_rlimit="data"), slot=SLOT
    )
    assert data.result == b"reserved stopped", data.stderr
    address_space = run_sandboxed(files={}, argv=argv, limits=Limits(memory_mb=128), slot=SLOT)
    assert not address_space.result.startswith(b"reserved")  # the reservation itself fails
