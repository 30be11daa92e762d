"""No bubblewrap, no grading: SandboxUnavailable, never an unsandboxed run."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from quizzes.grading import runner
from quizzes.grading.sandbox import Limits, SandboxUnavailable, check_sandbox, run_sandboxed
from quizzes.grading.spec import PythonChallengeSpec, spec_from_dict

SPEC = spec_from_dict(
    "python", {"entry_point": "f", "tests": [{"name": "t", "visible": True, "expect": 1}]}
)


def touching_source(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('ran')\ndef f():\n    return 1\n"


def test_missing_bwrap_raises(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(SandboxUnavailable, match="bubblewrap not installed"):
        run_sandboxed(
            files={"prog.py": touching_source(marker).encode()},
            argv=["/usr/bin/python3", "/sandbox/prog.py"],
            limits=Limits(),
            bwrap_path=str(tmp_path / "no-such-bwrap"),
        )
    assert not marker.exists()


def test_env_override_reaches_grade_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setenv("SKILLMAP_BWRAP_PATH", str(tmp_path / "no-such-bwrap"))
    assert isinstance(SPEC, PythonChallengeSpec)
    with pytest.raises(SandboxUnavailable):
        runner.grade_python(SPEC, touching_source(marker))
    assert not marker.exists()


def test_health_says_why(tmp_path: Path) -> None:
    health = check_sandbox(bwrap_path=str(tmp_path / "no-such-bwrap"))
    assert not health.available
    assert health.reason.startswith("bubblewrap not installed")
    assert health.checked_at.tzinfo is not None


def test_bwrap_that_cannot_create_namespaces() -> None:
    # What bwrap prints when user namespaces are disabled (e.g. in a locked-down container).
    # In a directory of its own that the slot uid can reach when the tests run as root.
    directory = Path(tempfile.mkdtemp())
    directory.chmod(0o755)
    try:
        _check_fake_bwrap(directory / "bwrap")
    finally:
        shutil.rmtree(directory)


def _check_fake_bwrap(fake: Path) -> None:
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because "
        "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    with pytest.raises(SandboxUnavailable, match="No permissions to creating new namespace"):
        run_sandboxed(files={}, argv=["/usr/bin/true"], limits=Limits(), bwrap_path=str(fake))
    health = check_sandbox(bwrap_path=str(fake))
    assert not health.available
    assert health.reason.startswith("cannot create user namespaces: No permissions")
