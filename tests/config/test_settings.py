"""The suite runs on the services it was pointed at, and bad configuration fails clearly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]


def test_database_vendor_matches_environment() -> None:
    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert connection.vendor == expected


def test_broker_matches_environment() -> None:
    from config.celery import app

    if os.environ.get("CELERY_BROKER_URL"):
        assert app.conf.broker_url == os.environ["CELERY_BROKER_URL"]
        assert app.conf.broker_transport is None
    elif os.environ.get("REDIS_URL"):
        assert app.conf.broker_url.startswith("redis://")
        assert app.conf.broker_transport is None
        assert app.conf.worker_enable_remote_control is True
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    else:
        assert app.conf.broker_url == "filesystem://"
        with app.connection_for_write() as conn:
            assert type(conn.transport).__module__ == "config.fsbroker"
        assert app.conf.worker_enable_remote_control is False
        folders = app.conf.broker_transport_options
        for key in (
            "data_folder_in", "data_folder_out", "processed_folder", "control_folder",
            "claim_folder", "corrupt_folder",
        ):  # fmt: skip
            assert Path(folders[key]).is_relative_to(settings.VAR_DIR)
        assert Path(app.conf.beat_schedule_filename).is_relative_to(settings.VAR_DIR)


def test_grading_queue_exists_and_tasks_route_to_it() -> None:
    from config.celery import app

    assert {q.name for q in app.conf.task_queues} >= {"default", "grading"}
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_reject_on_worker_lost is True


def routed_queue(task_name: str) -> str:
    """The queue Celery's own router picks for a task sent with no explicit queue."""
    from config.celery import app

    route = app.amqp.router.route({}, task_name)
    return str(route["queue"].name)


def test_celery_routes_grading_to_its_queue_and_everything_else_to_default() -> None:
    from config.celery import app
    from quizzes.pipeline import tasks

    app.loader.import_default_modules()  # as a worker does: every app's tasks registered
    assert routed_queue(tasks.grade_submission.name) == "grading"
    for task in (tasks.health_ping, tasks.sweep_submissions, tasks.autosubmit_attempts):
        assert routed_queue(task.name) == "default", task.name
    # Beat's schedule names tasks by string: each must exist and go to the default queue.
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
        assert routed_queue(entry["task"]) == "default", entry["task"]


@pytest.mark.django_db
def test_sqlite_is_configured_for_concurrent_processes() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["NAME"] != ":memory:"


def test_argon2_is_the_default_password_hasher() -> None:
    # The settings module as configured, not the suite's fast-hasher override.
    from config import settings as configured

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_the_suite_hashes_passwords_with_a_fast_hasher() -> None:
    from tests.factories import DEFAULT_PASSWORD, UserFactory

    assert settings.PASSWORD_HASHERS[0].endswith("MD5PasswordHasher")
    user = UserFactory()
    assert user.password.startswith("md5$")
    assert user.check_password(DEFAULT_PASSWORD)
    # Hashes made by the configured hashers still verify.
    assert check_password("pw-123456789", make_password("pw-123456789", hasher="argon2"))


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    from tests.conftest import child_env

    clean = {
        k: v
        for k, v in child_env().items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ENV_FILE"}
    }
    # A checkout's own .env (written by `make run`) must not mask what is tested here.
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "ENV_FILE": "", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY is not set"),
        ({"DEBUG": "true", "DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL must be"),
        ({"DEBUG": "true", "DATABASE_URL": "postgres://"}, "DATABASE_URL must name a host"),
        ({"DEBUG": "true", "REDIS_URL": "localhost:6379"}, "REDIS_URL must look like"),
        ({"DEBUG": "true", "CELERY_BROKER_URL": "kafka://k:9092"}, "CELERY_BROKER_URL must look"),
        ({"DEBUG": "true", "CELERY_BROKER_URL": "amqp://"}, "CELERY_BROKER_URL must look"),
        ({"DEBUG": "true", "ENV_FILE": "/nonexistent/.env"}, "ENV_FILE names no file"),
        ({"DEBUG": "true", "WORKER_NICE": "25"}, "WORKER_NICE must be from 0 to 19"),
        ({"DEBUG": "true", "WEB_SHED_WAIT_MS": "-1"}, "WEB_SHED_WAIT_MS must be 0 or more"),
    ],
)
def test_bad_configuration_is_one_clear_line(env: dict[str, str], message: str) -> None:
    result = run_manage("check", **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # RabbitMQ: publisher confirms, no visibility timeout; Redis stays the cache.
        (
            {"CELERY_BROKER_URL": "amqp://u:p@rabbit:5672/vh", "REDIS_URL": "redis://r:6379/1"},
            "amqp://u:p@rabbit:5672/vh {'confirm_publish': True} redis://r:6379/1",
        ),
        # Redis named as the broker only: the visibility timeout applies.
        (
            {"CELERY_BROKER_URL": "redis://r:6379/2", "CELERY_VISIBILITY_TIMEOUT": "900"},
            "redis://r:6379/2 {'visibility_timeout': 900} None",
        ),
        ({"REDIS_URL": "redis://r:6379/3"}, "redis://r:6379/3 {'visibility_timeout': 3600}"),
    ],
)
def test_the_broker_url_chooses_the_broker_and_its_options(
    env: dict[str, str], expected: str
) -> None:
    code = (
        "from django.conf import settings as s;"
        "print(s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS,"
        " s.REDIS_URL if 'CELERY_BROKER_URL' in __import__('os').environ else '')"
    )
    result = run_manage("shell", "--no-imports", "-c", code, DEBUG="true", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_unreachable_redis_is_reported_by_the_system_check() -> None:
    result = run_manage("check", DEBUG="true", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode != 0
    assert "REDIS_URL redis://127.0.0.1:1/0 is unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_mode_passes_the_deploy_checklist() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x7!kq2-long-and-random-enough-for-django-deploy-check-0123456789abcdef",
        ALLOWED_HOSTS="skillmap.example.com",
        CSRF_TRUSTED_ORIGINS="https://skillmap.example.com",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_mode_turns_on_https_protections() -> None:
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER, s.CSRF_TRUSTED_ORIGINS)"
    )
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DEBUG="false",
        SECRET_KEY="k" * 60,
        USE_X_FORWARDED_PROTO="true",
        CSRF_TRUSTED_ORIGINS="https://a.example,https://b.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True True True True ('HTTP_X_FORWARDED_PROTO', 'https') "
        "['https://a.example', 'https://b.example']"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRADING_LEASE_SECONDS", 120.0),  # shorter than the slowest SQL challenge (142 s)
        ("GRADING_TASK_SOFT_TIME_LIMIT", 100.0),
        ("GRADING_TASK_TIME_LIMIT", 140.0),  # not above the soft limit
    ],
)
def test_a_lease_shorter_than_the_slowest_grading_is_a_system_error(
    settings: Any, name: str, value: float
) -> None:
    from django.core.checks import run_checks

    assert not [e for e in run_checks(tags=["skillmap"]) if e.id == "skillmap.E002"]
    setattr(settings, name, value)
    [error] = [e for e in run_checks(tags=["skillmap"]) if e.id == "skillmap.E002"]
    assert "142 s" in error.msg and name in error.msg


