from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from quizzes.assessments.feedback import feedback_due
from quizzes.assessments.services import (
    AttemptClosed,
    AttemptError,
    attempt_answer_save,
    attempt_examples_run,
    attempt_item_check,
    attempt_start,
    attempt_submit,
    attempts_autosubmit_expired,
)
from quizzes.models import (
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
    EventKind,
    FeedbackMode,
    QuizPool,
    Submission,
)
from tests.factories import QuizFactory, UserFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items, right_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(
        quiz=quiz, position=0, count=7, stage=topic.stage, item_types=[s["type"] for s in OBJECTIVE]
    )
    QuizPool.objects.create(quiz=quiz, position=1, count=1, stage=topic.stage, item_types=["code"])
    return quiz


def correct_answer(item: AttemptItem) -> dict[str, Any]:
    """The right answer, as a browser would send it; short text typed loosely."""
    answer = right_answer(item)
    if item.item_version.item.type == "short_text":
        return {"text": "  retry-AFTER "}  # case and whitespace do not matter
    if item.item_version.item.type == "code":
        return {"code": "def add(a, b):\n    return a + b\n"}
    return answer


def test_start_draws_pins_and_resumes(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    items = list(attempt.items.select_related("item_version__item"))
    assert len(items) == 8
    assert items[-1].item_version.item.type == "code"  # challenges come last
    assert attempt.max_score == Decimal(7 + 10)
    # A double click (or a second tab) resumes the same attempt.
    assert attempt_start(learner=learner, quiz=quiz).pk == attempt.pk
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.STARTED).count() == 1


def test_choice_tokens_are_opaque_and_ordering_is_not_given_away(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    for item in attempt.items.all():
        for token, ident in item.layout.get("choices", []):
            assert ident not in token and len(token) >= 10
        if "sequence" in item.layout:
            ids = [ident for _, ident in item.layout["sequence"]]
            assert ids != sorted(ids)  # never shown in the key's order


def test_attempt_limit_is_enforced_and_changes_nothing(quiz: Any, learner: Any) -> None:
    quiz.max_attempts = 1
    quiz.save()
    attempt_submit(attempt=attempt_start(learner=learner, quiz=quiz))
    with pytest.raises(AttemptError, match="used all 1 attempts"):
        attempt_start(learner=learner, quiz=quiz)
    assert quiz.attempts.count() == 1


def test_full_marks_for_correct_answers(
    quiz: Any, learner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    for item in attempt.items.select_related("item_version__item"):
        attempt_answer_save(
            attempt=attempt, position=item.position, answer=correct_answer(item), revision=1
        )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attempt = attempt_submit(attempt=attempt)
    assert attempt.status == AttemptStatus.SUBMITTED  # the code is still being graded
    assert len(callbacks) == 1  # one grading task, enqueued only after commit
    objective = attempt.items.exclude(item_version__item__type="code")
    assert all(i.score == i.max_score and i.is_correct for i in objective)
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    assert submission.status == "queued"


def test_wrong_and_partial_answers(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    by_type = {
        i.item_version.item.type: i for i in attempt.items.select_related("item_version__item")
    }
    multi = by_type["multiple_choice"]
    token = {ident: tok for tok, ident in multi.layout["choices"]}
    # One right pick of two, no wrong pick: half credit.
    attempt_answer_save(
        attempt=attempt, position=multi.position, answer={"choices": [token["c1"]]}, revision=1
    )
    numeric = by_type["numeric"]
    attempt_answer_save(
        attempt=attempt, position=numeric.position, answer={"value": "201"}, revision=1
    )
    attempt = attempt_submit(attempt=attempt)
    multi.refresh_from_db()
    numeric.refresh_from_db()
    assert multi.score == Decimal("0.50") and multi.is_correct is False
    assert numeric.score == 0
    # Unanswered code scores zero at once: nothing to grade, the attempt is complete.
    assert attempt.status == AttemptStatus.GRADED
    assert attempt.score == Decimal("0.50")
    assert attempt.passed is False


def test_out_of_order_save_never_overwrites_a_newer_answer(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type="short_text")
    assert attempt_answer_save(
        attempt=attempt, position=item.position, answer={"text": "new"}, revision=2
    ).saved
    late = attempt_answer_save(
        attempt=attempt, position=item.position, answer={"text": "old"}, revision=1
    )
    assert not late.saved and late.revision == 2
    item.refresh_from_db()
    assert item.answer == {"text": "new"}


@pytest.mark.parametrize(
    ("kind", "answer", "message"),
    [
        ("single_choice", {"choice": "c1"}, "not one of this question's options"),
        ("numeric", {"value": "twelve"}, "Enter a number"),
        ("short_text", {"text": "x" * 1001}, "at most 1000"),
        ("ordering", {"order": ["a"]}, "each once"),
        ("true_false", {"value": "yes"}, "true or false"),
        ("code", {"code": "x" * (65 * 1024)}, "at most 64 KiB"),
    ],
)
def test_malformed_answers_are_refused_and_change_nothing(
    quiz: Any, learner: Any, kind: str, answer: dict[str, Any], message: str
) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type=kind)
    with pytest.raises(AttemptError, match=message):
        attempt_answer_save(attempt=attempt, position=item.position, answer=answer, revision=1)
    item.refresh_from_db()
    assert item.answer is None and item.answer_revision == 0
    assert not AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SAVED).exists()


def test_saves_after_the_deadline_are_refused_and_logged(
    quiz: Any, learner: Any, settings: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 5
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type="short_text")
    attempt_answer_save(
        attempt=attempt, position=item.position, answer={"text": "in time"}, revision=1
    )
    attempt.deadline = timezone.now() - timedelta(seconds=10)
    attempt.save()
    with pytest.raises(AttemptClosed, match="time limit has passed"):
        attempt_answer_save(
            attempt=attempt, position=item.position, answer={"text": "late"}, revision=2
        )
    item.refresh_from_db()
    assert item.answer == {"text": "in time"}
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SAVE_REJECTED).count() == 1


