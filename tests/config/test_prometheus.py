"""Where each process family keeps its metric values (config/prometheus.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.prometheus import VARIABLE, WORKER_PREFIX, is_celery_worker, prepare_worker_dir


@pytest.mark.parametrize(
    ("argv", "worker"),
    [
        (["/venv/bin/celery", "-A", "config", "worker", "-Q", "grading"], True),
        (["/usr/lib/python3/site-packages/celery/__main__.py", "-A", "config", "worker"], True),
        (["/venv/bin/celery", "-A", "config", "beat"], False),
        (["manage.py", "runserver"], False),
        (["/venv/bin/gunicorn", "config.wsgi"], False),
        ([], False),
    ],
)
def test_only_a_celery_worker_is_recognised(argv: list[str], worker: bool) -> None:
    assert is_celery_worker(argv) is worker


def test_a_worker_gets_a_folder_of_its_own_and_a_dead_worker_s_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left_behind = tmp_path / f"{WORKER_PREFIX}{dead}-abc"
    left_behind.mkdir()
    alive = tmp_path / f"{WORKER_PREFIX}{os.getppid()}-def"  # a live process's folder stays
    alive.mkdir()
    monkeypatch.setenv(VARIABLE, str(tmp_path))
    path = Path(prepare_worker_dir())
    assert path.parent == tmp_path and path.name.startswith(f"{WORKER_PREFIX}{os.getpid()}-")
    assert os.environ[VARIABLE] == str(path)
    assert not left_behind.exists() and alive.exists()