SHOW_SETTINGS = "from django.conf import settings as s; print(s.SECRET_KEY, s.DEBUG)"


def run_copy(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` of a copy of the project whose ``config/`` (so BASE_DIR) is ``project``.

    The apps still come from the checkout; only the settings, and the .env beside them,
    are the copy's. No Skillmap setting comes from the test's own environment.
    """
    from tests.conftest import child_env

    clean = {
        k: v
        for k, v in child_env().items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ENV_FILE", "VAR_DIR"}
    }
    return subprocess.run(
        [sys.executable, str(project / "manage.py"), *args],
        cwd=project,
        env={**clean, "PYTHONPATH": str(BASE_DIR), "VAR_DIR": str(project / "var"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(BASE_DIR / "manage.py", tmp_path)
    shutil.copytree(
        BASE_DIR / "config", tmp_path / "config", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_a_dotenv_file_beside_the_project_provides_the_secret_key(project: Path) -> None:
    (project / ".env").write_text("# written by make run\nSECRET_KEY=key-from-the-dotenv-file\n")
    check = run_copy(project, "check")
    assert check.returncode == 0, check.stderr
    assert "System check identified no issues" in check.stdout
    shown = run_copy(project, "shell", "--no-imports", "-c", SHOW_SETTINGS)
    assert shown.stdout.strip() == "key-from-the-dotenv-file False"


def test_the_environment_wins_over_the_dotenv_file(project: Path) -> None:
    (project / ".env").write_text("DEBUG=true\nSECRET_KEY=key-from-the-dotenv-file\n")
    shown = run_copy(
        project,
        "shell",
        "--no-imports",
        "-c",
        SHOW_SETTINGS,
        SECRET_KEY="key-from-the-environment",
        DEBUG="false",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "key-from-the-environment False"


def test_without_a_dotenv_file_production_still_requires_a_secret_key(project: Path) -> None:
    result = run_copy(project, "check")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "skillmap: configuration error: SECRET_KEY is not set (required when DEBUG is off)"
    )
    (project / ".env").write_text("SECRET_KEY=key-from-the-dotenv-file\n")
    ignored = run_copy(project, "check", ENV_FILE="")  # an empty ENV_FILE reads no file
    assert ignored.returncode == 2
    assert "SECRET_KEY is not set" in ignored.stderr


def test_make_run_writes_a_private_dotenv_that_git_ignores(tmp_path: Path) -> None:
    for name in ("Makefile", ".gitignore", ".dockerignore"):
        shutil.copy(BASE_DIR / name, tmp_path)
    made = subprocess.run(
        ["make", "--no-print-directory", ".env"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    dotenv = tmp_path / ".env"
    lines = dotenv.read_text().splitlines()
    assert lines[0] == "DEBUG=true"
    assert lines[1].startswith("SECRET_KEY=") and len(lines[1]) > len("SECRET_KEY=") + 40
    assert dotenv.stat().st_mode & 0o077 == 0  # a secret: readable by its owner only
    first = dotenv.read_text()
    again = subprocess.run(["make", ".env"], cwd=tmp_path, capture_output=True, timeout=60)
    assert again.returncode == 0
    assert dotenv.read_text() == first  # an existing .env is never overwritten
    assert ".env" in (BASE_DIR / ".gitignore").read_text().splitlines()
    assert ".env" in (BASE_DIR / ".dockerignore").read_text().splitlines()  # never in images
