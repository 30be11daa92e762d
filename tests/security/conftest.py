"""Helpers for the hostile battery: run a program in the sandbox and inspect the host.

Every test marked ``sandbox`` here starts real bubblewrap sandboxes with short limits, and
asserts the specific layer that contained the attack. The other tests send hostile requests
and content to the web layer and need no sandbox.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import textwrap
import time
from collections.abc import Iterator

import pytest

from quizzes.grading.sandbox import (
    Limits,
    SandboxRun,
    check_sandbox,
    run_sandboxed,
    sandbox_host_ids,
)

# A slot of its own, so leftovers (there must be none) cannot be blamed on other tests.
SECURITY_SLOT = 7
HOSTILE_LIMITS = Limits(
    cpu_seconds=2.0,
    wall_seconds=3.0,
    memory_mb=256,
    max_output_bytes=65536,
    max_processes=64,
    max_file_bytes=8 * 1024 * 1024,
    tmpfs_mb=32,
    open_files=64,
)
# For programs that must end on their own or by another limit: a wall clock so far away
# that a loaded machine cannot make it fire first (it only ends runs where that failed).
FAR_WALL = dataclasses.replace(HOSTILE_LIMITS, wall_seconds=30.0)
PYTHON = ["/usr/bin/python3", "-I", "-S", "/sandbox/prog.py"]


def run_program(
    code: str, *, limits: Limits = HOSTILE_LIMITS, slot: int = SECURITY_SLOT
) -> SandboxRun:
    """Run a Python program (dedented) at /sandbox/prog.py in a fresh sandbox."""
    program = textwrap.dedent(code).encode()
    return run_sandboxed(files={"prog.py": program}, argv=PYTHON, limits=limits, slot=slot)


def output(run: SandboxRun) -> str:
    return run.stdout.decode("utf-8", "replace")


def slot_uid(slot: int = SECURITY_SLOT) -> int:
    ids = sandbox_host_ids(slot)
    return ids[0] if ids is not None else os.getuid()


def processes_of(uid: int) -> list[int]:
    """Host pids owned by ``uid`` (zombies included: they still count against NPROC)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    pids.append(int(name))
            except OSError:
                continue
    return pids


def wait_no_processes(uid: int, timeout: float = 2.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        left = processes_of(uid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def host_port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


requires_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot uids are only used when the worker runs as root"
)


@pytest.fixture(scope="session")
def _sandbox_works() -> None:
    health = check_sandbox(slot=SECURITY_SLOT)
    assert health.available, f"the sandbox is unavailable: {health.reason}"


@pytest.fixture(autouse=True)
def _no_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every hostile run, nothing of the security slot may remain on the host.

    Only tests marked ``sandbox`` start sandboxes; the others here (hostile requests and
    content) neither need a working sandbox nor answer for what it leaves behind.
    """
    sandboxed = request.node.get_closest_marker("sandbox") is not None
    if sandboxed:
        request.getfixturevalue("_sandbox_works")
    yield
    if sandboxed and os.geteuid() == 0:
        assert wait_no_processes(slot_uid()) == []
