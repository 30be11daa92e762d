"""The Celery application: one module for web, worker and beat."""

import os
import sys
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("skillmap")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["quizzes.pipeline", "quizzes.analytics", "quizzes.bank"])

# Loaded by name when a worker builds its blueprint (after Django is set up).
app.steps["worker"].add("quizzes.pipeline.worker:HeartbeatStep")

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
