"""Resource exhaustion: each attack is stopped by a specific limit, and the host is fine."""

from __future__ import annotations

import dataclasses
import errno
import signal
import subprocess

import pytest

from tests.security.conftest import FAR_WALL, HOSTILE_LIMITS, output, run_program

pytestmark = pytest.mark.sandbox


def test_fork_bomb_is_stopped_by_the_process_limit() -> None:
    run = run_program(
        """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as exc:
            print("fork failed", exc.errno, children, flush=True)
        """,
        limits=FAR_WALL,
    )
    text = output(run)
    assert "fork failed" in text
    _, _, errno_text, children = text.split()
    assert int(errno_text) == errno.EAGAIN
    assert int(children) < HOSTILE_LIMITS.max_processes
    assert not run.timed_out  # the bomb ended on its own: fork() failed
    # The host can still fork.
    assert subprocess.run(["/bin/true"], check=False).returncode == 0


def test_heap_memory_bomb_hits_the_address_space_limit() -> None:
    run = run_program(
        """
        blocks = []
        try:
            while True:
                blocks.append(bytearray(16 * 1024 * 1024))
        except MemoryError:
            print("MemoryError after", len(blocks) * 16, "MiB")
        """
    )
    text = output(run)
    assert text.startswith("MemoryError after")
    assert int(text.split()[2]) < HOSTILE_LIMITS.memory_mb


def test_one_huge_allocation_fails_cleanly() -> None:
    run = run_program("x = bytearray(4 * 1024 ** 3)\n")
    assert run.exit_code == 1
    assert b"MemoryError" in run.stderr


@pytest.mark.parametrize("directory", ["/dev/shm", "/tmp"])
def test_tmpfs_memory_bomb_hits_the_tmpfs_size(directory: str) -> None:
    run = run_program(
        f"""
        import os
        written = 0
        try:
            for i in range(1000):
                with open("{directory}/f%d" % i, "wb") as handle:
                    for _ in range(4):
                        handle.write(b"x" * (1024 * 1024))
                        written += 1024 * 1024
        except OSError as exc:
            print(exc.errno, written)
        """
    )
    code, written = output(run).split()
    assert int(code) == errno.ENOSPC
    assert int(written) <= HOSTILE_LIMITS.tmpfs_mb * 1024 * 1024


def test_a_huge_file_hits_the_file_size_limit() -> None:
    run = run_program(
        """
        written = 0
        try:
            with open("/tmp/big", "wb") as handle:
                while True:
                    handle.write(b"x" * 65536)
                    handle.flush()
                    written += 65536
        except OSError as exc:
            print(exc.errno, written)
        """
    )
    code, written = output(run).split()
    assert int(code) == errno.EFBIG
    assert int(written) <= HOSTILE_LIMITS.max_file_bytes


def test_many_open_files_hit_the_descriptor_limit() -> None:
    run = run_program(
        """
        handles = []
        try:
            while True:
                handles.append(open("/tmp/f%d" % len(handles), "w"))
        except OSError as exc:
            print(exc.errno, len(handles))
        """
    )
    code, opened = output(run).split()
    assert int(code) == errno.EMFILE
    assert int(opened) < HOSTILE_LIMITS.open_files


def test_cpu_loop_is_killed_by_the_cpu_limit() -> None:
    # One CPU second against 30 wall seconds: even with a twentieth of a core the loop
    # reaches its CPU limit long before the wall clock.
    limits = dataclasses.replace(FAR_WALL, cpu_seconds=1.0)
    run = run_program("while True:\n    pass\n", limits=limits)
    assert run.signal == signal.SIGXCPU
    assert not run.timed_out  # RLIMIT_CPU fired before the wall clock
    assert limits.cpu_seconds <= run.wall_seconds < limits.wall_seconds


def test_sleep_forever_is_killed_at_the_wall_clock_deadline() -> None:
    run = run_program("import time\ntime.sleep(3600)\n")
    assert run.timed_out
    assert run.exit_code is None and run.signal == signal.SIGKILL
    # Killed at the deadline, not long after it (nor after the hour the program asked for).
    assert HOSTILE_LIMITS.wall_seconds <= run.wall_seconds < HOSTILE_LIMITS.wall_seconds + 5


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_infinite_output_is_capped_and_the_run_stopped(stream: str) -> None:
    run = run_program(
        f"""
        import os
        fd = 1 if "{stream}" == "stdout" else 2
        while True:
            os.write(fd, b"x" * 65536)
        """,
        limits=FAR_WALL,
    )
    captured = run.stdout if stream == "stdout" else run.stderr
    assert run.output_truncated
    assert len(captured) == HOSTILE_LIMITS.max_output_bytes
    assert not run.timed_out  # stopped at the cap, not at the deadline
    assert run.wall_seconds < FAR_WALL.wall_seconds / 3


def test_infinite_output_on_the_result_channel_is_capped() -> None:
    run = run_program(
        """
        import os
        fd = int(os.environ["SKILLMAP_RESULT_FD"])
        while True:
            os.write(fd, b"x" * 65536)
        """
    )
    assert run.output_truncated
    assert len(run.result) == HOSTILE_LIMITS.max_result_bytes