def test_running_examples_follows_the_deadline_like_saves(
    quiz: Any, learner: Any, settings: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 5
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type="code")
    run = attempt_examples_run(attempt=attempt, position=item.position, code="x = 1")
    assert run.kind == "run_examples" and run.attempt_item_id == item.pk
    attempt.deadline = timezone.now() - timedelta(seconds=10)
    attempt.save()
    with pytest.raises(AttemptClosed, match="time limit has passed; the examples were not run"):
        attempt_examples_run(attempt=attempt, position=item.position, code="x = 2")
    assert list(Submission.objects.all()) == [run]
    item.refresh_from_db()
    assert item.answer is None  # running examples never saves the code


def test_saves_within_the_grace_period_are_accepted(quiz: Any, learner: Any, settings: Any) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 30
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt.deadline = timezone.now() - timedelta(seconds=2)
    attempt.save()
    item = attempt.items.get(item_version__item__type="short_text")
    assert attempt_answer_save(
        attempt=attempt, position=item.position, answer={"text": "ok"}, revision=1
    ).saved


def test_expired_attempts_are_submitted_with_what_was_saved(
    quiz: Any, learner: Any, settings: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 0
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.select_related("item_version__item").get(
        item_version__item__type="true_false"
    )
    attempt_answer_save(
        attempt=attempt, position=item.position, answer=correct_answer(item), revision=1
    )
    other = attempt_start(learner=UserFactory(), quiz=quiz)  # not expired: untouched
    attempt.deadline = timezone.now() - timedelta(seconds=1)
    attempt.save()
    assert attempts_autosubmit_expired() == 1
    attempt.refresh_from_db()
    other.refresh_from_db()
    assert attempt.auto_submitted and attempt.status == AttemptStatus.GRADED
    assert attempt.score == Decimal(1)
    assert other.status == AttemptStatus.IN_PROGRESS
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.AUTO_SUBMITTED).count() == 1
    assert attempts_autosubmit_expired() == 0  # idempotent


def test_submit_is_idempotent(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    first = attempt_submit(attempt=attempt)
    second = attempt_submit(attempt=attempt)
    assert first.submitted_at == second.submitted_at
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SUBMITTED).count() == 1
    with pytest.raises(AttemptClosed, match="already submitted"):
        attempt_answer_save(attempt=attempt, position=1, answer={}, revision=5)


def test_immediate_feedback_locks_the_checked_answer(quiz: Any, learner: Any) -> None:
    quiz.feedback_mode = FeedbackMode.IMMEDIATE
    quiz.save()
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.select_related("item_version__item").get(
        item_version__item__type="single_choice"
    )
    with pytest.raises(AttemptError, match="Answer the question"):
        attempt_item_check(attempt=attempt, position=item.position)
    attempt_answer_save(
        attempt=attempt, position=item.position, answer=correct_answer(item), revision=1
    )
    checked = attempt_item_check(attempt=attempt, position=item.position)
    assert checked.locked and checked.is_correct
    with pytest.raises(AttemptClosed, match="locked"):
        attempt_answer_save(
            attempt=attempt, position=item.position, answer={"choice": None}, revision=2
        )


