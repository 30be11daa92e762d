"""Processes: no escape by signals, no survivors, no ptrace/namespaces, a tight seccomp
allowlist, and a worker that stays healthy after all of it."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time

import pytest

from quizzes.grading.sandbox import check_sandbox
from tests.security.conftest import (
    FAR_WALL,
    SECURITY_SLOT,
    output,
    processes_of,
    requires_root,
    run_program,
    slot_uid,
    wait_no_processes,
)

pytestmark = pytest.mark.sandbox


@requires_root
def test_kill_parent_and_kill_all_hurt_nothing_outside() -> None:
    # A host process running under the very uid the sandbox runs as: signals from the
    # sandbox must not reach it (pid namespace), nor the worker.
    uid = slot_uid()
    bystander = subprocess.Popen(["/bin/sleep", "30"], user=uid, group=uid, extra_groups=[], env={})
    try:
        run = run_program(
            """
            import os, signal
            for target in (os.getppid(), 1):
                try:
                    os.kill(target, signal.SIGKILL)
                    print("sent", target)
                except OSError as exc:
                    print("refused", target, exc.errno)
            os.kill(-1, signal.SIGKILL)
            """
        )
        assert bystander.poll() is None, "a host process of the slot uid was killed"
        assert run.exit_code is not None or run.signal is not None  # we are alive and reaped
        assert check_sandbox(slot=SECURITY_SLOT).available
    finally:
        bystander.kill()
        bystander.wait()


@requires_root
def test_double_forked_setsid_survivors_are_gone_after_the_run() -> None:
    uid = slot_uid()
    run = run_program(
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        time.sleep(0.2)
        print("parent exits")
        """,
        limits=FAR_WALL,
    )
    assert output(run).strip() == "parent exits"
    assert not run.timed_out
    # The pid namespace died with its init: no process (or zombie) of the slot is left.
    assert processes_of(uid) == []


@requires_root
def test_a_timed_out_run_leaves_nothing_behind() -> None:
    run = run_program(
        """
        import os, time
        for _ in range(10):
            if os.fork() == 0:
                os.setsid()
                time.sleep(60)
        time.sleep(60)
        """
    )
    assert run.timed_out
    assert wait_no_processes(slot_uid(), timeout=0.5) == []


def test_ptrace_and_unshare_are_refused() -> None:
    run = run_program(
        """
        import ctypes, json, os
        libc = ctypes.CDLL(None, use_errno=True)
        out = {}
        PTRACE_TRACEME, PTRACE_ATTACH = 0, 16
        for name, call in [
            ("traceme", lambda: libc.ptrace(PTRACE_TRACEME, 0, 0, 0)),
            ("attach_parent", lambda: libc.ptrace(PTRACE_ATTACH, os.getppid(), 0, 0)),
            ("unshare_user", lambda: libc.unshare(0x10000000)),
            ("unshare_net", lambda: libc.unshare(0x40000000)),
            ("unshare_mount", lambda: libc.unshare(0x00020000)),
        ]:
            ctypes.set_errno(0)
            out[name] = [call(), ctypes.get_errno()]
        print(json.dumps(out))
        """
    )
    results = json.loads(output(run))
    for name, (returned, error) in results.items():
        assert returned == -1 and error == errno.EPERM, name


SYSCALLS = {
    "bpf": 321,
    "keyctl": 250,
    "add_key": 248,
    "mount": 165,
    "umount2": 166,
    "pivot_root": 155,
    "ptrace": 101,
    "unshare": 272,
    "setns": 308,
    "io_uring_setup": 425,
    "perf_event_open": 298,
    "init_module": 175,
    "kexec_load": 246,
    "userfaultfd": 323,
    "process_vm_readv": 310,
    "open_by_handle_at": 304,
    "memfd_create": 319,
    "chroot": 161,
    "fsopen": 430,
}


def test_seccomp_denies_dangerous_syscalls_with_eperm() -> None:
    run = run_program(
        f"""
        import ctypes, json
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        out = {{}}
        for name, number in {SYSCALLS!r}.items():
            ctypes.set_errno(0)
            returned = libc.syscall(number, 0, 0, 0, 0, 0)
            out[name] = [returned, ctypes.get_errno()]
        ctypes.set_errno(0)
        out["clone3"] = [libc.syscall(435, 0, 0), ctypes.get_errno()]
        ctypes.set_errno(0)
        # clone with CLONE_NEWUSER | SIGCHLD must not create a namespace
        out["clone_newuser"] = [libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0), ctypes.get_errno()]
        print(json.dumps(out))
        """
    )
    results = json.loads(output(run))
    for name in SYSCALLS:
        assert results[name] == [-1, errno.EPERM], name
    assert results["clone3"] == [-1, errno.ENOSYS]  # so glibc falls back to clone(2)
    assert results["clone_newuser"] == [-1, errno.EPERM]


def test_threads_and_subprocesses_still_work() -> None:
    run = run_program(
        """
        import subprocess, threading
        box = []
        thread = threading.Thread(target=lambda: box.append(1))
        thread.start(); thread.join()
        done = subprocess.run(["/usr/bin/python3", "-I", "-S", "-c", "print(2)"],
                              capture_output=True, text=True)
        print(box[0], done.stdout.strip())
        """
    )
    assert output(run).split() == ["1", "2"], run.stderr


def test_worker_stays_healthy_and_200_runs_show_no_fork_failures() -> None:
    started = time.monotonic()
    failures = []
    for attempt in range(200):
        run = run_program(
            """
            import os
            pids = [os.fork() for _ in range(3)]
            if 0 in pids:
                os._exit(0)
            for pid in pids:
                os.waitpid(pid, 0)
            print("ok")
            """
        )
        if run.exit_code != 0 or output(run).strip() != "ok":
            failures.append((attempt, run.exit_code, run.stderr[-200:]))
    assert failures == []
    health = check_sandbox(slot=SECURITY_SLOT)
    assert health.available, health.reason
    if os.geteuid() == 0:
        assert processes_of(slot_uid()) == []
    assert time.monotonic() - started < 60
