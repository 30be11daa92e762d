"""`make test` and `.ci/run`: what they run, and what they report."""

from __future__ import annotations

import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def make_dry_run(target: str) -> str:
    """The commands `make TARGET` would run (make -n runs none of them)."""
    done = subprocess.run(
        ["make", "-n", target], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_test_checks_the_bank_once_inside_pytest() -> None:
    commands = make_dry_run("test")
    assert "check_bank" not in commands
    assert "pytest -c tests/pytest.ini" in commands
    # The pytest test that runs check_bank on the whole bank is still there.
    bank_tests = (BASE_DIR / "tests/quizzes/services/test_bank.py").read_text()
    assert "def test_check_bank_passes_on_the_whole_bank(" in bank_tests
    assert 'call_command("check_bank")' in bank_tests


def test_make_bank_still_runs_the_bank_check_on_its_own() -> None:
    assert "manage.py check_bank" in make_dry_run("bank")
