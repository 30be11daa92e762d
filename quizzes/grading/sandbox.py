"""Run an untrusted program in a fresh bubblewrap sandbox (see docs/architecture.md).

Layers, outermost first; each one is exercised by ``tests/security``:

1. Host uid: when the worker is root, bwrap is started under an unprivileged uid/gid
   ``62000 + slot`` with no supplementary groups. Started as root, bwrap would map the
   sandbox uid to host root, for which RLIMIT_NPROC is not enforced.
2. Environment: bwrap itself is exec'd with an empty environment (``--clearenv`` alone
   would leave the worker's secrets readable in ``/proc/1/environ``).
3. Namespaces: every namespace unshared (no network), nested user namespaces disabled,
   all capabilities dropped, a new session (no TIOCSTI into a terminal), pid 1 is bwrap's
   reaper, ``--die-with-parent`` so nothing outlives the run.
4. Filesystem: only ``/usr`` (read-only), the work dir (read-only at ``/sandbox``), a
   private ``/proc``, a minimal ``/dev`` (remounted read-only) and size-limited tmpfs on
   ``/tmp`` and ``/dev/shm``; the root itself is read-only.
5. Seccomp: a default-deny allowlist (EPERM), compiled once per process with
   libseccomp and handed to bwrap through a pipe.
6. rlimits (set by util-linux's ``prlimit``, exec'd between the worker and bwrap, and
   inherited by everything inside): CPU, address space, processes, file size, open files,
   no core dumps. As root, ``setpriv`` switches to the slot's uid first (layer 1). Both
   are programs of the exec chain rather than Python run in the forked child
   (``preexec_fn``, ``user=``), which would make every start copy the whole worker with
   fork(); without them, subprocess starts the chain with vfork (docs/architecture.md).
7. The worker side: a wall-clock deadline after which the whole process group is
   SIGKILLed, stdout/stderr/result read concurrently with hard caps (a run that
   exceeds a cap is killed and marked truncated), and the child always reaped.

The program gets a private result channel: the file descriptor number is in the
``SKILLMAP_RESULT_FD`` environment variable inside the sandbox.

If bwrap is missing or cannot set up the sandbox, ``SandboxUnavailable`` is raised:
learner code never runs unsandboxed.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "DEFAULT_BWRAP_PATH",
    "RESULT_FD_ENV",
    "SLOT_UID_BASE",
    "Limits",
    "SandboxHealth",
    "SandboxRun",
    "SandboxUnavailable",
    "check_sandbox",
    "run_sandboxed",
    "sandbox_host_ids",
    "seccomp_program",
]

DEFAULT_BWRAP_PATH = "/usr/bin/bwrap"
# util-linux (Essential in Debian): the rlimits and, as root, the uid switch, as execs.
PRLIMIT_PATH = "/usr/bin/prlimit"
SETPRIV_PATH = "/usr/bin/setpriv"
BWRAP_PATH_ENV = "SKILLMAP_BWRAP_PATH"
SANDBOX_PYTHON = "/usr/bin/python3"
RESULT_FD_ENV = "SKILLMAP_RESULT_FD"
SLOT_UID_BASE = 62000
SANDBOX_UID = 65534
MIB = 1024 * 1024

_KILL_GRACE_SECONDS = 0.5
_REAP_TIMEOUT_SECONDS = 2.0
_READ_CHUNK = 65536


class SandboxUnavailable(Exception):
    """bubblewrap is missing or cannot create the sandbox; nothing was run."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_mb: int = 256
    max_output_bytes: int = 65536  # per stream (stdout, stderr)
    max_processes: int = 64
    max_file_bytes: int = 8 * MIB
    tmpfs_mb: int = 32
    open_files: int = 64
    max_result_bytes: int = 4 * MIB  # the private result channel
    # Which rlimit ``memory_mb`` sets: the address space (Python, SQLite), or the data
    # segment, for runtimes that reserve far more address space than they use (the JVM,
    # V8, Go); those also bound their heap with their own flags (docs/architecture.md).
    memory_rlimit: Literal["as", "data"] = "as"


