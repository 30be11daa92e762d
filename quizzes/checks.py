"""System checks run by manage.py (runserver, migrate, check): bad wiring fails early."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.core.checks import Error, register

from quizzes.grading.runner import max_worst_case_seconds


@register("skillmap")
def check_redis_reachable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not settings.REDIS_URL:
        return []
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return [
            Error(
                f"REDIS_URL {settings.REDIS_URL} is unreachable: {exc}",
                hint="Start Redis or fix REDIS_URL (unset it to use the embedded broker).",
                id="skillmap.E001",
            )
        ]
    return []


@register("skillmap")
def check_grading_time_limits(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The slowest grading must end (soft limit, then hard limit) before its lease does,
    or a second worker would take a row over while the first still runs it."""
    worst = max_worst_case_seconds()
    soft = settings.GRADING_TASK_SOFT_TIME_LIMIT
    hard = settings.GRADING_TASK_TIME_LIMIT
    lease = settings.GRADING_LEASE_SECONDS
    if worst <= soft < hard < lease:
        return []
    return [
        Error(
            f"Grading time limits are out of order: the slowest challenge takes up to "
            f"{worst:g} s, GRADING_TASK_SOFT_TIME_LIMIT is {soft:g} s, "
            f"GRADING_TASK_TIME_LIMIT is {hard:g} s and GRADING_LEASE_SECONDS is {lease:g} s.",
            hint=f"Set them so that {worst:g} ≤ soft limit < hard limit < lease.",
            id="skillmap.E002",
        )
    ]
