"""Shared fixtures: factories, a real Celery worker subprocess, Chromium for Playwright."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from tests.factories import StageFactory, TopicFactory, UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent

# pytester runs pytest on generated files (tests/config/test_suite_rules.py uses it).
pytest_plugins = ["pytester"]

# Playwright's sync API keeps an event loop running in the main thread from the first
# browser test to the end of the session, so every later test's ORM calls would be
# refused as "async-unsafe"; they are plain synchronous calls. Subprocesses the tests
# start get a clean environment (see child_env).
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
os.environ[ASYNC_UNSAFE] = "true"


# --- Suite rules: a time limit for ordinary tests; soak tests only on request ---------
TIME_LIMIT_MARKERS = ("slow", "soak")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "test_time_limit",
        "seconds a test without the slow or soak marker may take before it fails",
        default="60",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.when != "call" or not report.passed or hasattr(report, "wasxfail"):
        return report
    limit = float(item.config.getini("test_time_limit"))
    if call.duration > limit and not any(item.get_closest_marker(m) for m in TIME_LIMIT_MARKERS):
        report.outcome = "failed"
        report.longrepr = (
            f"took {call.duration:.1f} s; mark it slow or make it faster "
            f"(the limit without a slow or soak marker is {limit:g} s)"
        )
    return report


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak tests are collected (so counted) but skipped unless `-m` names them."""
    if re.search(r"\bsoak\b", config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run it with -m soak")
    for item in items:
        if item.get_closest_marker("soak"):
            item.add_marker(skip)


# Production hashes with Argon2 (~0.3 s per password, on purpose); the suite creates
# thousands of users, so it hashes with MD5 first. The configured hashers stay listed,
# so their hashes still verify. Subprocesses (Celery workers) keep the configured ones.
FAST_PASSWORD_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
CONFIGURED_PASSWORD_HASHERS = list(settings.PASSWORD_HASHERS)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=[FAST_PASSWORD_HASHER, *CONFIGURED_PASSWORD_HASHERS]):
        yield


@pytest.fixture
def production_password_hashers(settings: Any) -> list[str]:
    """Hash with the hashers production is configured with (Argon2), for tests about them."""
    settings.PASSWORD_HASHERS = CONFIGURED_PASSWORD_HASHERS
    return CONFIGURED_PASSWORD_HASHERS


