"""What a language is to the grader: the ``Language`` contract every runtime implements.

``runner.grade_code`` is the one entry for code challenges in every language. It selects
the tests, asks the language for the harness's config and its ``SandboxProgram``, runs it
(``Language.run``; one sandbox run unless a language needs a compile run of its own),
hands hidden inputs over only after every visible result (``hidden_payload``), and judges
the records the harness wrote, which are the same in every language (see
quizzes/grading/harness.py): ``hello``, ``compile_error {type, line, msg}``,
``load_error {category, …}``, ``loaded``, ``test {i, status, value | exc}``,
``await_hidden``, ``done``. Expected values never enter the sandbox.

The neutral harness config (``Language.config``; Python keeps its own marshal format) is
JSON written to ``/sandbox/input.json``::

    {"kind": "function" | "class",
     "entry": "batchLines",            # the function, or the class's constructor name
     "class": null | "TTLCache",
     "signature": {...},               # signature_config(): names in the language's naming
     "per_test_seconds": 0.6,
     "tests": [{"args": [...]}]        # or {"init_args": [...], "calls": [{"method", "args"}]}
     "hidden_count": 3}

Arguments are positional, defaults filled (``bind_arguments``). Hidden tests arrive on
stdin as one JSON array of the same shape, after the harness wrote ``await_hidden``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..protocol import RecordKind, Reported
from ..sandbox import Limits, SandboxRun, run_sandboxed
from ..signature import Param, Signature, TypeRef, bind_arguments
from .errors import ERRORS, accepted_classes
from .names import go_constructor, member_name

if TYPE_CHECKING:
    from ..spec import Call, CodeChallengeSpec, TestCase

__all__ = [
    "PER_TEST_FRACTION",
    "STARTUP_CPU_SECONDS",
    "Language",
    "SandboxProgram",
    "challenge_limits",
    "per_test_seconds",
    "run_wall_seconds",
]

PER_TEST_FRACTION = 0.5  # one runaway test may use this share of the time limit
STARTUP_CPU_SECONDS = 1.0


def run_wall_seconds(time_limit: float) -> float:
    """The wall-clock limit of one sandbox run of a challenge with ``time_limit``."""
    return 2 * time_limit + 1.0


def challenge_limits(time_limit: float, memory_limit_mb: int) -> Limits:
    return Limits(
        cpu_seconds=time_limit + STARTUP_CPU_SECONDS,
        wall_seconds=run_wall_seconds(time_limit),
        memory_mb=memory_limit_mb,
    )


def per_test_seconds(time_limit: float) -> float:
    return max(0.1, time_limit * PER_TEST_FRACTION)


@dataclass(frozen=True)
class SandboxProgram:
    """One sandbox run: the files bound read-only at /sandbox, the command, the limits,
    extra read-only binds (host path, sandbox path) and environment variables."""

    files: Mapping[str, bytes]
    argv: Sequence[str]
    limits: Limits
    extra_ro_binds: tuple[tuple[str, str], ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


RunSandboxed = Callable[..., SandboxRun]


class Language:
    """A language code challenges are graded in. Subclasses set the class attributes and
    implement ``program`` (and usually ``starter``, ``version``, ``available``)."""

    key: ClassVar[str]  # "python" | "javascript" | "typescript" | "go" | "java"
    label: ClassVar[str]  # "JavaScript (Node.js)"
    extensions: ClassVar[tuple[str, ...]]  # (".js", ".mjs"); the first is the default
    editor_mode: ClassVar[str]  # the code editor's mode (frontend/src/editor.js)
    compiled: ClassVar[bool] = False
    # stderr fragments that mean the run died of memory (Python's MemoryError …)
    out_of_memory_markers: ClassVar[tuple[bytes, ...]] = ()
    comment_prefix: ClassVar[str] = "//"
    # Seconds a run may take beyond the challenge's limits (a compile step), counted in
    # the worst case a grading task may last (runner.worst_case_seconds).
    extra_seconds: ClassVar[float] = 0.0

    _version_lock: ClassVar[threading.Lock] = threading.Lock()
    _version_cache: ClassVar[dict[str, str]] = {}

    # --- the toolchain -----------------------------------------------------------------
    def available(self) -> bool:
        """Whether this host can grade the language (cheap: cached by implementations)."""
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """Why this host cannot grade the language (None when it can)."""
        return None

    def version(self) -> str:
        """The toolchain's version as the challenge page shows it, e.g. "Go 1.19.8"."""
        return self.label

    @classmethod
    def command_version(cls, argv: Sequence[str], *, prefix: str = "") -> str:
        """The first line a ``--version`` command prints (cached per process), or ""."""
        key = "\0".join(argv)
        with cls._version_lock:
            if key in cls._version_cache:
                return cls._version_cache[key]
        text = ""
        if shutil.which(argv[0]) is not None:
            try:
                done = subprocess.run(
                    list(argv), capture_output=True, timeout=20, check=False, env={}
                )
                lines = (done.stdout or done.stderr).decode("utf-8", "replace").splitlines()
                text = prefix + lines[0].strip() if lines else ""
            except (OSError, subprocess.SubprocessError):
                text = ""
        with cls._version_lock:
            cls._version_cache[key] = text
        return text

    # --- names and starters --------------------------------------------------------------
    def name(self, neutral: str, *, role: str) -> str:
        """A neutral name in this language (roles: see names.member_name)."""
        return member_name(self.key, neutral, role=role)

    def entry_name(self, spec: CodeChallengeSpec) -> str:
        """The function, or the class's constructor, a harness calls."""
        if spec.kind == "class":
            return go_constructor(spec.entry_point) if self.key == "go" else spec.entry_point
        return self.name(spec.entry_point, role="function")

    def starter(self, spec: CodeChallengeSpec) -> str:
        """The code the editor opens with: the bank's override, else generated from the
        signature (``generate_starter``)."""
        material = spec.material(self.key)
        if material is not None and material.starter:
            return material.starter
        if spec.signature is None:
            return ""
        return self.generate_starter(spec)

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        """A starter written from the signature; each language overrides it."""
        return ""

    # --- running -------------------------------------------------------------------------
    def test_input(self, spec: CodeChallengeSpec, test: TestCase) -> dict[str, Any]:
        """What the harness receives of one test: its inputs only, positional."""
        signature = _require_signature(spec)
        if spec.kind == "function":
            return {"args": bind_arguments(signature.params, test.args, test.kwargs, test.name)}
        return {
            "init_args": bind_arguments(
                signature.params, test.init_args, test.init_kwargs, test.name
            ),
            "calls": [self._call_input(signature, call, test.name) for call in test.calls],
        }

    def _call_input(self, signature: Signature, call: Call, where: str) -> dict[str, Any]:
        method = signature.method(call.method)
        assert method is not None  # checked with the spec
        return {
            "method": self.name(call.method, role="method"),
            "args": bind_arguments(method.params, call.args, call.kwargs, where),
        }

    def config(
        self,
        spec: CodeChallengeSpec,
        visible: list[dict[str, Any]],
        hidden_count: int,
    ) -> dict[str, Any]:
        """The harness's config: the challenge's shape and the VISIBLE tests' inputs."""
        return {
            "kind": spec.kind,
            "entry": self.entry_name(spec),
            "class": spec.entry_point if spec.kind == "class" else None,
            "signature": self.signature_config(spec),
            "per_test_seconds": per_test_seconds(spec.time_limit),
            "tests": visible,
            "hidden_count": hidden_count,
        }

    def signature_config(self, spec: CodeChallengeSpec) -> dict[str, Any]:
        """The signature for a harness: names in this language, types as strings, each
        record field with its JSON key and its name here, errors by neutral kind."""
        signature = _require_signature(spec)

        def params(items: tuple[Param, ...]) -> list[dict[str, Any]]:
            return [
                {"key": p.name, "name": self.name(p.name, role="param"), "type": str(p.type)}
                for p in items
            ]

        def kinds(raises: tuple[str, ...]) -> list[str]:
            return [ERRORS[name].kind for name in raises if name in ERRORS]

        config: dict[str, Any] = {
            "records": {
                record.name: [
                    {
                        "key": f.key,
                        "name": self.name(f.key, role="field"),
                        "type": str(f.type),
                        "optional": f.optional,
                    }
                    for f in record.fields
                ]
                for record in signature.records
            },
        }
        if signature.kind == "function":
            assert signature.returns is not None
            config.update(
                params=params(signature.params),
                returns=str(signature.returns),
                errors=kinds(signature.raises),
            )
        else:
            config.update(
                init=params(signature.params),
                init_errors=kinds(signature.init_raises),
                methods=[
                    {
                        "key": m.name,
                        "name": self.name(m.name, role="method"),
                        "params": params(m.params),
                        "returns": str(m.returns),
                        "errors": kinds(m.raises),
                    }
                    for m in signature.methods
                ],
            )
        return config

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        """The sandbox run that grades ``source``: harness, solution, config, limits."""
        raise NotImplementedError

    def limits(self, spec: CodeChallengeSpec) -> Limits:
        return challenge_limits(spec.time_limit, spec.memory_limit_mb)

    def hidden_payload(self, hidden: list[dict[str, Any]]) -> bytes:
        """The hidden tests' inputs as written to the harness's stdin."""
        return json.dumps(hidden, ensure_ascii=False, allow_nan=False).encode() + b"\n"

    def run(
        self,
        program: SandboxProgram,
        *,
        slot: int,
        stdin_responder: Callable[[bytes], bytes | None] | None,
        run_sandboxed: RunSandboxed = run_sandboxed,
    ) -> SandboxRun:
        """Run the program (one sandbox run). A language that compiles in a run of its
        own overrides this, and must keep the contract: the records of the run that
        holds the learner's code, hidden inputs only through ``stdin_responder``."""
        extra: dict[str, Any] = {}
        if program.extra_ro_binds:
            extra["extra_ro_binds"] = program.extra_ro_binds
        if program.env:
            extra["env"] = dict(program.env)
        return run_sandboxed(
            files=dict(program.files),
            argv=list(program.argv),
            limits=program.limits,
            slot=slot,
            stdin_responder=stdin_responder,
            **extra,
        )

    # --- what the learner reads -----------------------------------------------------------
    def compile_message(self, record: dict[str, Any], source: str) -> str:
        """A ``compile_error`` record as the learner reads it; ``line`` is already a
        line of the learner's own file (the harness maps it)."""
        line = record.get("line")
        where = f" on line {line}" if isinstance(line, int) and line > 0 else ""
        return f"Compile error{where}: {record.get('msg', 'the code does not compile')}"

    def load_message(self, spec: CodeChallengeSpec, record: dict[str, Any], source: str) -> str:
        """Why the code could not be loaded (a ``compile_error`` or ``load_error``)."""
        if record.get("t") == RecordKind.COMPILE_ERROR:
            return self.compile_message(record, source)
        category = record.get("category")
        name = self.entry_name(spec)
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
        names = record.get("exc")
        trusted = next(
            (n[0] for n in names if isinstance(n, list) and len(n) == 2 and n[1]), None
        ) if isinstance(names, list) else None  # fmt: skip
        return f"{trusted or 'An error'} raised while loading your code."

    def exception_matches(self, names: list[tuple[str, bool]], raises: str) -> bool:
        """Whether a reported error satisfies ``raises``: one of the language's accepted
        classes, reported as trusted (recognised by identity, not by a chosen name)."""
        accepted = accepted_classes(self.key, raises)
        return any(trusted and name in accepted for name, trusted in names)

    def raises_text(self, raises: str) -> str:
        """How the learner's language names the error a test expects."""
        accepted = accepted_classes(self.key, raises)
        return accepted[0] if accepted else raises

    def value_text(self, value: Any) -> str:
        """A value as the learner's language would write it (JSON by default)."""
        return json.dumps(value, ensure_ascii=False)

    def call_text(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
        parts = [self.value_text(arg) for arg in args]
        parts += [f"{self.name(k, role='param')}: {self.value_text(v)}" for k, v in kwargs.items()]
        return f"{name}({', '.join(parts)})"

    def type_text(self, type_: TypeRef) -> str:
        """A type as the learner's language writes it (the neutral grammar by default)."""
        return str(type_)


def _require_signature(spec: CodeChallengeSpec) -> Signature:
    if spec.signature is None:
        raise ValueError(
            f"{spec.entry_point}: only Python can grade a challenge without a signature"
        )
    return spec.signature
