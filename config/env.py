"""Reading and validating the environment, so bad configuration fails with one clear line.

Everything Skillmap reads from the environment goes through here. A local ``.env`` file
(``make run`` writes one with ``DEBUG=true`` and a generated ``SECRET_KEY``) fills in what
the real environment does not set; the real environment always wins. Errors raise
``ConfigError``; ``manage.py``, ``wsgi.py`` and the Celery app print its message as a
single line and exit, instead of a traceback wall.
"""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured


class ConfigError(ImproperlyConfigured):
    """The environment holds a value Skillmap cannot run with."""


env = environ.Env()

SQLITE_SCHEMES = {"sqlite"}
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


def read_env_file(base_dir: Path) -> Path | None:
    """Load ``KEY=value`` lines from ``$ENV_FILE`` (default ``<base_dir>/.env``), if present.

    Variables already in the environment are kept: a file never overrides them. An empty
    ``ENV_FILE`` reads no file. Returns the file read, if any.
    """
    raw = os.environ.get("ENV_FILE")
    if raw == "":
        return None
    path = Path(raw) if raw else base_dir / ".env"
    if not path.is_file():
        if raw:
            raise ConfigError(f"ENV_FILE names no file: {raw!r}")
        return None
    environ.Env.read_env(path, overwrite=False)
    return path


def read_database_url(name: str, default: str) -> dict[str, Any]:
    """Parse ``name`` into a Django DATABASES entry; reject anything we do not support."""
    url = os.environ.get(name, default)
    scheme = urlsplit(url).scheme
    if scheme not in SQLITE_SCHEMES | POSTGRES_SCHEMES:
        raise ConfigError(
            f"{name} must be postgres://user:password@host:port/dbname or sqlite:///path, "
            f"got {url!r}"
        )
    if scheme in POSTGRES_SCHEMES:
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(f"{name} must name a host and a database, got {url!r}")
    try:
        config: dict[str, Any] = env.db_url_config(url)
        return config
    except Exception as exc:  # django-environ raises a mix of types for bad URLs
        raise ConfigError(f"{name} is malformed ({exc}): {url!r}") from exc


def read_redis_url(name: str) -> str | None:
    url = os.environ.get(name, "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in {"redis", "rediss"} or not urlsplit(url).hostname:
        raise ConfigError(f"{name} must look like redis://host:6379/0, got {url!r}")
    return url


BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp"}


def read_broker_url(name: str) -> str | None:
    """A Celery broker URL: Redis (``redis://``) or RabbitMQ (``amqp://``)."""
    url = os.environ.get(name, "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in BROKER_SCHEMES or not parts.hostname:
        raise ConfigError(
            f"{name} must look like amqp://user:pass@host:5672// or redis://host:6379/0, "
            f"got {url!r}"
        )
    return url


def read_networks(name: str, default: str) -> list[IPv4Network | IPv6Network]:
    """A comma-separated list of networks (``10.0.0.0/8,::1/128``); empty means none."""
    raw = os.environ.get(name, default)
    try:
        return [ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"{name} must be networks like 10.0.0.0/8,::1/128 ({exc})") from exc


def read_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).resolve() if raw else default


RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def read_rate(name: str, default: str) -> str:
    """A rate limit as DRF reads it: ``<count>/<s|min|hour|day>``, e.g. ``10/min``."""
    rate = os.environ.get(name, default).strip()
    if not RATE.match(rate) or int(rate.split("/")[0]) < 1:
        raise ConfigError(
            f"{name} must look like 10/min (a count per s, min, hour or day), got {rate!r}"
        )
    return rate


def read_positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return value