def test_check_is_refused_when_feedback_comes_later(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    with pytest.raises(AttemptError, match="only at the end"):
        attempt_item_check(attempt=attempt, position=1)


def test_feedback_after_close_waits_for_the_close(quiz: Any, learner: Any) -> None:
    quiz.feedback_mode = FeedbackMode.AFTER_CLOSE
    quiz.closes_at = timezone.now() + timedelta(hours=1)
    quiz.save()
    attempt = attempt_submit(attempt=attempt_start(learner=learner, quiz=quiz))
    assert not feedback_due(attempt)
    quiz.closes_at = timezone.now() - timedelta(seconds=1)
    quiz.save()
    attempt.refresh_from_db()
    assert feedback_due(attempt)


def test_editing_a_published_item_keeps_past_attempts_on_their_version(
    quiz: Any, learner: Any, topic: Any
) -> None:
    from tests.samples import SINGLE

    attempt = attempt_start(learner=learner, quiz=quiz)
    before = attempt.items.get(item_version__item__slug="t-single").item_version
    load_sample_items(
        topic.stage, topic.slug, [{**SINGLE, "body": "Which method is safe (RFC 9110)?"}]
    )
    pinned = attempt.items.get(item_version__item__slug="t-single").item_version
    assert pinned.pk == before.pk and pinned.number == 1
    assert pinned.item.current_version.number == 2


def test_opening_an_expired_attempt_submits_it_even_without_the_periodic_task(
    quiz: Any, learner: Any, settings: Any, client: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 0
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt.deadline = timezone.now() - timedelta(seconds=5)
    attempt.save()
    client.force_login(learner)
    response = client.get(f"/attempts/{attempt.pk}/")
    assert response.status_code == 302 and response["Location"].endswith("/result")
    attempt.refresh_from_db()
    assert attempt.auto_submitted and attempt.status != AttemptStatus.IN_PROGRESS


@pytest.mark.sandbox
def test_a_code_regrade_is_graded_again_with_the_new_tests_and_reviewed_with_them(
    topic: Any, learner: Any, instructor: Any
) -> None:
    from quizzes.assessments.presenters import item_review
    from quizzes.assessments.services import item_regrade, item_regrade_preview
    from quizzes.pipeline.grading import submission_grade

    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    attempt = attempt_start(learner=learner, quiz=quiz)
    code = "def add(a, b):\n    return a + b if a >= 0 else 0\n"
    attempt_answer_save(attempt=attempt, position=1, answer={"code": code}, revision=1)
    attempt_submit(attempt=attempt)
    submission_grade(submission_id=Submission.objects.get().pk)
    attempt.refresh_from_db()
    assert attempt.score == Decimal("6.67")  # the hidden negative test fails
    # The author decides negative numbers are out of scope: new tests, new version.
    spec = PYTHON["challenge"]
    tests = [t for t in spec["tests"] if t["name"] != "negative"]
    tests.append({"name": "bigger", "visible": False, "args": [20, 22], "expect": 42})
    load_sample_items(
        topic.stage,
        topic.slug,
        [{**PYTHON, "challenge": {**spec, "tests": tests,
                                  "wrong_solutions": ["def add(a, b):\n    return a * b\n"]}}],
    )  # fmt: skip
    challenge.refresh_from_db()

    plan = item_regrade_preview(item=challenge)
    assert [(c.learner, c.old_score, c.new_score) for c in plan.resubmits] == [
        (learner.email, Decimal("6.67"), None)
    ]
    assert Submission.objects.count() == 1  # the dry run sent nothing

    report = item_regrade(item=challenge, actor=instructor, version=2)
    assert report.resubmitted == 1
    event = AttemptEvent.objects.get(attempt=attempt, kind=EventKind.REGRADED)
    assert event.data["by"] == instructor.email and event.data["graded_again"] is True
    again = Submission.objects.order_by("-pk").first()
    assert again is not None and again.item_version.number == 2
    submission_grade(submission_id=again.pk)
    attempt.refresh_from_db()
    assert attempt.score == 10
    item = attempt.items.get()
    assert item.item_version.number == 1  # still the version the learner was shown
    review = item_review(item)
    assert review["is_correct"] is True and review["score"] == 10
    assert item.scored_with is not None and item.scored_with.number == 2
