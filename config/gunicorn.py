"""gunicorn's settings for Skillmap: ``gunicorn -c python:config.gunicorn config.wsgi``.

Only what the metrics need (quizzes/metrics.py): every gunicorn worker writes its values to
``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder when it is unset), emptied when the
server starts, so ``/metrics`` on any worker reports the whole server. Bind address, worker
count and the rest stay on the command line.
"""

from __future__ import annotations

from typing import Any

from config.prometheus import mark_web_worker_dead, prepare_web_dir

# Before the app (and prometheus_client) is imported in any worker.
prepare_web_dir()


def child_exit(server: Any, worker: Any) -> None:
    mark_web_worker_dead(worker.pid)
