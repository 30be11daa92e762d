"""Builds and starts a Go submission INSIDE the sandbox (stdlib only; never imported by
the worker).

    /usr/bin/python3 -I -S -B /sandbox/driver.py CPU_SECONDS HEAP_MB DATA_MB ADDRESS_MB
    /usr/bin/python3 -I -S -B /sandbox/driver.py --archive

It writes ``hello`` on the result channel, compiles the learner's ``solution.go`` with the
generated ``skillmap_main.go`` against the harness package's archive
(``skillmapharness.a``) and the toolchain's precompiled standard library (Go's own
``compile`` and ``link`` tools: no ``go`` command, no build cache, no module), and on
success replaces itself with the program under the challenge's limits.
``--archive`` compiles ``harness.go`` into that archive and writes it on the result
channel (once per worker process: it is the same for every submission). A build
that fails is reported as one ``compile_error`` record whose ``line`` is a line of
``solution.go`` (the learner's file is compiled as it is, so its lines need no mapping;
errors inside the harness's files mean the learner's declarations do not fit the
signature and are reported as such). No learner code runs in this process: Go has no
compile-time execution, cgo is not processed, and ``//go:`` directives other than the
compiler's own are ignored.
"""

from __future__ import annotations

import _json
import os
import resource
import select
import signal
import sys
import time

GOROOT = "/usr/lib/go-1.19"
TOOLS = GOROOT + "/pkg/tool/linux_amd64"
PACKAGES = GOROOT + "/pkg/linux_amd64"
BUILD = "/tmp/skillmap-build"  # noqa: S108 - the sandbox's private tmpfs
PROGRAM = BUILD + "/prog"
# Relative to /sandbox (the tools run there), so diagnostics name "solution.go:LINE".
SOURCES = ("solution.go", "skillmap_main.go")
COMPILE_FLAGS = ("-complete", "-nolocalimports", "-c=1")
MIB = 1024 * 1024
BUILD_CPU_SECONDS = 10
BUILD_WALL_SECONDS = 8.0  # for compile and link together; the worker's clock is longer
BUILD_DATA_MB = 1024
MAX_DIAGNOSTICS = 16384
TOOL_ENV = {"PATH": "/usr/bin:/bin", "GOROOT": GOROOT, "GOMAXPROCS": "1", "HOME": "/tmp"}  # noqa: S108


def emit(fd: int, record: dict[str, object]) -> None:
    parts = []
    for key, value in record.items():
        if isinstance(value, bool) or value is None:
            text = "true" if value is True else "false" if value is False else "null"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = _json.encode_basestring_ascii(str(value))
        parts.append(_json.encode_basestring_ascii(key) + ":" + text)
    data = ("{" + ",".join(parts) + "}\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def run_tool(argv: list[str], result_fd: int, deadline: float) -> tuple[int, bytes]:
    """Run a toolchain command under the build's limits; (exit status, its output). A
    tool still running at ``deadline`` is killed (it then reads as killed by SIGKILL)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits, output into the pipe, then the tool
        try:
            os.close(read_end)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            os.close(result_fd)  # the toolchain never writes records
            os.chdir("/sandbox")
            resource.setrlimit(resource.RLIMIT_CPU, (BUILD_CPU_SECONDS, BUILD_CPU_SECONDS))
            data = BUILD_DATA_MB * MIB
            resource.setrlimit(resource.RLIMIT_DATA, (data, data))
            os.execve(argv[0], argv, TOOL_ENV)  # noqa: S606 - a toolchain binary
        finally:
            os._exit(127)
    os.close(write_end)
    chunks = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        if size < MAX_DIAGNOSTICS:
            chunks.append(chunk)
            size += len(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    return status, b"".join(chunks)[:MAX_DIAGNOSTICS]


def first_line(text: str) -> int | None:
    """The line of the first diagnostic in the learner's file."""
    for line in text.splitlines():
        if line.startswith("solution.go:"):
            number = line.split(":")[1]
            if number.isdigit():
                return int(number)
    return None


def build_failed(fd: int, kind: str, status: int, output: bytes) -> None:
    text = output.decode("utf-8", "replace").strip()
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        text = (text + "\n" if text else "") + (
            "the build took too long"
            if signum in (signal.SIGKILL, signal.SIGXCPU)
            else f"the build stopped (signal {signum})"
        )
        if signum == signal.SIGXFSZ:
            text = "the program the build produced is too large"
    elif "file too large" in text:
        text = "the program the build produced is too large"
    elif "out of memory" in text or "cannot allocate memory" in text:
        text = "the build ran out of memory"
    emit(fd, {"t": "compile_error", "type": kind, "line": first_line(text), "msg": text})


def build_archive(fd: int) -> None:
    os.mkdir(BUILD, 0o700)
    archive = BUILD + "/skillmapharness.a"
    status, output = run_tool([
        TOOLS + "/compile", "-o", archive, "-p", "skillmapharness", *COMPILE_FLAGS,
        "-I", PACKAGES, "-pack", "harness.go",
    ], fd, time.monotonic() + BUILD_WALL_SECONDS)  # fmt: skip
    if status != 0:
        os.write(2, output)
        sys.exit(1)
    with open(archive, "rb") as handle:
        data = handle.read()
    while data:
        data = data[os.write(fd, data) :]


def main() -> None:
    fd = int(os.environ["SKILLMAP_RESULT_FD"])
    if sys.argv[1:] == ["--archive"]:
        build_archive(fd)
        return
    cpu_seconds, heap_mb, data_mb, address_mb = (int(arg) for arg in sys.argv[1:5])
    emit(fd, {"t": "hello"})
    deadline = time.monotonic() + BUILD_WALL_SECONDS
    os.mkdir(BUILD, 0o700)
    archive = BUILD + "/main.a"
    status, output = run_tool([
        TOOLS + "/compile", "-o", archive, "-p", "main", *COMPILE_FLAGS,
        "-I", "/sandbox", "-I", PACKAGES, "-pack", *SOURCES,
    ], fd, deadline)  # fmt: skip
    if status != 0:
        build_failed(fd, "compile", status, output)
        return
    status, output = run_tool([
        TOOLS + "/link", "-s", "-w", "-buildmode=exe", "-o", PROGRAM,
        "-L", "/sandbox", "-L", PACKAGES, archive,
    ], fd, deadline)  # fmt: skip
    if status != 0:
        build_failed(fd, "link", status, output)
        return
    os.unlink(archive)
    # The program's own limits, lower than the build's and final (hard = soft).
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_DATA, (data_mb * MIB, data_mb * MIB))
    resource.setrlimit(resource.RLIMIT_AS, (address_mb * MIB, address_mb * MIB))
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "SKILLMAP_RESULT_FD": str(fd),
        "GOMAXPROCS": "1",
        "GOMEMLIMIT": f"{heap_mb}MiB",  # the collector works harder before the hard limit
        "GOTRACEBACK": "single",
    }
    os.execve(PROGRAM, [PROGRAM], env)  # noqa: S606 - the program just built


if __name__ == "__main__":
    main()
