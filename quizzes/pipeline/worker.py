"""Worker-side wiring: a heartbeat written on a timer from inside each Celery worker."""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.utils import timezone

from quizzes.grading.sandbox import check_sandbox
from quizzes.pipeline.ops import language_capabilities, worker_heartbeat_record

logger = logging.getLogger(__name__)


def current_sandbox_health() -> tuple[bool, str]:
    """Run a trivial program in the sandbox; any failure means "unavailable, because…"."""
    try:
        health = check_sandbox()
    except Exception as exc:
        return False, f"sandbox check failed: {type(exc).__name__}: {exc}"
    return health.available, health.reason


class HeartbeatStep(bootsteps.StartStopStep):
    """Writes this worker's WorkerHeartbeat row every WORKER_HEARTBEAT_SECONDS."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None
        self.started_at = timezone.now()

    def start(self, worker: Any) -> None:
        self.beat(worker)
        self.tref = worker.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_SECONDS, self.beat, (worker,), priority=10
        )

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def beat(self, worker: Any) -> None:

        try:
            available, reason = current_sandbox_health()
            queues = ",".join(sorted(worker.app.amqp.queues.consume_from or {}))
            languages, unavailable = language_capabilities()
            worker_heartbeat_record(
                hostname=worker.hostname,
                queues=queues,
                sandbox_available=available,
                sandbox_reason=reason,
                started_at=self.started_at,
                languages=languages,
                languages_unavailable=unavailable,
            )
        except Exception:  # a failed heartbeat must not kill the worker
            logger.exception("worker heartbeat failed")