def child_env(**extra: str) -> dict[str, str]:
    """The environment for processes started by tests, without test-only switches."""
    env = {k: v for k, v in os.environ.items() if k != ASYNC_UNSAFE}
    env.update(extra)
    return env


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def shared_database_url() -> str:
    """The URL of the database the tests run on, for subprocesses that must share it."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` in its own process group, sharing the test database."""

    def __init__(
        self,
        *,
        concurrency: int = 1,
        extra_env: dict[str, str] | None = None,
        prefix: list[str] | None = None,
        log_path: Path | None = None,
        hostname: str = "",
    ) -> None:
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        # A command to start the worker under, such as `ip netns exec NAME`.
        self.prefix = prefix or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = log_path or Path(settings.VAR_DIR) / f"test-worker-{os.getpid()}.log"
        self.hostname = hostname or f"test-{os.getpid()}-{time.monotonic_ns()}@%h"

    def start(self) -> WorkerProcess:
        env = child_env(
            **{
                "DATABASE_URL": shared_database_url(),
                "DEBUG": "true",
                "WORKER_HEARTBEAT_SECONDS": "1",
                **self.extra_env,
            }
        )
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                *self.prefix,
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "-Q", "default,grading", "--concurrency", str(self.concurrency),
                "--without-gossip", "--without-mingle", "--loglevel", "INFO",
                "--hostname", self.hostname,
            ],
            cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        # The tests need nothing finished at teardown: kill the whole group at once.
        self.kill(signal.SIGKILL)
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def start_worker(transactional_db: None) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker subprocesses; all are stopped at teardown."""
    from config.celery import app

    app.control.purge()
    started: list[WorkerProcess] = []

    def start(**kwargs: Any) -> WorkerProcess:
        worker = WorkerProcess(**kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# --- Brokers: the basic worker tests run on the suite's broker and on RabbitMQ --------------
# A vhost of its own keeps parallel runs on one RabbitMQ apart (e.g. amqp://guest:guest@
# 127.0.0.1:5672/skillmap_ci); the default is RabbitMQ's default vhost on this machine.
RABBITMQ_URL = os.environ.get("SKILLMAP_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


class Broker:
    """The broker a worker test runs on: ``env`` goes to the worker subprocess, and this
    test process sends its tasks there too."""

    def __init__(self, name: str, env: dict[str, str], *, redelivers_on_disconnect: bool):
        self.name = name
        self.env = env
        # RabbitMQ hands a dead consumer's unacknowledged message to the next consumer at
        # once; Redis waits for its visibility timeout, the folder broker has lost it.
        self.redelivers_on_disconnect = redelivers_on_disconnect


def rabbitmq_unreachable(url: str = RABBITMQ_URL) -> str | None:
    """Why RabbitMQ cannot be used, or None when a connection opens."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"RabbitMQ is unreachable at {url}: {type(exc).__name__}: {exc}"
    return None


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at another broker, and back afterwards."""
    from config.celery import app

    keys = ("broker_url", "broker_transport", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}

    def reset() -> None:
        from kombu import pools

        pools.reset()  # closes and forgets every pooled connection and producer
        app._pool = None
        app.amqp._producer_pool = None

    reset()
    app.conf.update(
        broker_url=url, broker_transport=None, broker_transport_options={"confirm_publish": True}
    )
    try:
        yield
    finally:
        reset()
        app.conf.update(saved)


@pytest.fixture(params=["suite", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """Parametrises a worker test: the suite's own broker, then RabbitMQ (skipped, with
    the reason, only when RabbitMQ cannot be reached)."""
    if request.param == "suite":
        amqp = bool(settings.CELERY_BROKER_URL.startswith("amqp"))
        yield Broker("suite", {}, redelivers_on_disconnect=amqp)
        return
    reason = rabbitmq_unreachable()
    if reason:
        pytest.skip(reason)
    with celery_broker(RABBITMQ_URL):
        from config.celery import app

        with app.connection_for_write() as conn:  # nothing left from an earlier run
            for queue in app.conf.task_queues:
                bound = queue(conn.default_channel)
                bound.declare()
                bound.purge()
        yield Broker("rabbitmq", {"CELERY_BROKER_URL": RABBITMQ_URL}, redelivers_on_disconnect=True)


@pytest.fixture
def roadmap(db: None) -> Any:
    """The real roadmap, loaded from fixtures/roadmap.yaml."""
    from quizzes.bank.roadmap import read_roadmap_file, roadmap_load

    roadmap_load(stages=read_roadmap_file(BASE_DIR / "fixtures/roadmap.yaml"))
    from quizzes.models import Stage

    return Stage.objects.all()


@pytest.fixture
def learner(db: None) -> Any:
    return UserFactory(role="learner")


@pytest.fixture
def instructor(db: None) -> Any:
    return UserFactory(role="instructor")


@pytest.fixture
def admin_user(db: None) -> Any:
    return UserFactory(role="admin")


@pytest.fixture
def stage(db: None) -> Any:
    return StageFactory()


@pytest.fixture
def topic(stage: Any) -> Any:
    return TopicFactory(stage=stage)


# --- Playwright on Debian's Chromium ---------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """On SQLite the ids of a rolled-back test's rows are handed out again, so one account
    id is every test's learner, and the rate limits, counted per account id in the shared
    file cache under var/, would add up across the run. Emptied before each test there;
    PostgreSQL never reuses an id."""
    if connection.vendor == "sqlite" and settings.CACHES["default"]["BACKEND"].endswith(
        "FileBasedCache"
    ):
        from django.core.cache import cache

        cache.clear()


@pytest.fixture
def private_cache(settings: Any) -> Any:
    """A per-test in-memory cache instead of the shared one under var/.

    Rate limits (allauth) live in the cache; with the shared file cache, one test's
    failed logins (or another test run's) would throttle the next. Use this in any
    test that logs in many times or asserts on throttling.
    """
    import uuid

    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }
    yield cache
    cache.clear()


# --- Processes that must keep serving -----------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, *, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


class HealthPoller:
    """Asks ``url`` every ``interval`` seconds from a thread; remembers every failure."""

    def __init__(self, url: str, *, interval: float = 0.05) -> None:
        self.url, self.interval = url, interval
        self.answered = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        self.answered += 1
                    else:
                        self.failures.append(f"{time.strftime('%X')} HTTP {response.status}")
            except OSError as exc:
                self.failures.append(f"{time.strftime('%X')} {exc!r}")
            self._stop.wait(self.interval)

    def __enter__(self) -> HealthPoller:
        wait_for(lambda: http_ok(self.url), timeout=60, what=f"{self.url} to answer")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def language_standing_in(language: Any) -> Iterator[Any]:
    """Register ``language`` for a test, then put back the registry as it was: the real
    runtime it replaced (same key), or nothing when there was none."""
    from quizzes.grading.languages import LANGUAGES, register, unregister

    previous = LANGUAGES.get(language.key)
    register(language)
    try:
        yield language
    finally:
        unregister(language.key)
        if previous is not None:
            register(previous)


@contextlib.contextmanager
def languages_only(*keys: str) -> Iterator[None]:
    """Only these languages registered for a test (a bank whose challenges have files for
    these only), the registry as it was afterwards."""
    from quizzes.grading.languages import LANGUAGES

    saved = dict(LANGUAGES)
    for key in [k for k in LANGUAGES if k not in keys]:
        del LANGUAGES[key]
    try:
        yield
    finally:
        LANGUAGES.clear()
        LANGUAGES.update(saved)
