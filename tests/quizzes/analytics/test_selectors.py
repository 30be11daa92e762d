"""Dashboard and item statistics: what they count, and when they may count it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from quizzes.analytics.itemstats import item_statistics
from quizzes.analytics.selectors import StageSkill, skill_dashboard
from quizzes.analytics.skill import skill_update_learner
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


def stage_row(learner: Any, quiz: Any) -> StageSkill:
    skill_update_learner(learner.pk)
    return next(r for r in skill_dashboard(learner) if r.stage.pk == quiz.stage_id)


def test_dashboard_shows_an_estimate_with_a_band_from_graded_items(quiz: Any, learner: Any) -> None:
    assert not stage_row(learner, quiz).assessed  # not assessed, never a zero
    take(quiz, learner, tf=False, number="1")  # true/false right, numeric wrong
    row = stage_row(learner, quiz)
    assert row.assessed and row.n_answers == 2
    assert row.low is not None and row.high is not None and row.score is not None
    assert row.low < row.score < row.high
    assert row.topics[0].n_answers == 2
    assert row.percentile is None  # one learner is too few for a percentile


def test_dashboard_waits_for_the_feedback_setting(quiz: Any, learner: Any) -> None:
    quiz.feedback_mode = FeedbackMode.AFTER_CLOSE
    quiz.closes_at = timezone.now() + timedelta(days=1)
    quiz.save()
    take(quiz, learner, tf=False, number="200")
    assert not stage_row(learner, quiz).assessed  # nothing shows before the close
    quiz.closes_at = timezone.now() - timedelta(seconds=1)
    quiz.save()
    assert stage_row(learner, quiz).n_answers == 2


def test_percentile_appears_once_enough_learners_have_estimates(quiz: Any, settings: Any) -> None:
    settings.SKILL_PERCENTILE_MIN_LEARNERS = 4
    learners = [UserFactory(role="learner") for _ in range(4)]
    for n, learner in enumerate(learners):
        take(quiz, learner, tf=n >= 2, number="200" if n % 2 else "1")
        skill_update_learner(learner.pk)
    rows = [stage_row(learner, quiz) for learner in learners]
    assert all(r.percentile is not None for r in rows)
    best = max(rows, key=lambda r: r.theta or 0)
    worst = min(rows, key=lambda r: r.theta or 0)
    assert best.percentile == 75 and worst.percentile == 0


def test_item_statistics_facility_and_discrimination(quiz: Any) -> None:
    # Strong learners get both right, weak ones only the true/false item.
    for _ in range(3):
        take(quiz, UserFactory(), tf=False, number="200")
    for _ in range(3):
        take(quiz, UserFactory(), tf=False, number="7")
    rows = {r.item.slug: r for r in item_statistics()}
    numeric, tf = rows["t-numeric"], rows["t-tf"]
    assert numeric.n == 6 and numeric.facility == 0.5
    # Item-rest: the rest of each attempt is the true/false item, right for everyone, so
    # there is no variation to correlate with (the item itself is left out).
    assert numeric.discrimination is None
    assert tf.facility == 1.0 and tf.discrimination is None  # no variance to correlate
    assert Item.objects.count() == len(rows)
