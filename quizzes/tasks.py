"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from quizzes.services.ops import health_ping_record


@shared_task(name="skillmap.health.ping", bind=True, ignore_result=True)
def health_ping(self) -> None:  # type: ignore[no-untyped-def]
    health_ping_record(hostname=self.request.hostname or "unknown")
