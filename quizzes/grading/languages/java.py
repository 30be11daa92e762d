"""Java: the JDK 17 compiler and JVM, in one JVM start per submission.

The harness (quizzes/grading/harnesses/java/Harness.java) compiles the learner's file
in memory with ``javax.tools`` inside the sandbox and runs the tests in the same JVM:
one JVM start instead of two (``javac`` then ``java``). What makes that start fast is a
class-data-sharing (CDS) archive of the harness and the compiler's classes, built once
per worker process by a training run in a sandbox (``_toolchain``); without it grading
is still correct, only slower (docs/architecture.md, "Java").

Memory: the JVM reserves far more address space than it uses (the heap, metaspace, code
cache, a malloc arena per thread), so RLIMIT_AS cannot be the limit. The heap is bounded
by ``-Xmx`` (the challenge's memory limit) and the rest by fixed flags; the rlimit is the
data segment, at the heap plus ``NATIVE_HEADROOM_MB``, which bounds everything the
process can make writable (heap, stacks, malloc, ``Unsafe.allocateMemory``).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..sandbox import Limits, SandboxUnavailable, run_sandboxed
from ..signature import Param, TypeRef
from .base import Language, SandboxProgram, challenge_limits
from .errors import ERRORS, accepted_classes

if TYPE_CHECKING:
    from ..spec import CodeChallengeSpec

__all__ = [
    "HARNESS_DIR",
    "HEAP_FLOOR_MB",
    "JAVA_HOME_ENV",
    "NATIVE_HEADROOM_MB",
    "JavaLanguage",
    "java_home",
    "java_type",
    "jvm_flags",
]

JAVA_HOME_ENV = "SKILLMAP_JAVA_HOME"
_JAVA_HOME_GLOB = "/usr/lib/jvm/java-17-openjdk-*"
HARNESS_SOURCE = Path(__file__).parent.parent / "harnesses" / "java" / "Harness.java"
# Where the per-process toolchain folder (harness jar + CDS archive) is bound inside the
# sandbox: the archive records the jar's path, so it must be the same in every run.
HARNESS_DIR = "/opt/skillmap-java"

HEAP_FLOOR_MB = 128  # the compiler needs ~60 MiB of heap for a small file
NATIVE_HEADROOM_MB = 512  # metaspace, code cache, thread stacks, malloc (measured)
STARTUP_CPU_SECONDS = 3.0  # JVM start + javac on a cold JIT: ~0.6 s of CPU measured
STARTUP_WALL_SECONDS = 6.0
COMPILE_SECONDS = 8.0  # a compile running longer is reported as a compile error
JVM_THREADS = 24  # the JVM's own threads (compiler, GC, reference handler, …)
TMPFS_MB = 64
_BUILD_WALL_SECONDS = 25.0  # each of the two runs building the toolchain

# Every JVM flag, and why (docs/architecture.md, "Java"). The CDS archive is only valid
# with the same flags, so the build run and the grading runs share them.
_FIXED_FLAGS = (
    "-XX:+UseSerialGC",  # one GC thread; the smallest footprint
    "-XX:TieredStopAtLevel=1",  # C1 only: short runs never profit from C2
    "-XX:CICompilerCount=1",
    "-XX:MaxMetaspaceSize=128m",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:ReservedCodeCacheSize=32m",
    "-XX:MaxDirectMemorySize=32m",
    "-Xss1m",
    "-XX:-UsePerfData",  # no hsperfdata file in /tmp
    "-XX:+DisableAttachMechanism",
    "-Xshare:auto",
    "-Xlog:disable",  # the JVM's own warnings stay out of the learner's output
    "-Xlog:all=off",
    "-Dfile.encoding=UTF-8",
    "-Dsun.stdout.encoding=UTF-8",
    "-Djava.io.tmpdir=/tmp",
)


def java_home() -> str | None:
    """The JDK 17 that grades Java (``SKILLMAP_JAVA_HOME`` or Debian's), if it is one
    the sandbox can see (under /usr) and it has the compiler."""
    explicit = os.environ.get(JAVA_HOME_ENV)
    candidates = [explicit] if explicit else sorted(glob.glob(_JAVA_HOME_GLOB))
    for home in candidates:
        if not home:
            continue
        home = os.path.normpath(home)
        if not home.startswith("/usr/"):
            continue
        if os.path.isfile(os.path.join(home, "bin", "java")) and os.path.isfile(
            os.path.join(home, "bin", "javac")
        ):
            return home
    return None


def _config_binds(home: str) -> tuple[str, ...]:
    """Folders outside /usr the JDK's configuration lives in (Debian links
    ``conf/`` into /etc/java-17-openjdk; the JVM cannot start its security layer, which
    ``javax.crypto`` needs, without ``java.security``)."""
    folders: set[str] = set()
    conf = os.path.join(home, "conf")
    for root, _dirs, names in os.walk(conf):
        for name in names:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                continue
            real = os.path.realpath(path)
            if real.startswith("/usr/") or not os.path.exists(real):
                continue
            relative = os.path.relpath(path, conf)  # e.g. security/java.security
            depth = relative.count("/") + 1
            folder = real
            for _ in range(depth):
                folder = os.path.dirname(folder)
            if folder.startswith("/etc/") and folder.count("/") >= 2:
                folders.add(folder)
    return tuple(sorted(folders))


def jvm_flags(heap_mb: int) -> list[str]:
    return [f"-Xmx{heap_mb}m", *_FIXED_FLAGS]


def _heap_mb(memory_limit_mb: int) -> int:
    return max(HEAP_FLOOR_MB, memory_limit_mb)


# --------------------------------------------------------------------------- the toolchain


@dataclass(frozen=True)
class _Toolchain:
    home: str
    binds: tuple[tuple[str, str], ...]  # (host, sandbox) read-only binds
    classpath: str
    archive: str | None  # the CDS archive's path inside the sandbox
    version: str


_toolchain_lock = threading.Lock()
_toolchain_cache: dict[str, _Toolchain] = {}

_BUILD_SCRIPT = """\
set -e
cd /tmp
"$JH/bin/javac" -nowarn -Xlint:none -d classes /sandbox/Harness.java
cd classes
"$JH/bin/jar" --create --no-manifest --file /tmp/harness.jar *.class
cat /tmp/harness.jar > "/proc/self/fd/$SKILLMAP_RESULT_FD"
"""

_TRAIN_SCRIPT = """\
SKILLMAP_RESULT_FD=1 "$JH/bin/java" "$@" > /tmp/records
grep -q '"t":"test"' /tmp/records
cat /tmp/harness.jsa > "/proc/self/fd/$SKILLMAP_RESULT_FD"
"""

# What the training run compiles and runs: common library classes, so that the archive
# holds what learners' code loads too.
_TRAINING_SOURCE = """\
import java.util.*;
import java.util.function.*;
import java.util.stream.*;

