"""Worker-side wiring: a heartbeat written on a timer from inside each Celery worker, and
the worker's own metrics exporter (quizzes/metrics.py)."""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.utils import timezone

from quizzes.grading.sandbox import check_sandbox
from quizzes.metrics import WORKER_LAST_HEARTBEAT, WORKER_SANDBOX_AVAILABLE, serve_metrics
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
            WORKER_LAST_HEARTBEAT.set_to_current_time()
            WORKER_SANDBOX_AVAILABLE.set(1 if available else 0)
        except Exception:  # a failed heartbeat must not kill the worker
            logger.exception("worker heartbeat failed")


class MetricsServerStep(bootsteps.StartStopStep):
    """Serves this worker's metrics (its pool processes' included) on WORKER_METRICS_PORT.

    Each worker is its own scrape target, wherever it runs; 0 turns the exporter off."""

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.server: Any = None

    def start(self, worker: Any) -> None:
        port = settings.WORKER_METRICS_PORT
        if not port:
            return
        self.server = serve_metrics(
            address=settings.WORKER_METRICS_ADDRESS,
            port=port,
            networks=settings.METRICS_ALLOWED_NETWORKS,
            token=settings.METRICS_TOKEN,
        )
        logger.info("worker metrics on http://%s:%s/metrics", settings.WORKER_METRICS_ADDRESS, port)

    def stop(self, worker: Any) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
