"""JavaScript and TypeScript: Node.js running quizzes/grading/harnesses/javascript/harness.js.

JavaScript solutions are CommonJS modules (``module.exports = { batchLines }``), the form
Node runs without a flag; TypeScript solutions use ``export``, are type-checked with the
pinned compiler in strict mode inside the sandbox (harnesses/typescript/compile.js) and
their emitted CommonJS runs in the same harness. Both run inside the usual bubblewrap
sandbox; what differs from Python is the memory control (docs/architecture.md,
"Languages"): V8 reserves far more address space than it uses (a 512 MiB code range, a
cage for its heap), so RLIMIT_AS would stop it before it starts. The sandbox sets
RLIMIT_DATA instead, which counts what Node actually writes: its heap, ArrayBuffers,
malloc and thread stacks. TypeScript's compiler works in the same process and gets its
measured share on top of the challenge's limit.

TypeScript starts from a V8 startup snapshot (harnesses/typescript/snapshot.js) holding
the compiler loaded and its lib files parsed; it is built on this host the first time
it is needed (or by ``make``) and bound read-only into the sandbox.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..signature import Param, TypeRef
from .base import Language, SandboxProgram
from .errors import accepted_classes

if TYPE_CHECKING:
    from ..sandbox import Limits
    from ..spec import CodeChallengeSpec

__all__ = [
    "NODE",
    "JavaScriptLanguage",
    "TypeScriptLanguage",
    "typescript_snapshot",
]

NODE = "/usr/bin/node"
MIN_NODE_MAJOR = 18
_GRADING_DIR = Path(__file__).resolve().parent.parent
_HARNESS = _GRADING_DIR / "harnesses" / "javascript" / "harness.js"
_SNAPSHOT_BUILDER = _GRADING_DIR / "harnesses" / "typescript" / "snapshot.js"
_REPO = _GRADING_DIR.parent.parent
# The pinned compiler: toolchains/typescript (package.json + lockfile), installed by make.
TYPESCRIPT_DIR_ENV = "SKILLMAP_TYPESCRIPT_DIR"
_DEFAULT_TYPESCRIPT_DIR = _REPO / "toolchains" / "typescript" / "node_modules" / "typescript"
SANDBOX_SNAPSHOT = "/opt/skillmap/typescript.blob"
# What the compiler itself uses of the run's memory, on top of the challenge's limit
# (measured: the data segment is ~56 MiB after a JavaScript start, ~115 MiB after a
# TypeScript compile).
TYPESCRIPT_COMPILER_MB = 96
# Seconds a TypeScript compile may take, added to the run's CPU and wall-clock limits
# (a strict check of a challenge-sized file takes ~0.1-0.3 s of CPU).
TYPESCRIPT_COMPILE_SECONDS = 4.0
SNAPSHOT_BUILD_TIMEOUT = 180.0

_HEAP_MARKERS = (
    b"JavaScript heap out of memory",
    b"Fatal process out of memory",
    b"out of memory",
    b"Array buffer allocation failed",
)

# --------------------------------------------------------------------------- node


def _node_version() -> str:
    return Language.command_version([NODE, "--version"])


def _node_problem() -> str | None:
    if not os.access(NODE, os.X_OK):
        return f"Node.js is missing ({NODE})"
    version = _node_version()
    match = re.match(r"v(\d+)\.", version)
    if match is None:
        return f"{NODE} --version said {version!r}"
    if int(match.group(1)) < MIN_NODE_MAJOR:
        return f"Node.js {version} is too old (needs {MIN_NODE_MAJOR} or newer)"
    return None


_harness_cache: bytes | None = None


def _harness() -> bytes:
    global _harness_cache
    if _harness_cache is None:
        _harness_cache = _HARNESS.read_bytes()
    return _harness_cache


# --------------------------------------------------------------------------- types

_TS_SCALARS = {"int": "number", "float": "number", "string": "string", "bool": "boolean"}


def ts_type(type_: TypeRef) -> str:
    """A neutral type as TypeScript writes it: ``list<int?>`` → ``(number | null)[]``."""
    if type_.kind == "void":
        return "void"
    if type_.kind == "any":
        return "unknown"  # any JSON value, null included
    if type_.kind == "list":
        assert type_.item is not None
        item = ts_type(type_.item)
        text = f"({item})[]" if " " in item else f"{item}[]"
    elif type_.kind == "map":
        assert type_.item is not None
        text = f"Record<string, {ts_type(type_.item)}>"
    elif type_.kind == "record":
        text = str(type_.record)
    else:
        text = _TS_SCALARS[type_.kind]
    return f"{text} | null" if type_.nullable else text


def _js_literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error_note(language: str, names: set[str]) -> list[str]:
    """Comment lines telling which class to throw for each error the tests expect."""
    lines = []
    for name in sorted(names):
        accepted = accepted_classes(language, name)
        if accepted:
            choices = " or ".join(accepted)
            lines.append(f"// Where the statement says {name}, throw a {choices}.")
    return lines


# --------------------------------------------------------------------------- languages


class _Node(Language):
    """What JavaScript and TypeScript share: the harness, Node, the memory control."""

    editor_mode: ClassVar[str] = "javascript"
    out_of_memory_markers: ClassVar[tuple[bytes, ...]] = _HEAP_MARKERS
    comment_prefix: ClassVar[str] = "//"
    solution_file: ClassVar[str] = "solution.js"

    def unavailable_reason(self) -> str | None:
        return _node_problem()

    def limits(self, spec: CodeChallengeSpec) -> Limits:
        return dataclasses.replace(super().limits(spec), memory_rlimit="data")

    def value_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def argv(self, limits: Limits) -> list[str]:
        return [NODE, "/sandbox/harness.js"]

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        limits = self.limits(spec)
        return SandboxProgram(
            files={
                "harness.js": _harness(),
                "input.json": json.dumps({**config, "language": self.key}).encode(),
                self.solution_file: source.encode("utf-8", "replace"),
            },
            argv=self.argv(limits),
            limits=limits,
            extra_ro_binds=self.binds(),
        )

    def binds(self) -> tuple[tuple[str, str], ...]:
        return ()

    def params_text(self, params: tuple[Param, ...], typed: bool) -> str:
        parts = []
        for param in params:
            name = self.name(param.name, role="param")
            text = f"{name}: {ts_type(param.type)}" if typed else name
            if param.has_default:
                if typed and param.default is not None:
                    text = name  # the type follows from the default
                text += f" = {_js_literal(param.default)}"
            parts.append(text)
        return ", ".join(parts)


class JavaScriptLanguage(_Node):
    key: ClassVar[str] = "javascript"
    label: ClassVar[str] = "JavaScript (Node.js)"
    extensions: ClassVar[tuple[str, ...]] = (".js", ".cjs")

    def version(self) -> str:
        version = _node_version()
        return f"Node.js {version}" if version else "Node.js"

    def compile_message(self, record: dict[str, Any], source: str) -> str:
        line = record.get("line")
        where = f" on line {line}" if isinstance(line, int) and line > 0 else ""
        return f"SyntaxError{where}: {str(record.get('msg', 'invalid syntax'))[:300]}"

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        signature = spec.signature
        assert signature is not None
        lines: list[str] = []
        for record in signature.records:
            lines.append("/**")
            lines.append(f" * @typedef {{Object}} {record.name}")
            lines.extend(
                f" * @property {{{_jsdoc(f.type)}}} {self.name(f.key, role='field')}"
                for f in record.fields
            )
            lines.append(" */")
            lines.append("")
        lines.extend(_error_note(self.key, signature.error_names()))
        exported = self.entry_name(spec)
        if signature.kind == "function":
            assert signature.returns is not None
            lines.extend(self._jsdoc_block(signature.params, signature.returns, ""))
            lines.append(f"function {exported}({self.params_text(signature.params, False)}) {{")
            lines.append("  throw new Error('not implemented yet');")
            lines.append("}")
        else:
            lines.append(f"class {exported} {{")
            lines.extend(self._jsdoc_block(signature.params, None, "  "))
            lines.append(f"  constructor({self.params_text(signature.params, False)}) {{")
            lines.append("  }")
            for method in signature.methods:
                lines.append("")
                lines.extend(self._jsdoc_block(method.params, method.returns, "  "))
                name = self.name(method.name, role="method")
                lines.append(f"  {name}({self.params_text(method.params, False)}) {{")
                lines.append("    throw new Error('not implemented yet');")
                lines.append("  }")
            lines.append("}")
        lines.append("")
        lines.append(f"module.exports = {{ {exported} }};")
        return "\n".join(lines) + "\n"

    def _jsdoc_block(
        self, params: tuple[Param, ...], returns: TypeRef | None, indent: str
    ) -> list[str]:
        body = []
        for param in params:
            name = self.name(param.name, role="param")
            if param.has_default:
                name = f"[{name}={_js_literal(param.default)}]"
            body.append(f"@param {{{_jsdoc(param.type)}}} {name}")
        if returns is not None and returns.kind != "void":
            body.append(f"@returns {{{_jsdoc(returns)}}}")
        if not body:
            return []
        return [f"{indent}/**", *(f"{indent} * {line}" for line in body), f"{indent} */"]

    def type_text(self, type_: TypeRef) -> str:
        return _jsdoc(type_)


def _jsdoc(type_: TypeRef) -> str:
    return ts_type(type_).replace(" | ", "|").replace("unknown", "*")


class TypeScriptLanguage(_Node):
    key: ClassVar[str] = "typescript"
    label: ClassVar[str] = "TypeScript"
    extensions: ClassVar[tuple[str, ...]] = (".ts",)
    editor_mode: ClassVar[str] = "typescript"
    compiled: ClassVar[bool] = True
    solution_file: ClassVar[str] = "solution.ts"
    extra_seconds: ClassVar[float] = 2 * TYPESCRIPT_COMPILE_SECONDS

    def unavailable_reason(self) -> str | None:
        problem = _node_problem()
        if problem is not None:
            return problem
        if not (typescript_dir() / "lib" / "typescript.js").is_file():
            return f"the TypeScript compiler is not installed ({typescript_dir()}; run make)"
        try:
            typescript_snapshot()
        except SnapshotFailed as exc:
            return str(exc)
        return None

    def version(self) -> str:
        return f"TypeScript {typescript_version()} (Node.js {_node_version()})"

    def limits(self, spec: CodeChallengeSpec) -> Limits:
        limits = super().limits(spec)
        return dataclasses.replace(
            limits,
            memory_mb=limits.memory_mb + TYPESCRIPT_COMPILER_MB,
            cpu_seconds=limits.cpu_seconds + TYPESCRIPT_COMPILE_SECONDS,
            wall_seconds=limits.wall_seconds + 2 * TYPESCRIPT_COMPILE_SECONDS,
        )

    def argv(self, limits: Limits) -> list[str]:
        return [NODE, "--snapshot-blob", SANDBOX_SNAPSHOT]

    def binds(self) -> tuple[tuple[str, str], ...]:
        return ((str(typescript_snapshot()), SANDBOX_SNAPSHOT),)

    def compile_message(self, record: dict[str, Any], source: str) -> str:
        text = str(record.get("msg") or "the code does not compile")[:1500]
        count = text.count("\n") + 1
        return f"TypeScript found {'an error' if count == 1 else 'errors'}:\n{text}"

    def type_text(self, type_: TypeRef) -> str:
        return ts_type(type_)

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        signature = spec.signature
        assert signature is not None
        lines: list[str] = []
        for record in signature.records:
            lines.append(f"export interface {record.name} {{")
            lines.extend(
                f"  {self.name(f.key, role='field')}: {ts_type(f.type)};" for f in record.fields
            )
            lines.append("}")
            lines.append("")
        lines.extend(_error_note(self.key, signature.error_names()))
        exported = self.entry_name(spec)
        if signature.kind == "function":
            assert signature.returns is not None
            params = self.params_text(signature.params, True)
            lines.append(f"export function {exported}({params}): {ts_type(signature.returns)} {{")
            lines.append('  throw new Error("not implemented yet");')
            lines.append("}")
        else:
            lines.append(f"export class {exported} {{")
            lines.append(f"  constructor({self.params_text(signature.params, True)}) {{")
            lines.append("  }")
            for method in signature.methods:
                lines.append("")
                name = self.name(method.name, role="method")
                params = self.params_text(method.params, True)
                lines.append(f"  {name}({params}): {ts_type(method.returns)} {{")
                lines.append('    throw new Error("not implemented yet");')
                lines.append("  }")
            lines.append("}")
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the snapshot


class SnapshotFailed(Exception):
    """The TypeScript startup snapshot could not be built on this host."""


_snapshot_lock = threading.Lock()
_snapshot_path: Path | None = None


def typescript_dir() -> Path:
    return Path(os.environ.get(TYPESCRIPT_DIR_ENV) or _DEFAULT_TYPESCRIPT_DIR)


def typescript_version() -> str:
    try:
        data = json.loads((typescript_dir() / "package.json").read_text())
    except (OSError, ValueError):
        return "?"
    return str(data.get("version", "?"))


def _snapshot_dir() -> Path:
    base = os.environ.get("VAR_DIR") or str(_REPO / "var")
    return Path(base) / "toolchains"


def typescript_snapshot() -> Path:
    """The startup snapshot for this Node binary and compiler, built once per host (under
    a file lock, so worker processes share one build); raises SnapshotFailed."""
    global _snapshot_path
    if _snapshot_path is not None and _snapshot_path.is_file():
        return _snapshot_path
    with _snapshot_lock:
        try:
            node_size = os.stat(NODE).st_size
        except OSError as exc:
            raise SnapshotFailed(f"Node.js is missing: {exc}") from exc
        name = f"typescript-{typescript_version()}-node-{_node_version()}-{node_size}.blob"
        target = _snapshot_dir() / name
        if not target.is_file():
            _build_snapshot(target)
        _snapshot_path = target
        return target


def _build_snapshot(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o755)  # noqa: S103 - the sandbox's slot uids read the blob
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            partial = Path(work) / "snapshot.blob"
            try:
                done = subprocess.run(
                    [
                        NODE,
                        "--snapshot-blob",
                        str(partial),
                        "--build-snapshot",
                        str(_SNAPSHOT_BUILDER),
                    ],
                    cwd=work,
                    env={
                        "SKILLMAP_TYPESCRIPT": str(typescript_dir().parent),
                        "PATH": "/usr/bin:/bin",
                    },
                    capture_output=True,
                    timeout=SNAPSHOT_BUILD_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise SnapshotFailed(f"building the TypeScript snapshot failed: {exc}") from exc
            if done.returncode != 0 or not partial.is_file():
                tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
                raise SnapshotFailed(
                    f"building the TypeScript snapshot failed (exit {done.returncode}): {tail[0]}"
                )
            os.chmod(partial, 0o644)
            shutil.move(partial, target)
