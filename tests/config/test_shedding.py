"""Load shedding (config/shedding.py): when the connections waiting to be accepted would wait
too long, the server answers 503 with Retry-After at once and changes nothing; submits are
never shed.

The queue is real: a listening socket with client connections nobody accepted, which the
kernel reports through TCP_INFO exactly as it does for gunicorn's socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from config.shedding import accept_queue_depth, estimated_wait, listen_on
from quizzes.assessments.services import attempt_start
from quizzes.models import AttemptItem, AttemptStatus, QuizPool
from tests.conftest import wait_for
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting() -> Iterator[socket.socket]:
    """A registered listening socket with five connections waiting to be accepted (listed
    last by the tests: from here on, the server is "overloaded")."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    clients = [socket.create_connection(listener.getsockname(), timeout=5) for _ in range(5)]
    listen_on([listener], workers=1)  # and 20 ms per request until one is measured
    try:
        wait_for(lambda: accept_queue_depth() == 5, timeout=5, what="five queued connections")
        yield listener
    finally:
        listen_on([])
        for sock in clients:
            sock.close()
        listener.close()


@pytest.fixture
def attempt(topic: Any, learner: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, OBJECTIVE)
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=len(OBJECTIVE), stage=topic.stage)
    return attempt_start(learner=learner, quiz=quiz)


@pytest.fixture
def learner_client(learner: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def save(client: Client, attempt: Any, item: AttemptItem) -> Any:
    return client.put(
        f"/api/v1/attempts/{attempt.pk}/answers/{item.position}",
        {"answer": {"text": "while busy"}, "revision": 1},
        content_type="application/json",
    )


def short_text(attempt: Any) -> AttemptItem:
    return attempt.items.get(item_version__item__type="short_text")


def test_no_registered_socket_means_no_depth_and_no_shedding(
    learner_client: Client, attempt: Any, settings: Any
) -> None:
    settings.WEB_SHED_WAIT_MS = 1
    assert accept_queue_depth() is None and estimated_wait() is None
    assert save(learner_client, attempt, short_text(attempt)).status_code == 200


def test_a_long_queue_sheds_saves_and_pages_with_retry_after(
    learner_client: Client, attempt: Any, settings: Any, waiting: Any
) -> None:
    settings.WEB_SHED_WAIT_MS = 10  # five waiting, 20 ms each, one worker: 100 ms
    settings.WEB_SHED_RETRY_AFTER = 4
    assert estimated_wait() == pytest.approx(0.1)
    item = short_text(attempt)
    shed = save(learner_client, attempt, item)
    assert shed.status_code == 503
    # Come back once the queue can have drained: the setting plus the wait, rounded up.
    assert shed["Retry-After"] == "5"
    assert shed["Content-Type"] == "application/problem+json"
    body = shed.json()
    assert body["status"] == 503 and body["retry_after"] == 5
    assert "try again in 5 s" in body["detail"]
    item.refresh_from_db()
    assert item.answer is None and item.answer_revision == 0  # nothing changed
    page = learner_client.get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "reload this page in 5 s" in page.content.decode()
    # Health answers whatever the load.
    assert learner_client.get("/healthz").status_code == 200


def test_a_submit_is_never_shed(
    learner_client: Client, attempt: Any, settings: Any, waiting: Any
) -> None:
    settings.WEB_SHED_WAIT_MS = 1
    response = learner_client.post(f"/api/v1/attempts/{attempt.pk}/submit")
    assert response.status_code in (200, 202)
    attempt.refresh_from_db()
    assert attempt.status != AttemptStatus.IN_PROGRESS


def test_below_the_limit_or_switched_off_nothing_is_shed(
    learner_client: Client, attempt: Any, settings: Any, waiting: Any
) -> None:
    item = short_text(attempt)
    settings.WEB_SHED_WAIT_MS = 100_000  # far from it
    assert save(learner_client, attempt, item).status_code == 200
    settings.WEB_SHED_WAIT_MS = 0  # off
    assert learner_client.get(f"/attempts/{attempt.pk}/").status_code == 200
    item.refresh_from_db()
    assert item.answer == {"text": "while busy"}


def test_more_workers_drain_the_same_queue_sooner(
    learner_client: Client, attempt: Any, settings: Any, waiting: socket.socket
) -> None:
    settings.WEB_SHED_WAIT_MS = 50
    listen_on([waiting], workers=5)  # five waiting, 20 ms each, five workers: 20 ms
    assert save(learner_client, attempt, short_text(attempt)).status_code == 200
    listen_on([waiting], workers=1)  # one worker: 100 ms
    assert save(learner_client, attempt, short_text(attempt)).status_code == 503


def test_a_request_refused_before_may_wait_longer_and_no_more_than_that(
    learner_client: Client, attempt: Any, settings: Any, waiting: Any
) -> None:
    settings.WEB_SHED_WAIT_MS = 40  # five waiting, 20 ms each, one worker: 100 ms
    item = short_text(attempt)

    def save_after(refusals: str) -> int:
        response = learner_client.put(
            f"/api/v1/attempts/{attempt.pk}/answers/{item.position}",
            {"answer": {"text": "while busy"}, "revision": 1},
            content_type="application/json",
            headers={"X-Shed-Retries": refusals},
        )
        return int(response.status_code)

    # 100 ms is over 40 ms and over 2 times 40; not over 3 times 40.
    for refusals in ("", "0", "1", "-3", "2.0", "x", "٢", "99999"):
        assert save_after(refusals) == 503, refusals
    assert save_after("2") == 200
    item.refresh_from_db()
    assert item.answer == {"text": "while busy"}
    # However many refusals it claims, a request waits at most three times the limit.
    listen_on([waiting], workers=1)  # 20 ms per request again, as before the save served
    assert estimated_wait() == pytest.approx(0.1)
    settings.WEB_SHED_WAIT_MS = 33  # 3 times 33 = 99 ms < 100 ms
    assert save_after("3") == 503 and save_after("1000") == 503
