"""`make run`'s process group: a killed worker or beat comes back, the web server stays up,
and Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from quizzes.models import WorkerHeartbeat
from tests.conftest import (
    BASE_DIR,
    HealthPoller,
    child_env,
    free_port,
    shared_database_url,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.slow]

SUPERVISE = BASE_DIR / "deploy" / "supervise.py"


class Group:
    """``deploy/supervise.py`` (supervisord and its three programs) as ``make run`` starts it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.env = child_env(
            DATABASE_URL=shared_database_url(),
            DEBUG="true",
            HOST="127.0.0.1",
            PORT=str(self.port),
            WORKER_HEARTBEAT_SECONDS="1",
        )
        self.log_path = folder / "output.log"
        self.log = self.log_path.open("ab")
        # Its own session, as in a terminal: Ctrl-C is a SIGINT to supervisord.
        self.proc = subprocess.Popen(
            [sys.executable, str(SUPERVISE), "--dir", str(folder)],
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self, program: str) -> int:
        """The program's pid while RUNNING, else 0 (asked through supervisorctl)."""
        result = subprocess.run(
            [sys.executable, str(SUPERVISE), "--dir", str(self.folder), "ctl", "pid", program],
            cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        text = result.stdout.strip()
        return int(text) if text.isdigit() else 0

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def group(transactional_db: None, tmp_path: Path) -> Iterator[Group]:
    started = Group(tmp_path)
    yield started
    started.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process is still in the process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def worker_pid() -> int:
    """The pid in the newest worker heartbeat: written by the worker's main process."""
    beat = WorkerHeartbeat.objects.order_by("-last_seen").first()
    return beat.pid if beat is not None else 0


def test_a_killed_worker_and_beat_are_restarted_while_the_web_server_keeps_answering(
    group: Group,
) -> None:
    with HealthPoller(f"{group.url}/healthz") as health:
        first_worker = wait_for(
            lambda: group.pid("worker") == worker_pid() and worker_pid(),
            timeout=90,
            what=f"the worker's first heartbeat\n{group.output()[-3000:]}",
        )
        first_beat = wait_for(lambda: group.pid("beat"), timeout=60, what="beat to run")
        web = group.pid("web")

        os.killpg(first_worker, signal.SIGKILL)  # the worker and its pool, as the OOM killer
        wait_for(
            lambda: worker_pid() not in (0, first_worker) and alive(worker_pid()),
            timeout=90,
            what=f"a new worker's heartbeat\n{group.output()[-3000:]}",
        )
        os.killpg(first_beat, signal.SIGKILL)
        wait_for(
            lambda: group.pid("beat") not in (0, first_beat),
            timeout=60,
            what=f"beat to be restarted\n{group.output()[-3000:]}",
        )
        answered_during_the_kills = health.answered

    assert health.failures == []
    assert answered_during_the_kills > 0
    assert group.pid("web") == web  # never restarted
    assert not alive(first_worker) and not alive(first_beat)


def test_ctrl_c_stops_every_process_of_the_group(group: Group) -> None:
    with HealthPoller(f"{group.url}/healthz"):
        pids = {name: wait_for(lambda n=name: group.pid(n), timeout=60, what=name)
                for name in ("web", "worker", "beat")}  # fmt: skip
    group.proc.send_signal(signal.SIGINT)
    assert group.proc.wait(timeout=90) == 0
    for name, pid in pids.items():
        # Each program ran in its own process group: nothing of it is left once its
        # children (a pool process, a sandbox) have finished exiting.
        wait_for(lambda pid=pid: not alive(pid), timeout=10, what=f"{name} to be gone")
        wait_for(
            lambda pid=pid: not group_alive(pid),
            timeout=30,
            what=f"every process of {name}'s group to be gone",
        )
