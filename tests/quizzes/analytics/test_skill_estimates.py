"""Stored skill estimates: from all graded evidence, per stage and topic, "not assessed"
without evidence, feedback timing respected, recomputed after a regrade (through the
task the attempts service sends) and after a recalibration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from django.utils import timezone

from config.celery import app
from quizzes.analytics.selectors import skill_dashboard
from quizzes.analytics.skill import skill_calibrate, skill_refresh, skill_update_learner
from quizzes.analytics.tasks import update_learner
from quizzes.assessments.services import (
    SKILL_UPDATE_TASK,
    attempt_answer_save,
    attempt_start,
    attempt_submit,
    item_regrade,
)
from quizzes.bank.authoring import item_save_from_yaml, to_yaml
from quizzes.models import (
    FeedbackMode,
    Item,
    ItemCalibration,
    Quiz,
    QuizKind,
    QuizPool,
    QuizStatus,
    SkillEstimate,
    SkillHistory,
    Stage,
)
from tests.factories import UserFactory
from tests.samples import load_true_false_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(roadmap: Any) -> list[Item]:
    return load_true_false_bank(roadmap.filter(number__in=[1, 2]), per_stage=6)


def stage_quiz(number: int, **extra: Any) -> Quiz:
    stage = Stage.objects.get(number=number)
    quiz = Quiz.objects.create(
        slug=f"q-{number}-{Quiz.objects.count()}",
        title=f"Stage {number}",
        kind=QuizKind.STAGE,
        stage=stage,
        status=QuizStatus.PUBLISHED,
        **extra,
    )
    QuizPool.objects.create(quiz=quiz, count=6, stage=stage)
    return quiz


def take(quiz: Quiz, learner: Any, *, right: int) -> Any:
    """Answer the first ``right`` items right and the rest wrong; submit."""
    attempt = attempt_start(learner=learner, quiz=quiz)
    for n, item in enumerate(attempt.items.select_related("item_version").order_by("position")):
        key = item.item_version.data["answer"]
        attempt_answer_save(
            attempt=attempt,
            position=item.position,
            answer={"value": key if n < right else not key},
            revision=1,
        )
    return attempt_submit(attempt=attempt)


def estimate(learner: Any, number: int) -> SkillEstimate | None:
    return SkillEstimate.objects.filter(
        learner=learner, stage__number=number, topic__isnull=True
    ).first()


def test_no_evidence_means_no_estimate(bank: list[Item], learner: Any) -> None:
    skill_update_learner(learner.pk)
    assert not SkillEstimate.objects.filter(learner=learner).exists()


def test_a_graded_stage_quiz_gives_that_stage_an_estimate_only(
    bank: list[Item], learner: Any
) -> None:
    take(stage_quiz(1), learner, right=6)
    skill_update_learner(learner.pk)
    first = estimate(learner, 1)
    assert first is not None and first.n_answers == 6 and first.theta > 0
    assert estimate(learner, 2) is None  # not assessed, never a zero
    assert SkillEstimate.objects.filter(learner=learner, topic__isnull=False).count() == 1
    assert SkillHistory.objects.filter(learner=learner, stage__number=1).count() == 1


def test_more_right_answers_give_a_higher_estimate(bank: list[Item]) -> None:
    quiz = stage_quiz(1)
    thetas = []
    for right in (1, 3, 5):
        learner = UserFactory(role="learner")
        take(quiz, learner, right=right)
        skill_update_learner(learner.pk)
        found = estimate(learner, 1)
        assert found is not None
        thetas.append(found.theta)
    assert thetas == sorted(thetas) and len(set(thetas)) == 3


def test_after_close_answers_count_once_the_quiz_closes(bank: list[Item], learner: Any) -> None:
    closes = timezone.now() + timedelta(hours=1)
    quiz = stage_quiz(1, feedback_mode=FeedbackMode.AFTER_CLOSE, closes_at=closes)
    take(quiz, learner, right=6)
    skill_update_learner(learner.pk)
    assert estimate(learner, 1) is None  # the feedback is not out yet
    Quiz.objects.filter(pk=quiz.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert skill_refresh(window=timedelta(minutes=10)) >= 1
    assert estimate(learner, 1) is not None


def test_grading_sends_the_update_task_and_a_regrade_moves_the_estimate(
    bank: list[Item],
    learner: Any,
    instructor: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args, **kw: sent.append((name, args))
    )
    quiz = stage_quiz(1)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = take(quiz, learner, right=3)
    assert (SKILL_UPDATE_TASK, (learner.pk,)) in sent
    update_learner(learner.pk)
    before = estimate(learner, 1)
    assert before is not None
    # The author finds a wrong key: flipping it turns one of the learner's wrong answers right.
    wrong = next(
        i
        for n, i in enumerate(
            attempt.items.select_related("item_version__item").order_by("position")
        )
        if n >= 3
    )
    item = wrong.item_version.item
    source = dict(item.current_version.source)
    source["answer"] = not source["answer"]
    item = item_save_from_yaml(text=to_yaml(source), stage=item.stage, author=instructor, item=item)
    item.refresh_from_db()
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item_regrade(item=item, actor=instructor, version=item.current_version.number)
    assert (SKILL_UPDATE_TASK, (learner.pk,)) in sent
    update_learner(learner.pk)
    after = estimate(learner, 1)
    assert after is not None and after.theta > before.theta


def test_calibration_stores_parameters_and_recomputes_estimates(
    bank: list[Item], settings: Any
) -> None:
    settings.SKILL_MIN_RESPONSES = 10
    quiz = stage_quiz(1)
    learners = [UserFactory(role="learner") for _ in range(24)]
    for n, learner in enumerate(learners):
        take(quiz, learner, right=n % 7)
        skill_update_learner(learner.pk)
    before = {p.pk: estimate(p, 1).theta for p in learners}  # type: ignore[union-attr]
    report = skill_calibrate()
    assert report.items_calibrated == 6 and report.responses == 24 * 6
    rows = ItemCalibration.objects.filter(calibrated=True)
    assert rows.count() == 6 and all(r.n_responses == 24 for r in rows)
    after = {p.pk: estimate(p, 1).theta for p in learners}  # type: ignore[union-attr]
    assert report.learners_updated == 24
    stages = skill_dashboard(learners[0])
    assert not stages[0].provisional and stages[1].provisional
    assert after != before
    # Order is kept: more right answers, higher estimate.
    ranked = sorted(learners, key=lambda person: after[person.pk])
    assert [learners.index(p) % 7 for p in ranked] == sorted(learners.index(p) % 7 for p in ranked)


def test_the_skill_tasks_are_registered_and_scheduled(settings: Any) -> None:
    app.loader.import_default_modules()
    assert {SKILL_UPDATE_TASK, "skillmap.skill.calibrate", "skillmap.skill.refresh"} <= set(
        app.tasks
    )
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"skillmap.skill.calibrate", "skillmap.skill.refresh"} <= scheduled
    # They run on the default queue, never beside grading.
    assert app.amqp.router.route({}, SKILL_UPDATE_TASK)["queue"].name == "default"
