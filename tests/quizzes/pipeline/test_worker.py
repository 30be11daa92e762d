"""The grading pipeline with a real Celery worker process, its broker and database:
QUEUED → GRADED, a worker killed mid-run, and a message lost from the broker."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptStatus,
    EventKind,
    QuizPool,
    Submission,
    SubmissionStatus,
)
from quizzes.pipeline.grading import submissions_sweep
from quizzes.pipeline.submissions import submission_create
from tests.conftest import Broker, wait_for
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = [pytest.mark.worker, pytest.mark.sandbox, pytest.mark.slow]

SLOW_RIGHT = "import time\n\ndef add(a, b):\n    time.sleep(0.6)\n    return a + b\n"


@pytest.fixture
def challenge(topic: Any) -> Any:
    [item] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    return item


def status_of(submission: Submission) -> str:
    return Submission.objects.get(pk=submission.pk).status


def test_a_submission_goes_from_queued_to_graded(
    start_worker: Any, broker: Broker, challenge: Any, learner: Any
) -> None:
    worker = start_worker(extra_env=broker.env)
    submission = submission_create(
        learner=learner,
        item_version=challenge.current_version,
        source="def add(a, b): return a + b",
    )
    assert submission.status == SubmissionStatus.QUEUED
    wait_for(
        lambda: status_of(submission) == "graded", timeout=60, what=f"grading\n{worker.log_text()}"
    )
    submission.refresh_from_db()
    assert submission.score == 1.0 and submission.attempt_count == 1
    if broker.name == "rabbitmq":  # the worker consumed from RabbitMQ, not the suite's broker
        from config.celery import app

        with app.connection_for_write() as conn:
            grading = conn.default_channel.queue_declare("grading", passive=True)
        assert grading.consumer_count >= 1


def test_a_killed_worker_loses_nothing_and_grades_once(
    start_worker: Any, broker: Broker, challenge: Any, learner: Any, topic: Any, settings: Any
) -> None:
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt_answer_save(attempt=attempt, position=1, answer={"code": SLOW_RIGHT}, revision=1)
    first = start_worker(extra_env={**broker.env, "GRADING_LEASE_SECONDS": "2"})
    attempt_submit(attempt=attempt)
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    wait_for(lambda: status_of(submission) == "running", timeout=60, what="the worker to claim it")
    first.kill(signal.SIGKILL)  # the whole process group, mid-run
    assert status_of(submission) == "running"
    wait_for(
        lambda: Submission.objects.get(pk=submission.pk).lease_expires_at < timezone.now(),
        timeout=10,
        what="the lease to expire",
    )
    start_worker(extra_env=broker.env)
    if broker.redelivers_on_disconnect:
        # RabbitMQ gave the dead worker's unacknowledged message to the new worker, which
        # takes the expired lease over: no sweep needed.
        wait_for(lambda: status_of(submission) == "graded", timeout=60, what="redelivery")
    else:
        # Redis would redeliver only after its visibility timeout; the sweeper does not wait.
        report = submissions_sweep()
        assert report.requeued_expired == [submission.pk]
        wait_for(lambda: status_of(submission) == "graded", timeout=60, what="regrading")
    submission.refresh_from_db()
    attempt.refresh_from_db()
    assert submission.score == 1.0
    assert submission.attempt_count == 2
    assert Submission.objects.filter(attempt_item__attempt=attempt).count() == 1
    assert attempt.status == AttemptStatus.GRADED
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.GRADED).count() == 1


def test_a_message_lost_by_the_broker_is_recovered_by_the_sweeper(
    start_worker: Any, challenge: Any, learner: Any, settings: Any
) -> None:
    settings.GRADING_REQUEUE_AFTER_SECONDS = 0
    # The row was committed but its message never reached the broker.
    submission = Submission.objects.create(
        learner=learner,
        item_version=challenge.current_version,
        source="def add(a, b): return a + b",
        enqueued_at=timezone.now(),
    )
    start_worker()
    assert status_of(submission) == "queued"
    report = submissions_sweep()
    assert report.requeued_stale == [submission.pk]
    wait_for(lambda: status_of(submission) == "graded", timeout=60, what="recovery")


def test_without_a_sandbox_submissions_wait_and_the_status_says_why(
    start_worker: Any, challenge: Any, learner: Any, client: Any
) -> None:
    from quizzes.models import WorkerHeartbeat

    start_worker(extra_env={"SKILLMAP_BWRAP_PATH": "/nonexistent/bwrap"})
    submission = submission_create(
        learner=learner,
        item_version=challenge.current_version,
        source="def add(a, b): return a + b",
    )
    wait_for(
        lambda: Submission.objects.filter(
            pk=submission.pk, error_reason__startswith="grading unavailable"
        ).exists(),
        timeout=60,
        what="the worker to see the sandbox is unavailable",
    )
    assert status_of(submission) == "queued"
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=30, what="a heartbeat")
    client.force_login(UserFactory(role="admin"))  # the per-worker detail is for operators
    body = client.get("/status/workers").json()
    assert body["grading_available"] is False
    assert "bwrap" in body["workers"][0]["sandbox"]["reason"]


def test_with_no_grader_alive_the_pages_say_so_and_the_work_is_graded_later(
    start_worker: Any, challenge: Any, learner: Any, topic: Any, client: Any
) -> None:
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    attempt = attempt_start(learner=learner, quiz=quiz)
    client.force_login(learner)
    page = client.get(f"/attempts/{attempt.pk}/").content.decode()
    assert "data-grading-unavailable" in page and "your code is saved" in page
    run = client.post(
        f"/api/attempts/{attempt.pk}/items/1/run",
        {"code": "def add(a, b): return a + b"},
        content_type="application/json",
    ).json()
    assert run["grading_unavailable"] is True and "your work is saved" in run["note"]
    attempt_answer_save(
        attempt=attempt, position=1, answer={"code": "def add(a, b): return a + b"}, revision=1
    )
    attempt_submit(attempt=attempt)
    result = client.get(f"/attempts/{attempt.pk}/result").content.decode()
    assert "Code grading is unavailable right now" in result
    final = Submission.objects.get(attempt_item__attempt=attempt, kind="submit")
    status = client.get(f"/api/submissions/{final.pk}").json()
    assert status["pending"] and status["grading_unavailable"] is True
    # A worker comes back: nothing was lost, everything is graded.
    worker = start_worker()
    wait_for(
        lambda: Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.GRADED,
        timeout=90,
        what=f"the attempt to be graded\n{worker.log_text()}",
    )
    status = client.get(f"/api/submissions/{final.pk}").json()
    assert status["status"] == "graded" and "grading_unavailable" not in status


def test_a_real_worker_gives_up_on_a_broken_challenge_after_bounded_tries(
    start_worker: Any, topic: Any, learner: Any, settings: Any
) -> None:
    from tests.samples import SQL

    [item] = load_sample_items(topic.stage, topic.slug, [SQL])
    version = item.current_version
    version.data["challenge"]["reference_solution"] = "SELECT owner, SUM(nope) FROM accounts"
    version.save(update_fields=["data"])
    submission = submission_create(
        learner=learner, item_version=version, source=SQL["challenge"]["reference_solution"]
    )
    worker = start_worker()
    wait_for(
        lambda: status_of(submission) == "error",
        timeout=120,
        what=f"the submission to be given up\n{worker.log_text()}",
    )
    submission.refresh_from_db()
    assert submission.attempt_count == settings.GRADING_MAX_ATTEMPTS + 1
    assert "repeatedly" in submission.error_reason


@pytest.mark.parametrize("content", [b"", b'{"body": "eyJ', b"\x00\xff garbage"])
def test_an_unreadable_message_file_is_set_aside_and_the_worker_keeps_grading(
    start_worker: Any, challenge: Any, learner: Any, settings: Any, content: bytes
) -> None:
    # The embedded broker's queue is a folder anyone can drop a file into: an empty
    # message (a writer caught mid-write, a full disk) used to stop the worker.
    if settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("the embedded (filesystem) broker only")
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    queue, corrupt = Path(options["data_folder_in"]), Path(options["corrupt_folder"])
    name = f"0_{uuid.uuid4()}.grading.msg"  # sorts first: read before any real message
    (queue / name).write_bytes(content)
    worker = start_worker()
    submission = submission_create(
        learner=learner,
        item_version=challenge.current_version,
        source="def add(a, b): return a + b",
    )
    wait_for(
        lambda: status_of(submission) == "graded", timeout=60, what=f"grading\n{worker.log_text()}"
    )
    assert worker.proc is not None and worker.proc.poll() is None
    assert (corrupt / name).read_bytes() == content
    assert not (queue / name).exists()
