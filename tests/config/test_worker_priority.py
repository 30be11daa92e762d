"""Grading never starves the web tier: a Celery worker lowers its CPU priority to
``WORKER_NICE`` when it starts, and its pool processes (which start the sandboxes) inherit
it (config/celery.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from config.celery import lower_priority
from quizzes.models import WorkerHeartbeat
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def niceness(pid: int) -> int:
    """The nice value of a process, from /proc (field 19 of its stat line)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(child) for child in text.split()]
    return found


def test_a_started_worker_and_its_pool_run_at_worker_nice(start_worker: Any) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    wanted = max(own, 7)
    worker = start_worker(concurrency=2, extra_env={"WORKER_NICE": "7"})
    assert worker.proc is not None
    host = worker.hostname.split("@", 1)[0]
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname__startswith=host).exists(),
        timeout=90,
        what=f"the worker's heartbeat\n{worker.log_text()[-2000:]}",
    )
    pool = wait_for(lambda: children(worker.proc.pid), timeout=30, what="the pool processes")
    assert niceness(worker.proc.pid) == wanted
    assert [niceness(pid) for pid in pool] == [wanted] * len(pool)
    # The process that started it (as the web would) keeps its own priority.
    assert os.getpriority(os.PRIO_PROCESS, 0) == own


def test_lower_priority_raises_niceness_and_never_lowers_it() -> None:
    """In a child process, so that this test process keeps its priority."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: raise to 3, then ask for 1 (no lowering), report both
        os.close(read)
        first = lower_priority(max(os.getpriority(os.PRIO_PROCESS, 0), 3))
        second = lower_priority(1)
        os.write(write, f"{first} {second}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        first, second = (int(v) for v in pipe.read().split())
    os.waitpid(pid, 0)
    assert first >= 3 and second == first
