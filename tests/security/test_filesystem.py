"""The filesystem view: read-only everywhere but two small tmpfs, no host files."""

from __future__ import annotations

import errno
import json
import threading
import time

import pytest

from quizzes.grading.sandbox import SandboxRun
from tests.security.conftest import output, processes_of, requires_root, run_program, slot_uid

pytestmark = pytest.mark.sandbox

DENIED = {errno.EROFS, errno.EACCES, errno.EPERM}


@pytest.mark.parametrize(
    "path",
    ["/usr/evil", "/usr/bin/python3", "/etc/passwd", "/etc", "/sandbox/evil",
     "/sandbox/prog.py", "/evil", "/dev/evil", "/proc/sys/kernel/hostname"],
)  # fmt: skip
def test_writes_outside_tmp_are_refused(path: str) -> None:
    run = run_program(
        f"""
        import os
        try:
            if "{path}" == "/etc":
                os.mkdir("/etc")
            else:
                with open("{path}", "w") as handle:
                    handle.write("pwned")
            print("WROTE")
        except OSError as exc:
            print(exc.errno)
        """
    )
    text = output(run).strip()
    assert text != "WROTE"
    # /etc does not exist inside (and cannot be created: the root is read-only).
    allowed = DENIED | {errno.ENOENT} if path == "/etc/passwd" else DENIED
    assert int(text) in allowed


def test_host_files_are_not_visible() -> None:
    run = run_program(
        """
        import json, os
        seen = {}
        for path in ["/etc/passwd", "/etc/shadow", "/root", "/home", "/work", "/var",
                     "/run", "/sys", "/dev/shm"]:
            seen[path] = os.path.exists(path)
        seen["root"] = sorted(os.listdir("/"))
        seen["sandbox"] = sorted(os.listdir("/sandbox"))
        print(json.dumps(seen))
        """
    )
    seen = json.loads(output(run))
    for path in ["/etc/passwd", "/etc/shadow", "/root", "/home", "/work", "/var", "/run", "/sys"]:
        assert seen[path] is False, path
    assert set(seen["root"]) <= {"bin", "dev", "lib", "lib64", "proc", "sandbox", "tmp", "usr"}
    assert seen["sandbox"] == ["prog.py"]


def test_identity_inside_is_unprivileged() -> None:
    run = run_program(
        """
        import os
        status = open("/proc/self/status").read()
        caps = [line for line in status.splitlines() if line.startswith("Cap")]
        print(os.getuid(), os.getgid(), os.getgroups())
        print("\\n".join(caps))
        """
    )
    lines = output(run).splitlines()
    assert lines[0] == "65534 65534 []"
    assert len(lines) == 6
    for cap_line in lines[1:]:
        assert cap_line.split()[1] == "0000000000000000", cap_line


@requires_root
def test_sandboxes_of_a_root_worker_run_under_the_slot_uid() -> None:
    # Started as root, bwrap would map the sandbox to host root (RLIMIT_NPROC exempt).
    box: list[SandboxRun] = []
    thread = threading.Thread(
        target=lambda: box.append(run_program("import time\ntime.sleep(0.8)\n"))
    )
    thread.start()
    try:
        deadline = time.monotonic() + 0.6
        seen: list[int] = []
        while not seen and time.monotonic() < deadline:
            seen = processes_of(slot_uid())
            time.sleep(0.02)
        assert seen, "no process of the slot uid while a sandbox runs"
        for pid in seen:
            with open(f"/proc/{pid}/status") as handle:
                uids = next(line for line in handle if line.startswith("Uid:")).split()[1:]
            assert set(uids) == {str(slot_uid())}
    finally:
        thread.join()
    assert box[0].exit_code == 0