record Item(String name, int count, Double weight) {}

class Solution {
    static Map<String, Object> summarize(List<Item> items, Map<String, Integer> extra, long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0");
        }
        Map<String, Object> out = new TreeMap<>();
        Deque<Item> queue = new ArrayDeque<>(items);
        Set<String> seen = new HashSet<>();
        StringBuilder names = new StringBuilder();
        while (!queue.isEmpty()) {
            Item item = queue.poll();
            if (seen.add(item.name())) {
                names.append(item.name().toLowerCase(Locale.ROOT)).append(',');
            }
        }
        List<Integer> counts = items.stream().map(Item::count).sorted(Comparator.reverseOrder())
                .collect(Collectors.toList());
        out.put("counts", counts);
        out.put("names", names.toString());
        out.put("total", items.stream().mapToLong(Item::count).sum() + extra.values().stream()
                .mapToInt(Integer::intValue).sum());
        out.put("heaviest", items.stream().map(Item::weight).filter(Objects::nonNull)
                .max(Double::compare).orElse(null));
        out.put("label", String.format("%s:%d:%.2f", "x", limit, Math.sqrt(limit)));
        PriorityQueue<Long> heap = new PriorityQueue<>();
        heap.add(limit);
        out.put("first", heap.peek());
        Optional<String> any = seen.stream().findFirst();
        out.put("any", any.isPresent());
        out.put("parts", Arrays.asList("a-b-c".split("-")));
        out.put("chars", new String(new char[] {'o', 'k'}));
        BiFunction<Integer, Integer, Integer> add = Integer::sum;
        out.put("sum", add.apply(1, 2));
        return out;
    }
}
"""
_TRAINING_CONFIG = {
    "kind": "function",
    "entry": "summarize",
    "class": None,
    "signature": {
        "params": [
            {"key": "items", "name": "items", "type": "list<Item>"},
            {"key": "extra", "name": "extra", "type": "map<int>"},
            {"key": "limit", "name": "limit", "type": "int"},
        ],
        "returns": "map<any>",
        "records": {
            "Item": [
                {"key": "name", "name": "name", "type": "string"},
                {"key": "count", "name": "count", "type": "int"},
                {"key": "weight", "name": "weight", "type": "float?"},
            ]
        },
    },
    "per_test_seconds": 10,
    "compile_seconds": 30,
    "tests": [
        {
            "args": [
                [
                    {"name": "A", "count": 2, "weight": 1.5},
                    {"name": "b", "count": 1, "weight": None},
                ],
                {"x": 3},
                4,
            ]
        },
        {"args": [[], {}, -1]},
    ],
    "hidden_count": 0,
}


def _version_of(home: str) -> str:
    try:
        text = Path(home, "release").read_text(encoding="utf-8")
    except OSError:
        return "Java"
    for line in text.splitlines():
        if line.startswith("JAVA_VERSION="):
            return "Java " + line.partition("=")[2].strip().strip('"')
    return "Java"


def _toolchain(home: str, slot: int) -> _Toolchain:
    """The harness jar and CDS archive for this process (built on first use)."""
    with _toolchain_lock:
        cached = _toolchain_cache.get(home)
        if cached is None:
            cached = _build_toolchain(home, slot)
            _toolchain_cache[home] = cached
        return cached


def _build_toolchain(home: str, slot: int) -> _Toolchain:
    config_binds = tuple((folder, folder) for folder in _config_binds(home))
    version = _version_of(home)
    source = HARNESS_SOURCE.read_bytes()
    build_limits = Limits(
        cpu_seconds=30,
        wall_seconds=_BUILD_WALL_SECONDS,
        memory_mb=1024 + NATIVE_HEADROOM_MB,
        memory_rlimit="data",
        max_processes=64,
        tmpfs_mb=TMPFS_MB,
        max_result_bytes=64 * 1024 * 1024,
    )
    run = run_sandboxed(
        files={"Harness.java": source},
        argv=["/bin/sh", "-c", _BUILD_SCRIPT],
        limits=build_limits,
        slot=slot,
        extra_ro_binds=config_binds,
        env={"JH": home, "MALLOC_ARENA_MAX": "2"},
    )
    if run.exit_code != 0 or not run.result.startswith(b"PK"):
        detail = run.stderr.decode("utf-8", "replace").strip()[-500:]
        raise SandboxUnavailable(f"cannot compile the Java harness: {detail}")
    folder = tempfile.mkdtemp(prefix="skillmap-java-")
    os.chmod(folder, 0o755)  # noqa: S103 - the sandbox's uid reads it (read-only bind)
    _remove_at_exit(folder)
    _write(os.path.join(folder, "harness.jar"), run.result)
    binds = ((folder, HARNESS_DIR), *config_binds)
    classpath = f"{HARNESS_DIR}/harness.jar"
    archive = f"{HARNESS_DIR}/harness.jsa"
    train = run_sandboxed(
        files={
            "input.json": json.dumps(_TRAINING_CONFIG).encode(),
            "Solution.java": _TRAINING_SOURCE.encode(),
        },
        argv=[
            "/bin/sh", "-c", _TRAIN_SCRIPT, "train",
            *jvm_flags(HEAP_FLOOR_MB),
            "-XX:ArchiveClassesAtExit=/tmp/harness.jsa",
            "-cp", classpath, "Harness",
        ],
        limits=build_limits,
        slot=slot,
        extra_ro_binds=binds,
        env={"JH": home, "MALLOC_ARENA_MAX": "2"},
    )  # fmt: skip
    if train.exit_code == 0 and len(train.result) > 4096:
        _write(os.path.join(folder, "harness.jsa"), train.result)
        return _Toolchain(home, binds, classpath, archive, version)
    # Still correct, only slower: the JDK's default archive alone.
    return _Toolchain(home, binds, classpath, None, version)


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.fchmod(fd, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _remove_at_exit(folder: str) -> None:
    import atexit

    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked child that inherited the hook
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def reset_toolchain_cache() -> None:
    """Forget the built toolchain (tests that change the JDK or the harness)."""
    with _toolchain_lock:
        _toolchain_cache.clear()


# --------------------------------------------------------------------------- types

# A neutral ``int`` is any JSON integer within int64 (epoch milliseconds among them), so
# starters declare ``long``; the harness also accepts ``int`` where the values fit.
_SCALAR = {"int": "long", "float": "double", "string": "String", "bool": "boolean", "any": "Object"}
_BOXED = {"int": "Long", "float": "Double", "bool": "Boolean"}


def java_type(type_: TypeRef, *, boxed: bool = False) -> str:
    """A neutral type as Java writes it: ``list<int>`` → ``List<Long>``; a nullable or
    nested scalar is boxed (``int?`` → ``Long``)."""
    if type_.kind == "void":
        return "void"
    if type_.kind == "list":
        assert type_.item is not None
        return f"List<{java_type(type_.item, boxed=True)}>"
    if type_.kind == "map":
        assert type_.item is not None
        return f"Map<String, {java_type(type_.item, boxed=True)}>"
    if type_.kind == "record":
        return str(type_.record)
    if (boxed or type_.nullable) and type_.kind in _BOXED:
        return _BOXED[type_.kind]
    return _SCALAR[type_.kind]


def _default_return(type_: TypeRef) -> str:
    return "" if type_.kind == "void" else ' throw new UnsupportedOperationException("TODO");'


# --------------------------------------------------------------------------- the language


class JavaLanguage(Language):
    key: ClassVar[str] = "java"
    label: ClassVar[str] = "Java"
    extensions: ClassVar[tuple[str, ...]] = (".java",)
    editor_mode: ClassVar[str] = "java"
    compiled: ClassVar[bool] = True
    out_of_memory_markers: ClassVar[tuple[bytes, ...]] = (b"java.lang.OutOfMemoryError",)
    # A run's JVM start and compile, and the toolchain's two build runs (once per process).
    extra_seconds: ClassVar[float] = STARTUP_WALL_SECONDS + _BUILD_WALL_SECONDS * 2

    def unavailable_reason(self) -> str | None:
        if java_home() is None:
            return "no JDK 17 with javac under /usr/lib/jvm (install openjdk-17-jdk-headless)"
        return None

    def version(self) -> str:
        home = java_home()
        return _version_of(home) if home else self.label

    # --- starters -------------------------------------------------------------------------

    def type_text(self, type_: TypeRef) -> str:
        return java_type(type_)

    def _params(self, params: tuple[Param, ...]) -> str:
        return ", ".join(f"{java_type(p.type)} {self.name(p.name, role='param')}" for p in params)

    def _throws_doc(self, raises: tuple[str, ...], indent: str) -> list[str]:
        lines = []
        for name in raises:
            accepted = accepted_classes(self.key, name)
            if accepted and name in ERRORS:
                lines.append(f"{indent}// throws {accepted[0]} ({ERRORS[name].kind})")
        return lines

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        signature = spec.signature
        assert signature is not None
        lines = ["import java.util.*;", ""]
        for record in signature.records:
            # An optional field is left out when null, so it is boxed to be able to hold null.
            fields = ", ".join(
                f"{java_type(f.type, boxed=f.optional)} {self.name(f.key, role='field')}"
                for f in record.fields
            )
            lines += [f"record {record.name}({fields}) {{}}", ""]
        if spec.kind == "function":
            assert signature.returns is not None
            name = self.entry_name(spec)
            params = self._params(signature.params)
            lines += ["class Solution {"]
            lines += self._throws_doc(signature.raises, "    ")
            lines += [
                f"    static {java_type(signature.returns)} {name}({params}) {{",
                f"       {_default_return(signature.returns)}".rstrip(),
                "    }",
                "}",
            ]
            return "\n".join(line for line in lines if line != "       ") + "\n"
        cls = spec.entry_point
        lines += [f"public class {cls} {{"]
        lines += self._throws_doc(signature.init_raises, "    ")
        lines += [f"    public {cls}({self._params(signature.params)}) {{", "    }"]
        for method in signature.methods:
            lines.append("")
            lines += self._throws_doc(method.raises, "    ")
            body = _default_return(method.returns)
            lines += [
                f"    public {java_type(method.returns)} {self.name(method.name, role='method')}"
                f"({self._params(method.params)}) {{",
            ]
            if body:
                lines.append(f"       {body}")
            lines.append("    }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    # --- running --------------------------------------------------------------------------

    def source_name(self, spec: CodeChallengeSpec) -> str:
        """The learner's file: javac wants a public class in a file named after it."""
        return (spec.entry_point if spec.kind == "class" else "Solution") + ".java"

    def limits(self, spec: CodeChallengeSpec) -> Limits:
        base = challenge_limits(spec.time_limit, spec.memory_limit_mb)
        return replace(
            base,
            cpu_seconds=spec.time_limit + STARTUP_CPU_SECONDS,
            wall_seconds=base.wall_seconds + STARTUP_WALL_SECONDS,
            memory_mb=_heap_mb(spec.memory_limit_mb) + NATIVE_HEADROOM_MB,
            memory_rlimit="data",
            max_processes=base.max_processes + JVM_THREADS,
            tmpfs_mb=TMPFS_MB,
        )

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        home = java_home()
        if home is None:
            raise SandboxUnavailable(self.unavailable_reason() or "no JDK")
        tools = _toolchain(home, slot)
        flags = jvm_flags(_heap_mb(spec.memory_limit_mb))
        if tools.archive is not None:
            flags.append(f"-XX:SharedArchiveFile={tools.archive}")
        config = {**config, "compile_seconds": COMPILE_SECONDS}
        return SandboxProgram(
            files={
                "input.json": json.dumps(config, ensure_ascii=False, allow_nan=False).encode(),
                self.source_name(spec): source.encode("utf-8", "replace"),
            },
            argv=[f"{home}/bin/java", *flags, "-cp", tools.classpath, "Harness"],
            limits=self.limits(spec),
            extra_ro_binds=tools.binds,
            env={"MALLOC_ARENA_MAX": "2"},
        )

    # --- what the learner reads -----------------------------------------------------------

    def compile_message(self, record: dict[str, Any], source: str) -> str:
        """javac's errors with the learner's own line numbers (the harness compiles the
        file as written: nothing is prepended)."""
        kind = record.get("type")
        if kind == "CompileTimeout":
            return f"Compiling your code took longer than {COMPILE_SECONDS:g} s."
        if kind == "CompileFailure":
            return f"The compiler could not handle your code ({record.get('msg', '')})."
        errors = record.get("errors")
        if not isinstance(errors, list) or not errors:
            errors = [{"line": record.get("line"), "msg": record.get("msg")}]
        parts = []
        for error in errors[:3]:
            if not isinstance(error, dict):
                continue
            line = error.get("line")
            message = str(error.get("msg") or "does not compile").splitlines()[0]
            where = f"line {line}" if isinstance(line, int) and line > 0 else "your code"
            parts.append(f"{where}: {message}")
        more = len(errors) - len(parts)
        text = "Compile error on " + "; ".join(parts) if parts else "Compile error."
        if more > 0:
            text += f" (and {more} more)"
        return text

    def value_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)