@dataclass(frozen=True)
class SandboxRun:
    """What happened. ``exit_code`` is bwrap's (the program's; 128+N if it died of
    signal N, in which case ``signal`` is N too); both ``exit_code`` None and ``signal``
    set mean the worker killed the sandbox (wall timeout or output cap)."""

    exit_code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    result: bytes
    timed_out: bool
    output_truncated: bool
    wall_seconds: float


@dataclass(frozen=True)
class SandboxHealth:
    available: bool
    reason: str
    checked_at: datetime


# --------------------------------------------------------------------------- seccomp

# Everything CPython 3.11 and SQLite need to run a pure-Python program, and nothing
# that reaches outside the process: no mount/namespaces/ptrace/bpf/keyrings/io_uring/
# perf/module loading, no sockets other than AF_UNIX, no memfd (unaccounted memory).
_ALLOWED_SYSCALLS = (
    # files and descriptors
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "open", "openat", "close", "close_range", "creat",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
    "lseek", "access", "faccessat", "faccessat2", "readlink", "readlinkat",
    "getdents", "getdents64", "getcwd", "chdir", "fchdir",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat",
    "truncate", "ftruncate", "fallocate", "fsync", "fdatasync", "flock", "fcntl",
    "dup", "dup2", "dup3", "pipe", "pipe2", "ioctl", "umask", "fadvise64",
    "utime", "utimes", "utimensat", "futimesat", "sendfile", "copy_file_range",
    "splice", "tee", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
    "flistxattr",
    # polling
    "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd", "signalfd4",
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore",
    # processes and threads (clone is further restricted below)
    "fork", "vfork", "execve", "exit", "exit_group", "wait4", "waitid",
    "getpid", "getppid", "gettid", "getpgrp", "getpgid", "setpgid", "getsid", "setsid",
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
    "set_tid_address", "set_robust_list", "get_robust_list", "futex", "futex_waitv",
    "rseq", "arch_prctl", "prctl", "membarrier",
    "sched_yield", "sched_getaffinity", "sched_getparam", "sched_getscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "getpriority",
    "getrlimit", "setrlimit", "prlimit64", "getrusage", "capget",
    # signals and time
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigqueueinfo", "sigaltstack", "kill", "tkill", "tgkill",
    "pause", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
    "gettimeofday", "time", "times", "alarm", "getitimer", "setitimer",
    "restart_syscall",
    # misc
    "uname", "sysinfo", "getrandom", "getcpu",
    # AF_UNIX only (multiprocessing); see the socket rules below
    "connect", "accept", "accept4", "bind", "listen", "sendto", "recvfrom",
    "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname",
    "getpeername", "setsockopt", "getsockopt",
)  # fmt: skip

_AF_UNIX = 1
_NAMESPACE_CLONE_FLAGS = (
    0x00000080  # CLONE_NEWTIME
    | 0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
)

_seccomp_lock = threading.Lock()
_seccomp_cache: bytes | None = None


def seccomp_program() -> bytes:
    """The compiled BPF program (cached for the life of the process)."""
    global _seccomp_cache
    if _seccomp_cache is None:
        with _seccomp_lock:
            if _seccomp_cache is None:
                _seccomp_cache = _compile_seccomp()
    return _seccomp_cache


def _compile_seccomp() -> bytes:
    import pyseccomp as seccomp  # imported lazily: only the worker needs libseccomp

    filt = seccomp.SyscallFilter(seccomp.ERRNO(errno.EPERM))
    for name in _ALLOWED_SYSCALLS:
        try:
            filt.add_rule(seccomp.ALLOW, name)
        except (OSError, ValueError, RuntimeError):
            continue  # a syscall this architecture does not have
    # Threads and fork are fine; new namespaces are not.
    filt.add_rule(
        seccomp.ALLOW, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _NAMESPACE_CLONE_FLAGS, 0)
    )
    # clone3 passes its flags in memory that seccomp cannot inspect: make glibc fall
    # back to clone(2), where the flags are checked above.
    filt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    filt.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, _AF_UNIX))
    filt.add_rule(seccomp.ALLOW, "socketpair", seccomp.Arg(0, seccomp.EQ, _AF_UNIX))
    with tempfile.TemporaryFile() as out:
        filt.export_bpf(out)
        out.seek(0)
        return out.read()


