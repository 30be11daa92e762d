"""/metrics under gunicorn with several worker processes: every scrape, whichever process
answers it, reports the whole server's counts, which survive a worker's death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_DIR, child_env, free_port, http_ok, shared_database_url, wait_for
from tests.ops.test_metrics import parse, value

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path) -> Iterator[dict[str, Any]]:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier server")
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn",
            "--workers", "2", "--bind", f"127.0.0.1:{port}", "config.wsgi:application",
        ],
        cwd=BASE_DIR,
        env=child_env(
            DATABASE_URL=shared_database_url(), DEBUG="true",
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        ),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: http_ok(f"{url}/healthz") and len(children(proc.pid)) == 2,
            timeout=60,
            what=f"gunicorn\n{(tmp_path / 'gunicorn.log').read_text(errors='replace')[-3000:]}",
        )
        yield {"url": url, "proc": proc, "dir": metrics_dir}
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()


def scrape(url: str) -> dict[Any, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:  # noqa: S310
        return parse(response.read().decode())


def readyz_count(samples: dict[Any, float]) -> float:
    return value(
        samples,
        "skillmap_http_request_duration_seconds_count",
        view="readyz",
        method="GET",
        status="200",
    )


def test_every_process_reports_the_whole_server(gunicorn: dict[str, Any]) -> None:
    url, proc, metrics_dir = gunicorn["url"], gunicorn["proc"], gunicorn["dir"]
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
    for _ in range(40):
        assert http_ok(f"{url}/readyz")
    # Each process writes its own files; a scrape reads them all.
    pids = {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("*.db")}
    assert set(children(proc.pid)) <= pids and len(pids) >= 2
    for _ in range(6):
        assert readyz_count(scrape(url)) == 40

    victim = children(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: victim not in children(proc.pid) and len(children(proc.pid)) == 2,
        timeout=60,
        what="gunicorn to replace the killed worker",
    )
    for _ in range(6):
        assert readyz_count(scrape(url)) == 40  # the dead process's counts are kept
