"""Chaos: learners submit code from several threads while the grading worker's whole process
group is SIGKILLed three times mid-grading. Every submission still ends GRADED, its result is
committed exactly once, and the web server answers /healthz throughout.

Runs on whatever the suite is configured with: SQLite and the embedded broker, or
PostgreSQL and Redis (DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q

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
from tests.conftest import (
    BASE_DIR,
    HealthPoller,
    WorkerProcess,
    child_env,
    free_port,
    shared_database_url,
    wait_for,
)
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = [pytest.mark.worker, pytest.mark.sandbox, pytest.mark.slow]

RIGHT = "def add(a, b):\n    return a + b\n"
PRODUCERS = 4
KILLS = 3
# Short enough that a killed worker's claims are taken over within seconds; the worker
# subprocesses get them through their environment, the sweeper (run here) from settings.
LEASE_SECONDS = 5
REQUEUE_AFTER_SECONDS = 20  # messages a killed worker had taken are sent again after this
MAX_ATTEMPTS = 10  # three kills must not turn a submission into an ERROR
SWEEP_EVERY = 1.0


@pytest.fixture
def web_server(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """A separate web server process on the test database; yields its base URL."""
    port = free_port()
    log = (tmp_path / "web.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR, env=child_env(DATABASE_URL=shared_database_url(), DEBUG="true"),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


class Producers:
    """Threads that each start, answer and submit attempts for their share of learners."""

    def __init__(self, quiz: Any, learners: list[Any]) -> None:
        self.quiz = quiz
        self.errors: list[str] = []
        self.threads = [
            threading.Thread(target=self._run, args=(learners[i::PRODUCERS],))
            for i in range(PRODUCERS)
        ]

    def _run(self, learners: list[Any]) -> None:
        try:
            for learner in learners:
                attempt = attempt_start(learner=learner, quiz=self.quiz)
                attempt_answer_save(attempt=attempt, position=1, answer={"code": RIGHT}, revision=1)
                attempt_submit(attempt=attempt)  # creates the submission (submission_create)
        except Exception as exc:
            self.errors.append(repr(exc))
            raise
        finally:
            connection.close()  # this thread's own connection

    def start(self) -> Producers:
        for thread in self.threads:
            thread.start()
        return self

    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self.threads)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=120)


class Chaos:
    """One step of the test's loop: sweep, and kill the worker when the time has come."""

    def __init__(self, start_worker: Any, count: int) -> None:
        self.start_worker = start_worker
        self.count = count
        self.worker: WorkerProcess = self.new_worker()
        self.kills = 0
        self.stranded: set[int] = set()  # RUNNING when their worker was killed
        self.swept_at = 0.0

    def new_worker(self) -> WorkerProcess:
        return self.start_worker(
            concurrency=2,
            extra_env={
                "GRADING_LEASE_SECONDS": str(LEASE_SECONDS),
                "GRADING_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            },
        )

    def graded(self) -> int:
        return Submission.objects.filter(status=SubmissionStatus.GRADED).count()

    def step(self, producers: Producers) -> bool:
        """True once every submission is graded; kills the worker three times on the way."""
        if time.monotonic() - self.swept_at >= SWEEP_EVERY:
            submissions_sweep()  # what beat does every GRADING_SWEEP_SECONDS
            self.swept_at = time.monotonic()
        graded = self.graded()
        # Spread the kills over the run: after a quarter, a half and three quarters.
        due = graded >= self.count * (self.kills + 1) // (KILLS + 1)
        if self.kills < KILLS and due:
            # Claimed by the live worker (not left over from the previous kill).
            running = (
                Submission.objects.filter(status=SubmissionStatus.RUNNING)
                .exclude(pk__in=self.stranded)
                .exists()
            )
            if running:
                self.worker.kill(signal.SIGKILL)  # the worker's whole process group
                self.kills += 1
                self.stranded |= set(
                    Submission.objects.filter(status=SubmissionStatus.RUNNING).values_list(
                        "pk", flat=True
                    )
                )
                self.worker = self.new_worker()
        return producers.done() and self.kills == KILLS and graded == self.count


@pytest.mark.parametrize(
    "count",
    [pytest.param(300, id="300"), pytest.param(2000, id="2000", marks=pytest.mark.soak)],
)
def test_every_submission_is_graded_once_while_workers_are_killed(
    count: int, start_worker: Any, web_server: str, topic: Any, settings: Any
) -> None:
    settings.GRADING_LEASE_SECONDS = LEASE_SECONDS
    settings.GRADING_REQUEUE_AFTER_SECONDS = REQUEUE_AFTER_SECONDS
    settings.GRADING_MAX_ATTEMPTS = MAX_ATTEMPTS
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    learners = UserFactory.create_batch(count)

    chaos = Chaos(start_worker, count)
    with HealthPoller(f"{web_server}/healthz") as health:
        producers = Producers(quiz, learners).start()
        try:
            wait_for(
                lambda: chaos.step(producers),
                timeout=count * 2.0,
                interval=0.2,
                what=f"every submission to be graded\n{chaos.worker.log_text()[-3000:]}",
            )
        finally:
            producers.join()

    assert producers.errors == []
    assert chaos.kills == KILLS
    # Every submission graded, right, and only once.
    assert Submission.objects.count() == count
    assert dict(Submission.objects.values_list("status").annotate(n=Count("pk"))) == {
        SubmissionStatus.GRADED: count
    }
    assert not Submission.objects.exclude(score=1.0).exists()
    # The kills caught submissions mid-grading, and those were taken over after their lease.
    assert chaos.stranded
    assert not Submission.objects.filter(pk__in=chaos.stranded, attempt_count__lt=2).exists()
    # One committed result per submission: the guarded write finishes its attempt exactly
    # once, logging GRADED; a second write would log REGRADED.
    attempts = Attempt.objects.filter(quiz=quiz)
    assert attempts.count() == count
    assert not attempts.exclude(status=AttemptStatus.GRADED).exists()
    per_attempt = attempts.annotate(
        graded=Count("events", filter=Q(events__kind=EventKind.GRADED)),
        regraded=Count("events", filter=Q(events__kind=EventKind.REGRADED)),
    )
    assert not per_attempt.exclude(graded=1, regraded=0).exists()
    assert AttemptEvent.objects.filter(kind=EventKind.GRADED).count() == count
    # The web server never noticed.
    assert health.failures == []
    assert health.answered > 0