# --------------------------------------------------------------------------- running


def sandbox_host_ids(slot: int) -> tuple[int, int] | None:
    """The (uid, gid) bwrap runs under on the host, or None to keep the current user."""
    if os.geteuid() != 0:
        return None
    return SLOT_UID_BASE + slot, SLOT_UID_BASE + slot


def _bwrap_path(explicit: str | None) -> str:
    return explicit or os.environ.get(BWRAP_PATH_ENV) or DEFAULT_BWRAP_PATH


def _work_root() -> str:
    # A tmpfs keeps writing the per-run files off the disk.
    shm = "/dev/shm"  # noqa: S108 - mkdtemp below makes a private, unpredictable dir
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return tempfile.gettempdir()


def _write_work_dir(files: dict[str, bytes], host_ids: tuple[int, int] | None) -> str:
    work_dir = tempfile.mkdtemp(prefix="skillmap-sbx-", dir=_work_root())
    try:
        if host_ids is not None:
            # Readable by the slot's group only; the sandbox binds it read-only anyway.
            os.chown(work_dir, 0, host_ids[1])
            os.chmod(work_dir, 0o750)  # noqa: S103 - group = the slot's gid only
        for name, content in files.items():
            if not name or "/" in name or name in (".", ".."):
                raise ValueError(f"sandbox file names must be plain names, got {name!r}")
            fd = os.open(os.path.join(work_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.fchmod(fd, 0o644)
                view = memoryview(content)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return work_dir


# Sandbox paths an extra bind may not cover: the layout above depends on them.
_RESERVED_BIND_TARGETS = ("/sandbox", "/proc", "/dev", "/tmp", "/usr", "/")  # noqa: S108


def _check_binds(binds: Sequence[tuple[str, str]]) -> list[str]:
    """``--ro-bind`` arguments for a language's extra read-only folders (a toolchain
    outside /usr); each source must be an existing absolute path."""
    argv: list[str] = []
    for source, target in binds:
        if not (os.path.isabs(source) and os.path.isabs(target)):
            raise ValueError(f"bind paths must be absolute: {source!r} -> {target!r}")
        normal = os.path.normpath(target)
        if any(
            normal == reserved or (reserved != "/" and normal.startswith(reserved + "/"))
            for reserved in _RESERVED_BIND_TARGETS
        ):
            raise ValueError(f"cannot bind over {target!r}")
        if not os.path.exists(source):
            raise SandboxUnavailable(f"toolchain path missing: {source}")
        argv += ["--ro-bind", source, normal]
    return argv


def _env_argv(env: Mapping[str, str]) -> list[str]:
    argv: list[str] = []
    for name, value in env.items():
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or name == RESULT_FD_ENV:
            raise ValueError(f"invalid sandbox environment variable {name!r}")
        argv += ["--setenv", name, value]
    return argv


def _bwrap_argv(
    *,
    bwrap: str,
    work_dir: str,
    limits: Limits,
    seccomp_fd: int,
    result_fd: int,
    info_fd: int,
    extra_ro_binds: Sequence[tuple[str, str]] = (),
    env: Mapping[str, str] | None = None,
) -> list[str]:
    tmpfs_bytes = str(limits.tmpfs_mb * MIB)
    binds = _check_binds(extra_ro_binds)
    extra_env = _env_argv(env or {})
    return [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", tmpfs_bytes, "--tmpfs", "/tmp",  # noqa: S108 - paths inside the sandbox
        "--size", tmpfs_bytes, "--tmpfs", "/dev/shm",  # noqa: S108
        "--ro-bind", work_dir, "/sandbox",
        *binds,
        "--remount-ro", "/dev",
        "--remount-ro", "/",
        "--chdir", "/tmp",  # noqa: S108
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", RESULT_FD_ENV, str(result_fd),
        *extra_env,
        "--seccomp", str(seccomp_fd),
        "--info-fd", str(info_fd),
        "--",
    ]  # fmt: skip


def _count_processes(uid: int) -> int:
    count = 0
    try:
        entries = os.scandir("/proc")
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if entry.name.isdigit():
                try:
                    if entry.stat(follow_symlinks=False).st_uid == uid:
                        count += 1
                except OSError:
                    continue
    return count


_subreaper_pid = -1


def _become_subreaper() -> None:
    """Make orphaned descendants (bwrap's pid-1 reaper) our children, so we can reap them.

    bwrap's outer process exits as soon as its pid 1 reports the exit status, without
    waiting for it; the orphan is reparented to the nearest subreaper (else host init,
    which may leave it a zombie that still counts against the slot's RLIMIT_NPROC).
    Not inherited across fork, hence the pid check."""
    global _subreaper_pid
    if _subreaper_pid == os.getpid():
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(
            f"cannot become a child subreaper: {os.strerror(ctypes.get_errno())}"
        )
    _subreaper_pid = os.getpid()


def _reap_sandbox_init(info_fd: int) -> None:
    """Wait for the sandbox's pid 1 (its exit tears down the pid namespace, killing any
    process still inside), so that nothing of this run is left when we return."""
    os.set_blocking(info_fd, False)
    try:
        info = os.read(info_fd, 4096)
    except OSError:
        return
    match = re.search(rb'"child-pid"\s*:\s*(\d+)', info)
    if match is None:
        return
    pid = int(match.group(1))
    deadline = time.monotonic() + _REAP_TIMEOUT_SECONDS
    while True:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # not (yet) ours: bwrap reaped it, or no subreaper
        if reaped:
            return
        if time.monotonic() >= deadline:
            return
        time.sleep(0.0005)


def _launcher_argv(limits: Limits, nproc: int, host_ids: tuple[int, int] | None) -> list[str]:
    """The programs exec'd before bwrap: ``setpriv`` (as root: the slot's uid and gid,
    no supplementary groups) then ``prlimit`` (the rlimits, set after the uid switch so
    that RLIMIT_NPROC counts the slot's processes). Each execs the next in the same
    process, so bwrap and everything inside inherit both."""
    for path in (PRLIMIT_PATH, *((SETPRIV_PATH,) if host_ids else ())):
        if not os.access(path, os.X_OK):
            raise SandboxUnavailable(f"{path} not found (util-linux)")
    cpu = max(1, math.ceil(limits.cpu_seconds))
    memory = "--as" if limits.memory_rlimit == "as" else "--data"
    argv: list[str] = []
    if host_ids is not None:
        uid, gid = host_ids
        argv += [SETPRIV_PATH, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    return [
        *argv,
        PRLIMIT_PATH,
        f"--cpu={cpu}:{cpu + 1}",
        f"{memory}={limits.memory_mb * MIB}",
        f"--nproc={nproc}",
        f"--fsize={limits.max_file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
    ]


# What the launchers and bwrap print when they cannot set the sandbox up (nothing ran).
_LAUNCH_ERROR_PREFIXES = (b"bwrap: ", b"prlimit: ", b"setpriv: ")


def run_sandboxed(
    *,
    files: dict[str, bytes],
    argv: list[str],
    limits: Limits,
    slot: int = 0,
    bwrap_path: str | None = None,
    stdin_responder: Callable[[bytes], bytes | None] | None = None,
    extra_ro_binds: Sequence[tuple[str, str]] = (),
    env: Mapping[str, str] | None = None,
) -> SandboxRun:
    """Write ``files`` to a fresh work dir bound read-only at ``/sandbox`` and run ``argv``
    inside a new sandbox. ``extra_ro_binds`` (host path, sandbox path) adds read-only
    folders (a toolchain outside /usr); ``env`` adds environment variables. Blocks until
    the program ends or is killed; never raises for
    anything the program does. Raises ``SandboxUnavailable`` if bwrap cannot start.

    ``stdin_responder``, if given, is called with everything read from the result
    channel so far each time more arrives, until it returns bytes: those are then
    written to the program's stdin, which is closed afterwards. Without it stdin is
    /dev/null. (The grader uses this to hand over hidden test inputs only once the
    visible results are in.)"""
    if not argv:
        raise ValueError("argv must not be empty")
    bwrap = _bwrap_path(bwrap_path)
    if not os.path.isfile(bwrap) or not os.access(bwrap, os.X_OK):
        raise SandboxUnavailable(f"bubblewrap not installed ({bwrap} not found)")
    host_ids = sandbox_host_ids(slot)
    if host_ids is None:
        # Unprivileged: the limit counts all of this user's processes.
        nproc = _count_processes(os.getuid()) + limits.max_processes
    else:
        nproc = limits.max_processes
    program = seccomp_program()
    work_dir = _write_work_dir(files, host_ids)
    _become_subreaper()
    seccomp_r = seccomp_w = result_r = result_w = info_r = info_w = -1
    try:
        seccomp_r, seccomp_w = os.pipe2(os.O_CLOEXEC)
        os.write(seccomp_w, program)  # a few KiB: fits in the pipe buffer
        os.close(seccomp_w)
        seccomp_w = -1
        result_r, result_w = os.pipe2(os.O_CLOEXEC)
        if host_ids is not None:
            # The slot's uid owns the channel, so that a runtime without an API to adopt
            # a descriptor by number (Java) can reopen it as /proc/self/fd/N.
            os.fchown(result_w, *host_ids)
        info_r, info_w = os.pipe2(os.O_CLOEXEC)
        command = (
            _launcher_argv(limits, nproc, host_ids)
            + _bwrap_argv(
                bwrap=bwrap,
                work_dir=work_dir,
                limits=limits,
                seccomp_fd=seccomp_r,
                result_fd=result_w,
                info_fd=info_w,
                extra_ro_binds=extra_ro_binds,
                env=env,
            )
            + list(argv)
        )
        started = time.monotonic()
        try:
            # No preexec_fn, user= or group=: the launchers do that work, so subprocess
            # can start the chain with vfork instead of copying the worker with fork.
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if stdin_responder else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(seccomp_r, result_w, info_w),
                env={},
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise SandboxUnavailable(f"cannot start bubblewrap: {exc}") from exc
        os.close(seccomp_r)
        seccomp_r = -1
        os.close(result_w)
        result_w = -1
        os.close(info_w)
        info_w = -1
        run = _supervise(process, result_r, limits, started, stdin_responder)
        result_r = -1  # closed by _supervise
        _reap_sandbox_init(info_r)
    finally:
        for fd in (seccomp_r, seccomp_w, result_r, result_w, info_r, info_w):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(work_dir, ignore_errors=True)
    if (
        run.exit_code in (1, 126, 127)  # bwrap's setup errors; the launchers' exec errors
        and not run.result
        and run.stderr.startswith(_LAUNCH_ERROR_PREFIXES)
        and not run.timed_out
    ):
        message = run.stderr.decode("utf-8", "replace").strip().splitlines()[0]
        raise SandboxUnavailable(message.removeprefix("bwrap: "))
    return run


def _supervise(
    process: subprocess.Popen[bytes],
    result_fd: int,
    limits: Limits,
    started: float,
    stdin_responder: Callable[[bytes], bytes | None] | None,
) -> SandboxRun:
    assert process.stdout is not None and process.stderr is not None
    stdout_fd, stderr_fd = process.stdout.fileno(), process.stderr.fileno()
    stdin_fd = process.stdin.fileno() if process.stdin is not None else -1
    caps = {
        stdout_fd: limits.max_output_bytes,
        stderr_fd: limits.max_output_bytes,
        result_fd: limits.max_result_bytes,
    }
    chunks: dict[int, list[bytes]] = {fd: [] for fd in caps}
    sizes = dict.fromkeys(caps, 0)
    result_so_far = bytearray()
    pending_input: memoryview | None = None
    responder = stdin_responder
    deadline = started + limits.wall_seconds
    timed_out = truncated = killed = False
    kill_deadline: float | None = None

    def kill() -> None:
        nonlocal killed, kill_deadline
        if not killed:
            killed = True
            kill_deadline = time.monotonic() + _KILL_GRACE_SECONDS
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def close_stdin() -> None:
        nonlocal stdin_fd
        if stdin_fd >= 0:
            if stdin_fd in selector.get_map():
                selector.unregister(stdin_fd)
            assert process.stdin is not None
            with contextlib.suppress(OSError):
                process.stdin.close()
            stdin_fd = -1

    with selectors.DefaultSelector() as selector:
        for fd in caps:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        if stdin_fd >= 0:
            os.set_blocking(stdin_fd, False)
        try:
            while any(fd in selector.get_map() for fd in caps):
                now = time.monotonic()
                if not killed and now >= deadline:
                    timed_out = True
                    kill()
                if kill_deadline is not None and now >= kill_deadline:
                    break  # killed: whatever is still unread does not matter
                wait_until = kill_deadline if kill_deadline is not None else deadline
                for key, _events in selector.select(max(0.0, wait_until - now)):
                    fd = key.fd
                    if fd == stdin_fd:
                        assert pending_input is not None
                        try:
                            pending_input = pending_input[os.write(fd, pending_input) :]
                        except BlockingIOError:
                            continue
                        except OSError:  # the program closed its stdin
                            pending_input = memoryview(b"")
                        if not pending_input:
                            close_stdin()
                        continue
                    try:
                        data = os.read(fd, _READ_CHUNK)
                    except BlockingIOError:
                        continue
                    if not data:
                        selector.unregister(fd)
                        continue
                    room = caps[fd] - sizes[fd]
                    if len(data) > room:
                        data = data[:room]
                        truncated = True
                    if data:
                        chunks[fd].append(data)
                        sizes[fd] += len(data)
                    if truncated:
                        kill()
                    elif fd == result_fd and responder is not None and data:
                        result_so_far += data
                        answer = responder(bytes(result_so_far))
                        if answer is not None:
                            responder = None
                            pending_input = memoryview(answer)
                            if answer and stdin_fd >= 0:
                                selector.register(stdin_fd, selectors.EVENT_WRITE)
                            else:
                                close_stdin()
        finally:
            close_stdin()
            os.close(result_fd)
            process.stdout.close()
            process.stderr.close()
    try:
        returncode = process.wait(timeout=max(0.0, deadline - time.monotonic()) + 1.0)
    except subprocess.TimeoutExpired:
        # Still running although every pipe is closed (it closed them itself).
        timed_out = True
        kill()
        returncode = process.wait()
    wall = time.monotonic() - started
    exit_code: int | None
    signum: int | None
    if returncode < 0:
        exit_code, signum = None, -returncode
    else:
        exit_code = returncode
        signum = returncode - 128 if 128 < returncode <= 128 + 64 else None
    return SandboxRun(
        exit_code=exit_code,
        signal=signum,
        stdout=b"".join(chunks[stdout_fd]),
        stderr=b"".join(chunks[stderr_fd]),
        result=b"".join(chunks[result_fd]),
        timed_out=timed_out,
        output_truncated=truncated,
        wall_seconds=wall,
    )


# --------------------------------------------------------------------------- health

_HEALTH_PROGRAM = f"import os, sqlite3\nos.write(int(os.environ[{RESULT_FD_ENV!r}]), b'ok')\n"


def check_sandbox(*, slot: int = 0, bwrap_path: str | None = None) -> SandboxHealth:
    """Run a trivial Python program in a real sandbox and say whether that worked.

    Cheap (one sandbox start, ~20 ms); callers may cache the answer for a while."""
    now = datetime.now(UTC)
    try:
        run = run_sandboxed(
            files={},
            argv=[SANDBOX_PYTHON, "-I", "-S", "-c", _HEALTH_PROGRAM],
            limits=Limits(cpu_seconds=5, wall_seconds=10),
            slot=slot,
            bwrap_path=bwrap_path,
        )
    except SandboxUnavailable as exc:
        reason = str(exc)
        if "namespace" in reason.lower() or "operation not permitted" in reason.lower():
            reason = f"cannot create user namespaces: {reason}"
        return SandboxHealth(available=False, reason=reason, checked_at=now)
    except OSError as exc:
        return SandboxHealth(available=False, reason=f"sandbox check failed: {exc}", checked_at=now)
    if run.exit_code == 0 and run.result == b"ok":
        return SandboxHealth(available=True, reason="ok", checked_at=now)
    detail = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    how = "timed out" if run.timed_out else f"exit {run.exit_code}, signal {run.signal}"
    return SandboxHealth(
        available=False,
        reason=f"the sandbox cannot run Python ({how}): {detail[0]}".rstrip(": "),
        checked_at=now,
    )
