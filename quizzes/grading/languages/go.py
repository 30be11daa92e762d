"""Go: Debian's Go 1.19 toolchain, building each submission inside the sandbox.

One sandbox run per submission (docs/architecture.md, "Go"): the driver
(harnesses/go/driver.py, the sandbox's Python) writes ``hello``, compiles the learner's
``solution.go`` with the generated ``skillmap_main.go`` (go_source.py) using the
toolchain's ``compile`` and ``link`` directly, against the standard library Debian ships
precompiled and the harness package's archive, then execs the program under the
challenge's limits. The ``go`` command is not used: it would hash the whole standard
library on every build (and ``-trimpath`` makes every standard package stale: 10 s).

The harness package (harnesses/go/harness.go) is the same for every submission: it is
compiled once per worker process, in a sandbox run of its own, and its archive is handed
to every build, so a build compiles only the learner's file and a short generated one,
then links (~0.15 s on an idle machine).

Memory: a Go program reserves ~600 MiB of address space before it allocates anything,
so RLIMIT_AS cannot be the challenge's memory limit. The program runs with RLIMIT_DATA =
the limit + 64 MiB (the runtime's own bookkeeping; data counts written private memory,
which is what the heap is), GOMEMLIMIT = the limit (the collector works harder before
the hard limit), and RLIMIT_AS = the limit + 1 GiB as a backstop for shared mappings,
which RLIMIT_DATA does not count. The build tools get RLIMIT_DATA 1 GiB and 10 s of CPU
each. GOMAXPROCS=1.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..protocol import RecordKind
from ..sandbox import SANDBOX_PYTHON, Limits, SandboxUnavailable, run_sandboxed
from ..signature import TypeRef
from .base import Language, SandboxProgram, run_wall_seconds
from .go_source import declarations, generate_main, generate_starter, go_type

if TYPE_CHECKING:
    from ..spec import CodeChallengeSpec

__all__ = ["GOROOT", "GoLanguage", "go_harness_archive"]

GOROOT = "/usr/lib/go-1.19"
_TOOLS = (f"{GOROOT}/pkg/tool/linux_amd64/compile", f"{GOROOT}/pkg/tool/linux_amd64/link")
_STDLIB = f"{GOROOT}/pkg/linux_amd64"
_HARNESS_DIR = Path(__file__).resolve().parent.parent / "harnesses" / "go"
DRIVER = "/sandbox/driver.py"

BUILD_CPU_SECONDS = 10  # per tool (driver.py); a learner's file compiles in ~0.1 s
BUILD_DATA_MB = 1024
BUILD_WALL_SECONDS = 10.0  # added to the run's wall clock for the build
RUNTIME_DATA_MB = 64  # the Go runtime's own writable memory, beyond the heap
ADDRESS_BACKSTOP_MB = 1024
ARCHIVE_WALL_SECONDS = 20.0  # once per worker process, as the Python harness compile
BUILD_TMPFS_MB = 64  # the build's objects and the program, besides the learner's files

_archive_lock = threading.Lock()
_archive_cache: dict[str, bytes] = {}


def _harness_files() -> tuple[bytes, bytes]:
    return (_HARNESS_DIR / "driver.py").read_bytes(), (_HARNESS_DIR / "harness.go").read_bytes()


def go_harness_archive(slot: int = 0) -> bytes:
    """The harness package compiled by this host's toolchain (``skillmapharness.a``),
    once per worker process, in a sandbox like every other build."""
    driver, harness = _harness_files()
    key = hashlib.sha256(driver + harness).hexdigest()
    cached = _archive_cache.get(key)
    if cached is not None:
        return cached
    with _archive_lock:
        cached = _archive_cache.get(key)
        if cached is not None:
            return cached
        run = run_sandboxed(
            files={"driver.py": driver, "harness.go": harness},
            argv=[SANDBOX_PYTHON, "-I", "-S", "-B", DRIVER, "--archive"],
            limits=Limits(
                cpu_seconds=BUILD_CPU_SECONDS,
                wall_seconds=ARCHIVE_WALL_SECONDS,
                memory_mb=BUILD_DATA_MB,
                memory_rlimit="data",
                tmpfs_mb=BUILD_TMPFS_MB,
            ),
            slot=slot,
        )
        if run.exit_code != 0 or not run.result.startswith(b"!<arch>"):
            detail = run.stderr.decode("utf-8", "replace").strip()[-500:]
            raise SandboxUnavailable(f"the Go harness does not build here: {detail}")
        _archive_cache[key] = run.result
        return run.result


_DIAGNOSTIC = re.compile(r"^(solution\.go|skillmap_main\.go):(\d+)(?::\d+)?: (.*)$")
_MAX_SHOWN_ERRORS = 3


class GoLanguage(Language):
    key: ClassVar[str] = "go"
    label: ClassVar[str] = "Go"
    extensions: ClassVar[tuple[str, ...]] = (".go",)
    editor_mode: ClassVar[str] = "go"
    compiled: ClassVar[bool] = True
    out_of_memory_markers: ClassVar[tuple[bytes, ...]] = (
        b"fatal error: runtime: out of memory",
        b"fatal error: out of memory",
        b"runtime: cannot allocate memory",
    )
    comment_prefix: ClassVar[str] = "//"
    # The build's share of the run's wall clock (the harness archive's one-time build is
    # the "cold harness compile" runner.worst_case_seconds counts for every language).
    extra_seconds: ClassVar[float] = BUILD_WALL_SECONDS

    def unavailable_reason(self) -> str | None:
        for path in (*_TOOLS, SANDBOX_PYTHON):
            if not os.access(path, os.X_OK):
                return f"{path} is missing (install golang-go)"
        if not os.path.isfile(f"{_STDLIB}/encoding/json.a"):
            return f"the precompiled standard library is missing from {_STDLIB}"
        return None

    def version(self) -> str:
        try:
            text = Path(GOROOT, "VERSION").read_text().split()[0]
        except (OSError, IndexError):
            return "Go 1.19"
        return "Go " + text.removeprefix("go")

    def _shape(self, spec: CodeChallengeSpec) -> dict[str, Any]:
        return {
            "kind": spec.kind,
            "entry": self.entry_name(spec),
            "class": spec.entry_point if spec.kind == "class" else None,
            "signature": self.signature_config(spec),
        }

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        return generate_starter(self._shape(spec))

    def type_text(self, type_: TypeRef) -> str:
        return go_type(str(type_))

    def limits(self, spec: CodeChallengeSpec) -> Limits:
        program_data = spec.memory_limit_mb + RUNTIME_DATA_MB
        return Limits(
            cpu_seconds=max(BUILD_CPU_SECONDS, spec.time_limit + 1.0),
            wall_seconds=BUILD_WALL_SECONDS + run_wall_seconds(spec.time_limit),
            memory_mb=max(BUILD_DATA_MB, program_data),
            memory_rlimit="data",
            tmpfs_mb=BUILD_TMPFS_MB,
        )

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        driver, _ = _harness_files()
        memory = spec.memory_limit_mb
        cpu = math.ceil(spec.time_limit + 1.0)
        return SandboxProgram(
            files={
                "driver.py": driver,
                "skillmapharness.a": go_harness_archive(slot),
                "skillmap_main.go": generate_main(config).encode(),
                "input.json": json.dumps(config, ensure_ascii=False, allow_nan=False).encode(),
                "solution.go": source.encode("utf-8", "replace"),
            },
            argv=[
                SANDBOX_PYTHON,
                "-I",
                "-S",
                "-B",
                DRIVER,
                str(cpu),
                str(memory),
                str(memory + RUNTIME_DATA_MB),
                str(memory + ADDRESS_BACKSTOP_MB),
            ],
            limits=self.limits(spec),
        )

    def compile_message(self, record: dict[str, Any], source: str) -> str:
        """The compiler's first errors, each at its line of the learner's file."""
        text = record.get("msg")
        if not isinstance(text, str) or not text.strip():
            return "Compile error: the code does not compile."
        shown = []
        for line in text.splitlines():
            match = _DIAGNOSTIC.match(line)
            if match is None:
                continue
            file, number, message = match.groups()
            if file == "solution.go":
                shown.append(f"line {number}: {message}")
            else:
                shown.append(message)
            if len(shown) == _MAX_SHOWN_ERRORS:
                break
        if not shown:  # the linker, or a limit: its own words
            return f"Build error: {text.strip().splitlines()[-1]}"
        return (
            "Compile error on " + "; ".join(shown)
            if shown[0].startswith("line ")
            else ("Compile error: " + "; ".join(shown))
        )

    def load_message(self, spec: CodeChallengeSpec, record: dict[str, Any], source: str) -> str:
        if record.get("t") == RecordKind.COMPILE_ERROR:
            text = record.get("msg") if isinstance(record.get("msg"), str) else ""
            assert isinstance(text, str)
            if re.search(r"\bpackage \w+; expected \w+", text):
                return "Your file must start with `package main`."
            if re.search(r"\bmain redeclared\b", text):
                return "Your file must not declare `main`: the grader's program has its own."
            harness_errors = [
                m.group(3)
                for m in map(_DIAGNOSTIC.match, text.splitlines())
                if m is not None and m.group(1) == "skillmap_main.go"
            ]
            if harness_errors:  # the declarations differ (the learner's own errors follow)
                wanted = "; ".join(declarations(self._shape(spec)))
                return f"Your code must declare {wanted} ({harness_errors[0]})."
            return self.compile_message(record, source)
        if record.get("category") == "record" and isinstance(record.get("msg"), str):
            return f"{record['msg']}: the challenge's JSON objects cannot be read into it."
        return super().load_message(spec, record, source)
