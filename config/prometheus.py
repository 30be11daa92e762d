"""Where each process family keeps its Prometheus values (see quizzes/metrics.py).

prometheus_client decides at import time whether values go to memory or to files in
``PROMETHEUS_MULTIPROC_DIR``, so these run before anything imports it: ``config/gunicorn.py``
for the web server, ``config/celery.py`` for a worker. Nothing here imports
prometheus_client at module level.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
WORKER_PREFIX = "skillmap-worker-"


def is_celery_worker(argv: list[str]) -> bool:
    """``celery -A config worker …`` or ``python -m celery -A config worker …``."""
    if not argv:
        return False
    program = Path(argv[0])
    by_celery = program.name == "celery" or (
        program.name == "__main__.py" and program.parent.name == "celery"
    )
    return by_celery and "worker" in argv[1:]


def prepare_web_dir() -> str:
    """The web server's folder: ``PROMETHEUS_MULTIPROC_DIR``, emptied (a restarted server
    starts from zero, as Prometheus expects of a restarted target), or a fresh temporary one
    when the variable is unset."""
    path = os.environ.get(VARIABLE)
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        for stale in Path(path).glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        path = tempfile.mkdtemp(prefix="skillmap-web-metrics-")
        os.environ[VARIABLE] = path
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_worker_dir() -> str:
    """A folder for this worker alone (its main process and its pool processes): inside
    ``PROMETHEUS_MULTIPROC_DIR`` when set, else in the temporary directory. Folders left by
    workers that were killed are removed; this one is removed when the worker exits."""
    parent = Path(os.environ.get(VARIABLE) or tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob(f"{WORKER_PREFIX}*"):
        pid = old.name.removeprefix(WORKER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    owner = os.getpid()
    path = tempfile.mkdtemp(prefix=f"{WORKER_PREFIX}{owner}-", dir=parent)
    os.environ[VARIABLE] = path

    def remove() -> None:
        if os.getpid() == owner:  # not from a forked pool process
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    return path


def mark_web_worker_dead(pid: int) -> None:
    """gunicorn's ``child_exit``: drop a dead process's live gauges (its counters stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
