"""Python: the sandbox's own interpreter running quizzes/grading/harness.py.

Exactly the grading Python learners always had: the harness compiled once per worker
process, its config and hidden inputs in marshal, calls with the test's own keyword
arguments, and the historical rule for expected exceptions (the type's name anywhere
along its MRO)."""

from __future__ import annotations

import marshal
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..protocol import RecordKind, Reported
from ..sandbox import SANDBOX_PYTHON, Limits, run_sandboxed
from ..signature import TypeRef
from .base import Language, SandboxProgram, per_test_seconds

if TYPE_CHECKING:
    from ..spec import CodeChallengeSpec, TestCase

__all__ = ["HARNESS_ARGV", "HARNESS_COMPILE_WALL_SECONDS", "PythonLanguage", "python_harness"]

HARNESS_ARGV = [SANDBOX_PYTHON, "-I", "-S", "-B", "/sandbox/harness.py"]
# Compiling the harness once per worker process is a sandbox run of its own.
HARNESS_COMPILE_WALL_SECONDS = 20.0

_harness_lock = threading.Lock()
_harness_cache: tuple[dict[str, bytes], list[str]] | None = None

# Compiles the harness with the sandbox's own interpreter (so the bytecode's magic number
# matches it), inside a sandbox; writes a .pyc image to the result channel.
_COMPILE_HARNESS = (
    "import marshal, os\n"
    "from importlib.util import MAGIC_NUMBER\n"
    "source = open('/sandbox/harness.py', 'rb').read()\n"
    "code = compile(source, '/sandbox/harness.py', 'exec', dont_inherit=True, optimize=0)\n"
    "data = MAGIC_NUMBER + bytes(12) + marshal.dumps(code)\n"
    "os.write(int(os.environ['SKILLMAP_RESULT_FD']), data)\n"
)


def python_harness(slot: int = 0) -> tuple[dict[str, bytes], list[str]]:
    """The harness file and the argv running it, compiled once per process: compiling
    its source on every run would cost ~4 ms of every sandbox start."""
    global _harness_cache
    if _harness_cache is None:
        with _harness_lock:
            if _harness_cache is None:
                source = Path(__file__).parent.parent.joinpath("harness.py").read_bytes()
                run = run_sandboxed(
                    files={"harness.py": source},
                    argv=[SANDBOX_PYTHON, "-I", "-S", "-B", "-c", _COMPILE_HARNESS],
                    limits=Limits(cpu_seconds=10, wall_seconds=HARNESS_COMPILE_WALL_SECONDS),
                    slot=slot,
                )
                if run.exit_code == 0 and len(run.result) > 16:
                    _harness_cache = (
                        {"harness.pyc": run.result},
                        [SANDBOX_PYTHON, "-I", "-S", "-B", "/sandbox/harness.pyc"],
                    )
                else:  # still correct, only slower
                    _harness_cache = ({"harness.py": source}, HARNESS_ARGV)
    return _harness_cache


# The grader prepares one config per challenge (runner._prepared) and reuses it: its
# encoding is kept beside it, the config held so that its id stays its own.
_encoded_configs: dict[int, tuple[dict[str, Any], bytes]] = {}
_ENCODED_CONFIGS_SIZE = 256


def _encoded_config(config: dict[str, Any]) -> bytes:
    entry = _encoded_configs.get(id(config))
    if entry is not None and entry[0] is config:
        return entry[1]
    encoded = marshal.dumps(config)
    with _harness_lock:
        if len(_encoded_configs) >= _ENCODED_CONFIGS_SIZE:
            _encoded_configs.pop(next(iter(_encoded_configs)))
        _encoded_configs[id(config)] = (config, encoded)
    return encoded


_PY_TYPES = {"int": "int", "float": "float", "string": "str", "bool": "bool", "any": "object"}


def _py_type(type_: TypeRef) -> str:
    if type_.kind == "void":
        return "None"
    if type_.kind == "list":
        assert type_.item is not None
        text = f"list[{_py_type(type_.item)}]"
    elif type_.kind == "map":
        assert type_.item is not None
        text = f"dict[str, {_py_type(type_.item)}]"
    elif type_.kind == "record":
        text = str(type_.record)
    else:
        text = _PY_TYPES[type_.kind]
    return f"{text} | None" if type_.nullable and type_.kind != "any" else text


