from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import wait_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_is_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


def test_readyz_is_503_with_a_reason_when_the_broker_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    # The embedded default names its transport, which would win over the URL's scheme.
    monkeypatch.setitem(app.conf, "broker_transport", None)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["problems"][0]["component"] == "broker"
    assert "refused" in body["problems"][0]["reason"].lower()


def test_worker_status_is_503_without_workers(client: Client) -> None:
    response = client.get("/status/workers")
    assert response.status_code == 503
    assert response.json() == {"alive": False, "grading_available": False, "languages": []}


def test_home_lists_every_stage_and_topic(client: Client, roadmap: Any) -> None:
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="stage-card"') == 11
    assert "Event-driven architecture" in html
    assert "Profile before you optimize" in html
    assert "content-security-policy" in {k.lower() for k in response.headers}


@pytest.mark.worker
@pytest.mark.slow
def test_health_task_round_trip_through_a_real_worker(start_worker: Any, client: Client) -> None:
    from quizzes.models import WorkerHeartbeat
    from quizzes.pipeline.tasks import health_ping

    worker = start_worker()
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=60, what="worker heartbeat")
    health_ping.delay()
    beat = wait_for(
        lambda: WorkerHeartbeat.objects.filter(health_ping_at__isnull=False).first(),
        timeout=60,
        what="health ping",
    )
    client.force_login(UserFactory(role="admin"))  # the per-worker detail is for operators
    status = client.get("/status/workers")
    assert status.status_code == 200, worker.log_text()
    body = status.json()
    assert body["alive"] is True
    [seen] = [w for w in body["workers"] if w["hostname"] == beat.hostname]
    assert seen["health_ping_at"] is not None
    assert set(seen["queues"]) == {"default", "grading"}
