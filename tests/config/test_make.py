"""`make test` and `.ci/run`: what they run, and what they report."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import child_env

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
    bank_tests = (BASE_DIR / "tests/quizzes/bank/test_loader.py").read_text()
    assert "def test_check_bank_passes_on_the_whole_bank(" in bank_tests
    assert 'call_command("check_bank", "--require-languages", "all")' in bank_tests


def test_make_bank_still_runs_the_bank_check_on_its_own() -> None:
    assert "manage.py check_bank --require-languages all" in make_dry_run("bank")


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback port that accepts connections (stands in for PostgreSQL and Redis)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def run_ci(tmp_path: Path, make_exit: int, port: int) -> subprocess.CompletedProcess[str]:
    """Run .ci/run with a stand-in `make` that exits with ``make_exit``."""
    fake_make = tmp_path / "make"
    fake_make.write_text(f'#!/bin/sh\necho fake make "$@"\nexit {make_exit}\n')
    fake_make.chmod(fake_make.stat().st_mode | stat.S_IXUSR)
    env = child_env(
        PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/unused",
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
    )
    return subprocess.run(
        [str(BASE_DIR / ".ci/run")], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


TOTAL = re.compile(r"^ci: total \d+ s$", re.MULTILINE)


def test_ci_prints_its_total_time_after_a_passing_run(tmp_path: Path, listening_port: int) -> None:
    done = run_ci(tmp_path, 0, listening_port)
    assert done.returncode == 0, done.stderr
    assert "fake make test" in done.stdout
    assert TOTAL.search(done.stdout.splitlines()[-1]), done.stdout


def test_ci_prints_its_total_time_after_a_failing_run(tmp_path: Path, listening_port: int) -> None:
    done = run_ci(tmp_path, 3, listening_port)
    assert done.returncode == 3  # the failure is kept
    assert TOTAL.search(done.stdout.splitlines()[-1]), done.stdout


def test_ci_prints_its_total_time_when_a_service_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        done = run_ci(tmp_path, 0, port)
    assert done.returncode != 0
    assert "is unreachable" in done.stderr
    assert "fake make" not in done.stdout
    assert TOTAL.search(done.stdout), done.stdout
