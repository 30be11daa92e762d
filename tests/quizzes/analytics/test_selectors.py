"""Dashboard and item statistics: what they count, and when they may count it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from quizzes.analytics.selectors import _point_biserial, dashboard_for, item_statistics
from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import FeedbackMode, Item, QuizPool
from tests.factories import QuizFactory, UserFactory
from tests.samples import NUMERIC, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [TRUE_FALSE, NUMERIC])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=2, stage=topic.stage)
    return quiz


def take(quiz: Any, learner: Any, *, tf: bool, number: str) -> Any:
    attempt = attempt_start(learner=learner, quiz=quiz)
    for item in attempt.items.select_related("item_version__item"):
        kind = item.item_version.item.type
        answer = {"value": tf} if kind == "true_false" else {"value": number}
        attempt_answer_save(attempt=attempt, position=item.position, answer=answer, revision=1)
    return attempt_submit(attempt=attempt)


def stage_row(learner: Any, quiz: Any) -> dict[str, Any]:
    return next(r for r in dashboard_for(learner) if r["stage"].pk == quiz.stage_id)


def test_dashboard_counts_graded_items_by_stage_and_topic(quiz: Any, learner: Any) -> None:
    assert stage_row(learner, quiz)["mastery"] is None
    take(quiz, learner, tf=False, number="1")  # true/false right, numeric wrong
    row = stage_row(learner, quiz)
    assert row["mastery"] == 50 and row["best_quiz"] == 50
    assert row["topics"][0]["percent"] == 50


def test_dashboard_waits_for_the_feedback_setting(quiz: Any, learner: Any) -> None:
    quiz.feedback_mode = FeedbackMode.AFTER_CLOSE
    quiz.closes_at = timezone.now() + timedelta(days=1)
    quiz.save()
    take(quiz, learner, tf=False, number="200")
    assert stage_row(learner, quiz)["mastery"] is None  # nothing shows before the close
    quiz.closes_at = timezone.now() - timedelta(seconds=1)
    quiz.save()
    assert stage_row(learner, quiz)["mastery"] == 100


def test_item_statistics_facility_and_discrimination(quiz: Any) -> None:
    # Strong learners get both right, weak ones only the true/false item.
    for _ in range(3):
        take(quiz, UserFactory(), tf=False, number="200")
    for _ in range(3):
        take(quiz, UserFactory(), tf=False, number="7")
    rows = {r["item"].slug: r for r in item_statistics()}
    numeric, tf = rows["t-numeric"], rows["t-tf"]
    assert numeric["n"] == 6 and numeric["facility"] == 0.5
    assert numeric["discrimination"] == 1.0  # it separates strong from weak perfectly
    assert tf["facility"] == 1.0 and tf["discrimination"] is None  # no variance to correlate
    assert Item.objects.count() == len(rows)


def test_point_biserial_needs_three_answers_and_variance() -> None:
    assert _point_biserial([(1.0, 1.0), (0.0, 0.0)]) is None
    assert _point_biserial([(1.0, 0.9), (0.0, 0.2), (1.0, 0.8), (0.0, 0.1)]) == pytest.approx(
        0.99, abs=0.01
    )
    assert _point_biserial([(1.0, 0.1), (0.0, 0.9), (1.0, 0.2)]) < 0
