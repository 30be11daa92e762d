"""Stored skill estimates: from all graded evidence, per stage and topic, "not assessed"
without evidence, feedback timing respected, recomputed after a regrade (through the
request a grade writes and the drain task the attempts service sends) and after a
recalibration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from django.utils import timezone

from config.celery import app
from quizzes.analytics import skill as skill_module
from quizzes.analytics.selectors import skill_dashboard
from quizzes.analytics.skill import (
    skill_calibrate,
    skill_refresh,
    skill_update_learner,
    skill_updates_drain,
)
from quizzes.analytics.tasks import drain_updates, update_learner
from quizzes.assessments import services
from quizzes.assessments.services import (
    SKILL_DRAIN_TASK,
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
    SkillUpdateRequest,
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
    """Answer the first ``right`` items (in the bank's order, whatever the draw's) right and
    the rest wrong; submit. So a learner with more right answers got the same ones right
    and more."""
    attempt = attempt_start(learner=learner, quiz=quiz)
    items = attempt.items.select_related("item_version").order_by("item_version__item__slug")
    for n, item in enumerate(items):
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


@pytest.fixture
def sent(monkeypatch: Any) -> list[tuple[str, float | None]]:
    """The tasks sent, with their countdowns; the drain's coalescing window starts empty."""
    calls: list[tuple[str, float | None]] = []
    monkeypatch.setattr(
        current_app,
        "send_task",
        lambda name, args=None, countdown=None, **kw: calls.append((name, countdown)),
    )
    monkeypatch.setattr(services, "_drain_kicker", services._DrainKicker())
    return calls


