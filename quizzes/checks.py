"""System checks run by manage.py (runserver, migrate, check): bad wiring fails early."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.core.checks import Error, register


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
