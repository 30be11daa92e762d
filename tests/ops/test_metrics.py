"""/metrics: scraped like Prometheus does, parsed with Prometheus's own text parser, and the
counters move with real actions (requests, autosaves, attempts, the sweeper, and a graded
submission through a real worker, whose own exporter is scraped too)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from quizzes.assessments.services import attempt_start
from quizzes.models import (
    QuizPool,
    SkillUpdateRequest,
    Submission,
    SubmissionStatus,
    WorkerHeartbeat,
)
from quizzes.pipeline.grading import submissions_sweep
from quizzes.pipeline.submissions import submission_create
from tests.conftest import free_port, wait_for
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, TRUE_FALSE, load_sample_items

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, keyed by name and labels (Prometheus's own parser)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(client: Client, **extra: Any) -> Samples:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return parse(response.content.decode())


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [TRUE_FALSE, PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=2, stage=topic.stage)
    return quiz


def api_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


# --- access ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_metrics_are_refused_outside_the_allowed_networks_without_the_token(
    client: Client, settings: Any
) -> None:
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.content.decode()
    assert b"skillmap_" not in refused.content
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token", **outside)
    assert wrong.status_code == 403
    basic = client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-scrape-token", **outside)
    assert basic.status_code == 403
    samples = scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
    assert value(samples, "skillmap_database_up") == 1


@pytest.mark.django_db
def test_without_a_token_only_the_allowed_networks_are_served(
    client: Client, settings: Any
) -> None:
    from ipaddress import ip_network

    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = [ip_network("10.20.0.0/16")]
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403  # loopback
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="not-an-address").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_X_FORWARDED_FOR": "198.51.100.7"},
        {"HTTP_FORWARDED": "for=198.51.100.7"},
        {"HTTP_X_REAL_IP": "198.51.100.7"},
    ],
)
def test_through_a_reverse_proxy_on_loopback_only_the_token_opens_metrics(
    client: Client, settings: Any, header: dict[str, str]
) -> None:
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 200  # a direct scrape from loopback
    assert client.get("/metrics", **header).status_code == 403  # a visitor via the proxy
    scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **header)


def test_a_malformed_network_list_is_one_clear_line() -> None:
    from tests.config.test_settings import run_manage

    result = run_manage("check", DEBUG="true", METRICS_ALLOWED_NETWORKS="10.0.0.0/8,nonsense")
    assert result.returncode == 2
    assert "METRICS_ALLOWED_NETWORKS must be networks like" in result.stderr
    assert "Traceback" not in result.stderr


# --- counters that move -----------------------------------------------------------------------
@pytest.mark.django_db
def test_request_latency_is_recorded_by_view(client: Client) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)
    count = "skillmap_http_request_duration_seconds_count"
    healthz = {"view": "healthz", "method": "GET", "status": "200"}
    assert value(after, count, **healthz) - value(before, count, **healthz) == 3
    unresolved = {"view": "unresolved", "method": "GET", "status": "404"}
    assert value(after, count, **unresolved) - value(before, count, **unresolved) == 1
    # A histogram: the +Inf bucket holds every observation.
    bucket = "skillmap_http_request_duration_seconds_bucket"
    assert value(after, bucket, le="+Inf", **healthz) == value(after, count, **healthz)


@pytest.mark.django_db(transaction=True)
def test_attempts_and_autosaves_are_counted(quiz: Any, learner: Any) -> None:
    client = api_client(learner)
    before = scrape(client)
    started = client.post(f"/api/v1/quizzes/{quiz.slug}/attempts")
    assert started.status_code == 201
    body = started.json()
    tf = next(i for i in body["items"] if i["type"] == "true_false")
    url = f"/api/v1/attempts/{body['id']}/answers/{tf['position']}"
    put = {"content_type": "application/json"}
    assert client.put(url, {"answer": {"value": False}, "revision": 2}, **put).status_code == 200
    stale = client.put(url, {"answer": {"value": True}, "revision": 1}, **put)
    assert stale.json()["saved"] is False
    assert client.put(url, {"answer": {"value": "yes"}, "revision": 3}, **put).status_code == 400
    code = next(i for i in body["items"] if i["type"] == "code")
    code_url = f"/api/v1/attempts/{body['id']}/answers/{code['position']}"
    answer = {"code": "def add(a, b):\n    return a + b\n"}
    assert client.put(code_url, {"answer": answer, "revision": 1}, **put).status_code == 200
    assert client.post(f"/api/v1/attempts/{body['id']}/submit").status_code == 202
    closed = client.put(url, {"answer": {"value": True}, "revision": 4}, **put)
    assert closed.status_code == 409
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("skillmap_attempts_started_total") == 1
    assert moved("skillmap_attempts_submitted_total", trigger="learner") == 1
    assert moved("skillmap_autosaves_total", result="saved") == 2
    assert moved("skillmap_autosaves_total", result="stale") == 1
    assert moved("skillmap_autosave_failures_total", reason="invalid") == 1
    assert moved("skillmap_autosave_failures_total", reason="closed") == 1
    assert moved("skillmap_submissions_created_total", kind="submit") == 1
    save = {"view": "api-attempt-answer", "method": "PUT"}
    assert moved("skillmap_http_request_duration_seconds_count", status="409", **save) == 1


@pytest.mark.django_db(transaction=True)
def test_queue_depth_and_sweeper_recoveries(client: Client, topic: Any, settings: Any) -> None:
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    version = challenge.current_version
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 1
    learner = UserFactory()
    sent = submission_create(learner=learner, item_version=version, source="x")
    submission_create(learner=learner, item_version=version, source="y")  # held behind the cap
    stuck = submission_create(learner=UserFactory(), item_version=version, source="z")
    long_ago = timezone.now() - timedelta(minutes=5)
    Submission.objects.filter(pk=sent.pk).update(created_at=long_ago)
    Submission.objects.filter(pk=stuck.pk).update(
        status=SubmissionStatus.RUNNING, attempt_count=1, lease_expires_at=long_ago
    )
    samples = scrape(client)
    depth = "skillmap_grading_queue_depth"
    assert value(samples, depth, state="queued") == 1
    assert value(samples, depth, state="held") == 1
    assert value(samples, depth, state="running") == 1
    assert value(samples, "skillmap_grading_stuck") == 1
    assert value(samples, "skillmap_grading_oldest_queued_age_seconds") >= 299
    assert value(samples, "skillmap_workers_alive") == 0

    report = submissions_sweep()
    assert report.requeued_expired == [stuck.pk]
    after = scrape(client)
    recoveries = "skillmap_sweeper_recoveries_total"
    assert (
        value(after, recoveries, kind="expired_lease")
        - value(samples, recoveries, kind="expired_lease")
        == 1
    )
    assert value(after, depth, state="queued") == 2
    assert value(after, "skillmap_grading_stuck") == 0


@pytest.mark.django_db
def test_skill_updates_waiting_for_their_drain(client: Client) -> None:
    samples = scrape(client)
    assert value(samples, "skillmap_skill_updates_pending") == 0
    assert value(samples, "skillmap_skill_update_oldest_request_age_seconds") == 0
    now = timezone.now()
    for minutes in (20, 1):
        SkillUpdateRequest.objects.create(
            learner=UserFactory(), requested_at=now - timedelta(minutes=minutes)
        )
    samples = scrape(client)
    assert value(samples, "skillmap_skill_updates_pending") == 2
    assert 1199 <= value(samples, "skillmap_skill_update_oldest_request_age_seconds") < 1300


# --- a real worker, and its own exporter ------------------------------------------------------
def fetch(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


@pytest.mark.worker
@pytest.mark.sandbox
@pytest.mark.slow
def test_a_graded_submission_moves_the_worker_and_web_metrics(
    start_worker: Any, quiz: Any, learner: Any
) -> None:
    port = free_port()
    # The worker's exporter is guarded like /metrics: here loopback is not an allowed
    # network, so only the token opens it.
    worker = start_worker(
        extra_env={
            "WORKER_METRICS_PORT": str(port),
            "METRICS_TOKEN": "worker-token",
            "METRICS_ALLOWED_NETWORKS": "192.0.2.0/24",
        }
    )
    worker_url = f"http://127.0.0.1:{port}/metrics"
    token = {"Authorization": "Bearer worker-token"}
    wait_for(lambda: fetch(worker_url, **token)[0] == 200, timeout=60,
             what=f"the worker's exporter\n{worker.log_text()[-3000:]}")  # fmt: skip
    assert fetch(worker_url)[0] == 403
    assert fetch(worker_url, Authorization="Bearer wrong")[0] == 403
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=30, what="a heartbeat")
    client = api_client(learner)
    web_before = scrape(client)
    worker_before = parse(fetch(worker_url, **token)[1])

    attempt = attempt_start(learner=learner, quiz=quiz)
    code = attempt.items.get(item_version__item__slug=PYTHON["slug"])
    saved = client.put(
        f"/api/v1/attempts/{attempt.pk}/answers/{code.position}",
        {"answer": {"code": "def add(a, b):\n    return a + b\n"}, "revision": 1},
        content_type="application/json",
    )
    assert saved.status_code == 200
    assert client.post(f"/api/v1/attempts/{attempt.pk}/submit").status_code == 202
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    wait_for(
        lambda: Submission.objects.get(pk=submission.pk).status == SubmissionStatus.GRADED,
        timeout=60,
        what=f"grading\n{worker.log_text()[-3000:]}",
    )
    # The worker counts after its commit: poll its exporter until the run shows.
    runs = "skillmap_grading_runs_total"

    def worker_moved() -> Samples | None:
        samples = parse(fetch(worker_url, **token)[1])
        graded = value(samples, runs, outcome="graded") - value(
            worker_before, runs, outcome="graded"
        )
        return samples if graded == 1 else None

    worker_after = wait_for(worker_moved, timeout=15, what="the worker's grading counter")

    def moved(name: str, **labels: str) -> float:
        return value(worker_after, name, **labels) - value(worker_before, name, **labels)

    assert moved("skillmap_grading_claim_to_graded_seconds_count") == 1
    assert moved("skillmap_grading_claim_to_graded_seconds_sum") > 0
    assert moved("skillmap_sandbox_runs_total", status="graded") == 1
    assert moved("skillmap_sandbox_test_outcomes_total", category="passed") == len(
        PYTHON["challenge"]["tests"]
    )
    assert moved(runs, outcome="not-claimed") == 0
    heartbeat = value(worker_after, "skillmap_worker_last_heartbeat_timestamp_seconds")
    assert time.time() - heartbeat < 30
    assert value(worker_after, "skillmap_worker_sandbox_available") == 1

    web_after = scrape(client)
    assert value(web_after, "skillmap_workers_alive") >= 1
    assert value(web_after, "skillmap_workers_grading_available") >= 1
    assert value(web_after, "skillmap_grading_queue_depth", state="queued") == 0
    assert value(web_after, "skillmap_grading_queue_depth", state="running") == 0
    submitted = "skillmap_attempts_submitted_total"
    assert (
        value(web_after, submitted, trigger="learner")
        - value(web_before, submitted, trigger="learner")
        == 1
    )