def test_grading_requests_an_update_and_a_regrade_moves_the_estimate(
    bank: list[Item],
    learner: Any,
    instructor: Any,
    sent: list[tuple[str, float | None]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    quiz = stage_quiz(1)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = take(quiz, learner, right=3)
    assert SkillUpdateRequest.objects.filter(learner=learner).exists()
    assert sent == [(SKILL_DRAIN_TASK, None)]
    assert estimate(learner, 1) is None  # nothing computed before the drain runs
    assert drain_updates() == 1
    assert not SkillUpdateRequest.objects.exists()
    before = estimate(learner, 1)
    assert before is not None
    # The author finds a wrong key: flipping it turns one of the learner's wrong answers right.
    wrong = next(
        i
        for n, i in enumerate(
            attempt.items.select_related("item_version__item").order_by("item_version__item__slug")
        )
        if n >= 3
    )
    item = wrong.item_version.item
    source = dict(item.current_version.source)
    source["answer"] = not source["answer"]
    item = item_save_from_yaml(text=to_yaml(source), stage=item.stage, author=instructor, item=item)
    item.refresh_from_db()
    services._drain_kicker = services._DrainKicker()
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item_regrade(item=item, actor=instructor, version=item.current_version.number)
    assert sent == [(SKILL_DRAIN_TASK, None)]
    assert skill_updates_drain() == 1
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
    # Each calibrated item's RMSD fit is stored, for item statistics' poor-fit flag.
    assert all(r.fit is not None and 0 <= r.fit < 1 for r in rows)
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
    assert {
        SKILL_DRAIN_TASK,
        SKILL_UPDATE_TASK,
        "skillmap.skill.calibrate",
        "skillmap.skill.refresh",
    } <= set(app.tasks)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"skillmap.skill.calibrate", "skillmap.skill.refresh"} <= scheduled
    # They run on the default queue, never beside grading.
    for name in (SKILL_DRAIN_TASK, SKILL_UPDATE_TASK):
        assert app.amqp.router.route({}, name)["queue"].name == "default"


def test_the_update_task_of_earlier_releases_still_computes(bank: list[Item], learner: Any) -> None:
    take(stage_quiz(1), learner, right=4)
    update_learner(learner.pk)
    assert estimate(learner, 1) is not None


def test_a_burst_of_grades_sends_at_most_two_drains_per_window_and_the_drain_serves_all(
    bank: list[Item],
    sent: list[tuple[str, float | None]],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SKILL_DRAIN_COALESCE_SECONDS = 60.0
    quiz = stage_quiz(1)
    learners = [UserFactory(role="learner") for _ in range(4)]
    for n, person in enumerate(learners):
        with django_capture_on_commit_callbacks(execute=True):
            take(quiz, person, right=n + 1)
    # One at once; one more at the end of the window, for the requests made meanwhile.
    assert [name for name, _ in sent] == [SKILL_DRAIN_TASK, SKILL_DRAIN_TASK]
    assert sent[0][1] is None and sent[1][1] is not None and 0 < sent[1][1] <= 60
    assert SkillUpdateRequest.objects.count() == 4
    assert skill_updates_drain() == 4
    assert all(estimate(person, 1) is not None for person in learners)
    assert not SkillUpdateRequest.objects.exists()


def test_without_a_window_every_grade_sends_its_drain(
    bank: list[Item],
    sent: list[tuple[str, float | None]],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SKILL_DRAIN_COALESCE_SECONDS = 0
    quiz = stage_quiz(1)
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            take(quiz, UserFactory(role="learner"), right=n)
    assert sent == [(SKILL_DRAIN_TASK, None)] * 3


def test_a_grade_rolled_back_requests_nothing(
    bank: list[Item], learner: Any, sent: list[tuple[str, float | None]]
) -> None:
    from django.db import transaction

    quiz = stage_quiz(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        take(quiz, learner, right=2)
        raise RuntimeError("the request fails after grading")
    assert not SkillUpdateRequest.objects.exists()
    assert sent == []


def test_a_request_made_during_an_update_is_served_again(
    bank: list[Item], learner: Any, sent: list[tuple[str, float | None]], monkeypatch: Any
) -> None:
    take(stage_quiz(1), learner, right=2)
    updates: list[int] = []
    real = skill_module.skill_update_learner

    def update_while_graded_again(learner_id: int) -> None:
        updates.append(learner_id)
        if len(updates) == 1:  # another grade of this learner commits meanwhile
            SkillUpdateRequest.objects.filter(learner_id=learner_id).update(
                requested_at=timezone.now() + timedelta(seconds=1)
            )
        real(learner_id)

    monkeypatch.setattr(skill_module, "skill_update_learner", update_while_graded_again)
    assert skill_updates_drain() == 2
    assert updates == [learner.pk, learner.pk]
    assert not SkillUpdateRequest.objects.exists()


def test_a_failing_update_does_not_hold_up_the_others(
    bank: list[Item], sent: list[tuple[str, float | None]], monkeypatch: Any
) -> None:
    quiz = stage_quiz(1)
    broken, fine = UserFactory(role="learner"), UserFactory(role="learner")
    take(quiz, broken, right=1)
    take(quiz, fine, right=5)
    real = skill_module.skill_update_learner

    def update(learner_id: int) -> None:
        if learner_id == broken.pk:
            raise ValueError("no estimate for this one")
        real(learner_id)

    monkeypatch.setattr(skill_module, "skill_update_learner", update)
    assert skill_updates_drain() == 2
    assert estimate(fine, 1) is not None and estimate(broken, 1) is None
    assert not SkillUpdateRequest.objects.exists()


def test_a_drain_that_could_not_be_sent_leaves_the_request_for_the_refresh(
    bank: list[Item],
    learner: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    monkeypatch.setattr(services, "_drain_kicker", services._DrainKicker())
    with django_capture_on_commit_callbacks(execute=True):
        take(stage_quiz(1), learner, right=3)  # the learner's grade is stored all the same
    assert SkillUpdateRequest.objects.filter(learner=learner).exists()
    # The kicker forgot its window: the next grade sends again at once.
    assert services._drain_kicker.window_ends == 0.0
    # Long after the grade, the periodic refresh still serves the request.
    assert skill_refresh(window=timedelta(seconds=1)) >= 1
    assert estimate(learner, 1) is not None
    assert not SkillUpdateRequest.objects.exists()


def test_a_drain_that_reaches_its_limit_sends_another(
    bank: list[Item], sent: list[tuple[str, float | None]]
) -> None:
    quiz = stage_quiz(1)
    for n in range(3):
        take(quiz, UserFactory(role="learner"), right=n)
    sent.clear()
    assert skill_updates_drain(limit=2) == 2
    assert SkillUpdateRequest.objects.count() == 1
    assert [name for name, _ in sent] == [SKILL_DRAIN_TASK]
