"""Operational state: readiness of the web process, liveness of workers, and the gauges
``/metrics`` reads from the database at scrape time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from quizzes.grading.languages import LANGUAGES
from quizzes.models import (
    HELD,
    SkillUpdateRequest,
    Submission,
    SubmissionStatus,
    WorkerHeartbeat,
)


@dataclass(frozen=True)
class Problem:
    component: str
    reason: str


def check_database() -> Problem | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return Problem("database", f"{type(exc).__name__}: {exc}".strip())
    return None


def check_broker() -> Problem | None:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        return Problem("broker", f"{type(exc).__name__}: {exc}".strip())
    return None


def readiness_problems() -> list[Problem]:
    """What stops this web process from serving: database and broker reachability."""
    return [p for p in (check_database(), check_broker()) if p is not None]


def worker_heartbeat_record(
    *,
    hostname: str,
    queues: str,
    sandbox_available: bool,
    sandbox_reason: str,
    started_at: datetime,
    languages: list[str] | None = None,
    languages_unavailable: dict[str, str] | None = None,
) -> None:
    """Record a worker's heartbeat: its queues, its sandbox's health, and the code
    languages it can grade (with the reason for each it cannot)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen": now,
            "queues": queues,
            "sandbox_available": sandbox_available,
            "sandbox_reason": sandbox_reason,
            "languages": languages or [],
            "languages_unavailable": languages_unavailable or {},
        },
    )


def language_capabilities() -> tuple[list[str], dict[str, str]]:
    """The code languages this process can grade, and why it cannot grade the others."""
    can, cannot = [], {}
    for key, lang in LANGUAGES.items():
        reason = lang.unavailable_reason()
        if reason is None:
            can.append(key)
        else:
            cannot[key] = reason
    return can, cannot


def health_ping_record(*, hostname: str) -> None:
    """The health task's effect: proof that a message went web → broker → worker → DB."""
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(health_ping_at=now)
    if not updated:
        WorkerHeartbeat.objects.create(
            hostname=hostname, pid=os.getpid(), started_at=now, last_seen=now, health_ping_at=now
        )


def graders_alive() -> bool:
    """Has any worker written a heartbeat recently (one cheap query)?"""
    fresh_since = timezone.now() - timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS)
    return WorkerHeartbeat.objects.filter(last_seen__gte=fresh_since).exists()


def worker_status() -> dict[str, object]:
    """Workers seen recently, with their sandbox health; ``alive`` if any is fresh."""
    now = timezone.now()
    stale_after = timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS)
    workers = []
    for hb in WorkerHeartbeat.objects.all():
        fresh = now - hb.last_seen <= stale_after
        workers.append(
            {
                "hostname": hb.hostname,
                "alive": fresh,
                "last_seen": hb.last_seen.isoformat(),
                "seconds_since_heartbeat": round((now - hb.last_seen).total_seconds(), 1),
                "started_at": hb.started_at.isoformat(),
                "queues": hb.queues.split(",") if hb.queues else [],
                "sandbox": {"available": hb.sandbox_available, "reason": hb.sandbox_reason},
                "languages": list(hb.languages or []),
                "languages_unavailable": dict(hb.languages_unavailable or {}),
                "health_ping_at": hb.health_ping_at.isoformat() if hb.health_ping_at else None,
            }
        )
    alive = [w for w in workers if w["alive"]]
    graders = [w for w in alive if w["sandbox"]["available"]]  # type: ignore[index]
    return {
        "alive": bool(alive),
        "workers": workers,
        "grading_available": bool(graders),
        # The code languages some live worker with a working sandbox can grade.
        "languages": sorted({key for w in graders for key in w["languages"]}),  # type: ignore[attr-defined]
    }


class GradingStateCollector(Collector):
    """Scrape-time gauges from the database, the one view every web process shares:
    the grading queue (queued, held, running, stuck, the oldest queued row's age), the skill
    updates waiting for their drain, and the workers' heartbeats. Three queries, on indexed
    columns of the rows in flight."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "skillmap_database_up", "1 if the scrape could read the grading state."
        )
        try:
            families = list(self._families())
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        sent = Q(status=SubmissionStatus.QUEUED, enqueued_at__isnull=False)
        state = Submission.objects.filter(
            status__in=[SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]
        ).aggregate(
            queued=Count("id", filter=sent),
            held=Count("id", filter=HELD),
            running=Count("id", filter=Q(status=SubmissionStatus.RUNNING)),
            stuck=Count("id", filter=Q(status=SubmissionStatus.RUNNING, lease_expires_at__lt=now)),
            oldest=Min("created_at", filter=sent),
        )
        depth = GaugeMetricFamily(
            "skillmap_grading_queue_depth",
            "Submissions waiting or being graded, by state (queued: sent to the broker; "
            "held: behind the learner's in-flight cap; running: claimed by a worker).",
            labels=["state"],
        )
        for name in ("queued", "held", "running"):
            depth.add_metric([name], state[name])
        yield depth
        yield GaugeMetricFamily(
            "skillmap_grading_stuck",
            "Running submissions whose lease expired (the sweeper will re-send them).",
            value=state["stuck"],
        )
        oldest = state["oldest"]
        yield GaugeMetricFamily(
            "skillmap_grading_oldest_queued_age_seconds",
            "Age of the oldest submission sent and not yet claimed (0 when none).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
        requests = SkillUpdateRequest.objects.aggregate(
            pending=Count("learner_id"), oldest=Min("requested_at")
        )
        yield GaugeMetricFamily(
            "skillmap_skill_updates_pending",
            "Learners whose skill estimates wait for the drain task (graded, not recomputed).",
            value=requests["pending"],
        )
        yield GaugeMetricFamily(
            "skillmap_skill_update_oldest_request_age_seconds",
            "Age of the oldest skill update request not yet served (0 when none).",
            value=(now - requests["oldest"]).total_seconds() if requests["oldest"] else 0.0,
        )
        stale_after = timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS)
        # Workers seen lately; long-gone host names drop out instead of piling up.
        recent = WorkerHeartbeat.objects.filter(last_seen__gte=now - 10 * stale_after)
        alive = grading = 0
        age = GaugeMetricFamily(
            "skillmap_worker_heartbeat_age_seconds",
            "Seconds since each recently seen worker wrote its heartbeat.",
            labels=["worker"],
        )
        for hostname, last_seen, sandbox in recent.values_list(
            "hostname", "last_seen", "sandbox_available"
        ):
            seconds = (now - last_seen).total_seconds()
            age.add_metric([hostname], seconds)
            if seconds <= stale_after.total_seconds():
                alive += 1
                grading += int(bool(sandbox))
        yield age
        yield GaugeMetricFamily(
            "skillmap_workers_alive",
            "Workers whose heartbeat is fresher than WORKER_STALE_AFTER_SECONDS.",
            value=alive,
        )
        yield GaugeMetricFamily(
            "skillmap_workers_grading_available",
            "Live workers whose sandbox can run code.",
            value=grading,
        )
