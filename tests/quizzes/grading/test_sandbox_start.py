"""How a sandbox is started: util-linux's setpriv (as root) and prlimit in the exec chain
set the slot's uid and the rlimits that bwrap and everything inside inherit, and a
launcher that cannot run means SandboxUnavailable, never an unsandboxed run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from quizzes.grading import sandbox
from quizzes.grading.sandbox import (
    MIB,
    Limits,
    SandboxUnavailable,
    check_sandbox,
    run_sandboxed,
)

pytestmark = pytest.mark.sandbox

LIMITS = Limits(
    cpu_seconds=2.0, memory_mb=200, max_file_bytes=3 * MIB, open_files=40, max_processes=30
)
READ_LIMITS = "print(open('/proc/self/limits').read())\n"


def _limit(text: str, name: str) -> tuple[str, str]:
    line = next(line for line in text.splitlines() if line.startswith(name))
    soft, hard = line[len(name) :].split()[:2]
    return soft, hard


def test_the_program_runs_under_the_challenges_rlimits() -> None:
    run = run_sandboxed(
        files={"prog.py": READ_LIMITS.encode()},
        argv=["/usr/bin/python3", "-I", "-S", "/sandbox/prog.py"],
        limits=LIMITS,
        slot=3,
    )
    assert run.exit_code == 0, run.stderr
    text = run.stdout.decode()
    assert _limit(text, "Max cpu time") == ("2", "3")
    assert _limit(text, "Max address space") == (str(200 * MIB), str(200 * MIB))
    assert _limit(text, "Max file size") == (str(3 * MIB), str(3 * MIB))
    assert _limit(text, "Max open files") == ("40", "40")
    assert _limit(text, "Max core file size") == ("0", "0")
    soft, hard = _limit(text, "Max processes")
    assert soft == hard
    if os.geteuid() == 0:
        # The slot's own uid (tests/security checks it on the host) counts only the
        # slot's processes: exactly the challenge's cap.
        assert soft == "30"
    else:
        assert int(soft) >= 30  # this user's processes + the cap


def test_the_data_limit_when_a_runtime_asks_for_it() -> None:
    run = run_sandboxed(
        files={"prog.py": READ_LIMITS.encode()},
        argv=["/usr/bin/python3", "-I", "-S", "/sandbox/prog.py"],
        limits=Limits(memory_mb=300, memory_rlimit="data"),
    )
    assert run.exit_code == 0, run.stderr
    text = run.stdout.decode()
    assert _limit(text, "Max data size") == (str(300 * MIB), str(300 * MIB))
    assert _limit(text, "Max address space") == ("unlimited", "unlimited")


@pytest.fixture
def launcher_dir() -> Iterator[Path]:
    # Reachable by a slot's uid when the tests run as root.
    directory = Path(tempfile.mkdtemp())
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


def test_a_missing_prlimit_means_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setattr(sandbox, "PRLIMIT_PATH", str(tmp_path / "no-such-prlimit"))
    with pytest.raises(SandboxUnavailable, match="no-such-prlimit not found"):
        run_sandboxed(files={}, argv=["/usr/bin/touch", str(marker)], limits=Limits(), slot=0)
    assert not marker.exists()
    health = check_sandbox()
    assert not health.available and "no-such-prlimit" in health.reason


def test_a_launcher_that_fails_means_unavailable(
    launcher_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = launcher_dir / "prlimit"
    fake.write_text(
        "#!/bin/sh\necho 'prlimit: failed to set the NPROC resource limit' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "PRLIMIT_PATH", str(fake))
    with pytest.raises(SandboxUnavailable, match="failed to set the NPROC resource limit"):
        run_sandboxed(files={}, argv=["/usr/bin/true"], limits=Limits())
