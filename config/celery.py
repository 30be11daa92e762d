"""The Celery application: one module for web, worker and beat."""

import os
import sys
from pathlib import Path

from celery import Celery, signals

from config import logs
from config.prometheus import is_celery_worker, prepare_worker_dir

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if is_celery_worker(sys.argv):
    # Before prometheus_client is imported: the worker's metrics go to a folder of its own,
    # shared by its pool processes and served on WORKER_METRICS_PORT (quizzes/metrics.py).
    prepare_worker_dir()

app = Celery("skillmap")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["quizzes.pipeline", "quizzes.analytics", "quizzes.bank"])

# Loaded by name when a worker builds its blueprint (after Django is set up).
app.steps["worker"].add("quizzes.pipeline.worker:HeartbeatStep")
app.steps["worker"].add("quizzes.pipeline.worker:MetricsServerStep")

# The request id travels with the task (config/logs.py).
signals.before_task_publish.connect(logs.add_request_id_to_message, weak=False)
signals.task_prerun.connect(logs.enter_task_context, weak=False)
signals.task_postrun.connect(logs.leave_task_context, weak=False)


def close_old_db_connections(task: object = None, **kwargs: object) -> None:
    """Before and after each task, as Django does around a request: close a connection
    only once it is older than CONN_MAX_AGE, broken, or left outside autocommit; the next
    use of a kept one is health-checked (CONN_HEALTH_CHECKS). Celery's own fixup would
    close them all (see CELERY_DB_REUSE_MAX). Not for an eager task: it runs inside its
    caller's transaction."""
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


signals.task_prerun.connect(close_old_db_connections, weak=False)
signals.task_postrun.connect(close_old_db_connections, weak=False)


def lower_priority(niceness: int) -> int:
    """Raise this process's niceness (every thread's) to at least ``niceness``; never
    lower it (an unprivileged process could not). Returns the niceness now in force."""
    wanted = max(os.getpriority(os.PRIO_PROCESS, 0), niceness)
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: the calling thread is the process
        threads = [0]
    for tid in threads:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, wanted)
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    return os.getpriority(os.PRIO_PROCESS, 0)


@signals.worker_init.connect(weak=False)
def lower_worker_priority(**kwargs: object) -> None:
    """Grading never starves the web tier: the worker runs at ``WORKER_NICE`` (README,
    "Configuration"). Before the pool starts, so its processes and sandboxes inherit it."""
    from django.conf import settings

    lower_priority(settings.WORKER_NICE)


@signals.setup_logging.connect(weak=False)
def use_django_logging(**kwargs: object) -> None:
    """Workers and beat log as the web does (settings.LOGGING: JSON with request ids),
    instead of Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


if Path(sys.argv[0]).name == "celery" or sys.argv[1:3] == ["-m", "celery"]:
    # Started as `celery -A config …`: load settings now so that bad configuration is
    # one line, not a traceback from deep inside the worker's start-up.
    from django.conf import settings

    from config.env import ConfigError

    try:
        settings.INSTALLED_APPS  # noqa: B018
    except ConfigError as exc:
        sys.stderr.write(f"skillmap: configuration error: {exc}\n")
        sys.exit(2)
