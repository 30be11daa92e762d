"""Double clicks and two tabs, for real: concurrent requests start and submit once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.models import HELD, IN_FLIGHT, Attempt, AttemptEvent, EventKind, QuizPool, Submission
from quizzes.pipeline import submissions
from quizzes.pipeline.submissions import submission_create
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, OBJECTIVE)
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=7, stage=topic.stage)
    return quiz


def race(action: Callable[[], Any], times: int = 4) -> list[Any]:
    """Run ``action`` in several threads released at the same moment."""
    barrier = threading.Barrier(times)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(action())
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_starts_open_one_attempt(quiz: Any, learner: Any) -> None:
    results = race(lambda: attempt_start(learner=learner, quiz=quiz).pk)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Attempt.objects.filter(learner=learner, quiz=quiz).count() == 1


def test_concurrent_submits_submit_once(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    results = race(lambda: attempt_submit(attempt=Attempt(pk=attempt.pk)).submitted_at)
    assert all(not isinstance(r, Exception) for r in results), results
    assert len(set(results)) == 1
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SUBMITTED).count() == 1
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.GRADED).count() == 1


def test_concurrent_submissions_of_one_learner_never_exceed_the_cap(
    topic: Any, learner: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 2
    [item] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    sent: list[int] = []
    monkeypatch.setattr(submissions, "_send", sent.append)
    results = race(
        lambda: (
            submission_create(learner=learner, item_version=item.current_version, source="x = 1").pk
        ),
        times=6,
    )
    assert all(isinstance(r, int) for r in results), results
    assert Submission.objects.filter(IN_FLIGHT, learner=learner).count() == 2
    assert Submission.objects.filter(HELD, learner=learner).count() == 4
    assert len(sent) == 2
