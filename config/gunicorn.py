"""gunicorn's settings for Skillmap: ``gunicorn -c python:config.gunicorn config.wsgi``.

Each worker registers its listening sockets for load shedding (config/shedding.py).
For the metrics (quizzes/metrics.py): every gunicorn worker writes its values to
``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder when it is unset), emptied when the
server starts, so ``/metrics`` on any worker reports the whole server. Bind address, worker
count and the rest stay on the command line.
"""

from __future__ import annotations

from typing import Any

from config.prometheus import mark_web_worker_dead, prepare_web_dir
from config.shedding import listen_on

# Before the app (and prometheus_client) is imported in any worker.
prepare_web_dir()


def post_worker_init(worker: Any) -> None:
    # Load shedding reads how many connections wait on these sockets (config/shedding.py).
    listen_on((listener.sock for listener in worker.sockets), workers=worker.cfg.workers)


def child_exit(server: Any, worker: Any) -> None:
    mark_web_worker_dead(worker.pid)