class PythonLanguage(Language):
    key: ClassVar[str] = "python"
    label: ClassVar[str] = "Python"
    extensions: ClassVar[tuple[str, ...]] = (".py",)
    editor_mode: ClassVar[str] = "python"
    compiled: ClassVar[bool] = False
    out_of_memory_markers: ClassVar[tuple[bytes, ...]] = (b"MemoryError",)
    comment_prefix: ClassVar[str] = "#"

    def unavailable_reason(self) -> str | None:
        if not os.access(SANDBOX_PYTHON, os.X_OK):
            return f"{SANDBOX_PYTHON} is missing"
        return None

    def version(self) -> str:
        return self.command_version([SANDBOX_PYTHON, "--version"]) or "Python 3"

    def entry_name(self, spec: CodeChallengeSpec) -> str:
        return spec.entry_point

    def starter(self, spec: CodeChallengeSpec) -> str:
        if spec.starter:
            return spec.starter
        return self.generate_starter(spec) if spec.signature is not None else ""

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        signature = spec.signature
        assert signature is not None
        lines: list[str] = []
        if signature.records:
            optional = any(f.optional for r in signature.records for f in r.fields)
            names = "NotRequired, TypedDict" if optional else "TypedDict"
            lines.append(f"from typing import {names}\n\n\n")
            for record in signature.records:
                lines.append(f"class {record.name}(TypedDict):\n")
                lines.extend(
                    f"    {f.key}: NotRequired[{_py_type(f.type)}]\n"
                    if f.optional
                    else f"    {f.key}: {_py_type(f.type)}\n"
                    for f in record.fields
                )
                lines.append("\n\n")

        def params(items: Any) -> str:
            parts = []
            for p in items:
                text = f"{p.name}: {_py_type(p.type)}"
                if p.has_default:
                    text += f" = {p.default!r}"
                parts.append(text)
            return ", ".join(parts)

        if signature.kind == "function":
            assert signature.returns is not None
            lines.append(
                f"def {spec.entry_point}({params(signature.params)}) -> "
                f"{_py_type(signature.returns)}:\n    raise NotImplementedError\n"
            )
        else:
            lines.append(f"class {spec.entry_point}:\n")
            init = params(signature.params)
            lines.append(f"    def __init__(self{', ' if init else ''}{init}) -> None:\n")
            lines.append("        raise NotImplementedError\n")
            for method in signature.methods:
                args = params(method.params)
                lines.append(
                    f"\n    def {method.name}(self{', ' if args else ''}{args}) -> "
                    f"{_py_type(method.returns)}:\n        raise NotImplementedError\n"
                )
        return "".join(lines)

    def test_input(self, spec: CodeChallengeSpec, test: TestCase) -> dict[str, Any]:
        if spec.kind == "function":
            return {"args": test.args, "kwargs": test.kwargs}
        return {
            "init_args": test.init_args,
            "init_kwargs": test.init_kwargs,
            "calls": [
                {"method": call.method, "args": call.args, "kwargs": call.kwargs}
                for call in test.calls
            ],
        }

    def config(
        self, spec: CodeChallengeSpec, visible: list[dict[str, Any]], hidden_count: int
    ) -> dict[str, Any]:
        return {
            "mode": "function",
            "entry_point": spec.entry_point,
            "kind": spec.kind,
            "per_test_seconds": per_test_seconds(spec.time_limit),
            "tests": visible,
            "hidden_count": hidden_count,
        }

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        harness_files, argv = python_harness(slot)
        return SandboxProgram(
            files={
                **harness_files,
                "input.bin": _encoded_config(config),
                "solution.py": source.encode("utf-8", "replace"),
            },
            argv=argv,
            limits=self.limits(spec),
        )

    def hidden_payload(self, hidden: list[dict[str, Any]]) -> bytes:
        return marshal.dumps(hidden)

    def compile_message(self, record: dict[str, Any], source: str) -> str:
        line = record.get("line")
        where = f" on line {line}" if isinstance(line, int) else ""
        error_type = record.get("type") if record.get("type") in (
            "SyntaxError", "IndentationError", "TabError"
        ) else "SyntaxError"  # fmt: skip
        return f"{error_type}{where}: {record.get('msg', 'invalid syntax')}"

    def load_message(self, spec: CodeChallengeSpec, record: dict[str, Any], source: str) -> str:
        if record.get("t") == RecordKind.COMPILE_ERROR:
            return self.compile_message(record, source)
        category = record.get("category")
        name = spec.entry_point
        if category == "missing":
            return f"Your code does not define `{name}`."
        if category == "not_class":
            return f"`{name}` must be a class."
        if category == "not_callable":
            return f"`{name}` must be a function."
        if category == Reported.TIMEOUT:
            return "Loading your code took too long."
        if category == Reported.MEMORY_LIMIT:
            return "Your code ran out of memory while loading."
        exception_type = _trusted_exception_name(record.get("exc"))
        line = record.get("line")
        where = f" on line {line}" if isinstance(line, int) else ""
        return f"{exception_type} raised{where} while loading your code."

    def exception_matches(self, names: list[tuple[str, bool]], raises: str) -> bool:
        return any(name == raises for name, _ in names)

    def raises_text(self, raises: str) -> str:
        return raises

    def value_text(self, value: Any) -> str:
        return repr(value)

    def call_text(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
        parts = [repr(arg) for arg in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
        return f"{name}({', '.join(parts)})"

    def type_text(self, type_: TypeRef) -> str:
        return _py_type(type_)


def _trusted_exception_name(exc: Any) -> str:
    """The nearest builtin class (recognised by identity in the harness), for messages
    about code whose class names nobody has vetted."""
    if not isinstance(exc, list):
        return "Exception"
    return next(
        (
            item[0]
            for item in exc
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and item[1]
        ),
        "Exception",
    )
