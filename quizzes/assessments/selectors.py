"""Reads that feed the learner's pages and API, with their joins done."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from quizzes.assessments.feedback import feedback_due
from quizzes.bank.quizzes import PLACEMENT_SLUG
from quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Quiz,
    QuizKind,
    QuizStatus,
    Stage,
    Submission,
    Topic,
)


def stage_list_with_topics() -> QuerySet[Stage]:
    return Stage.objects.active().prefetch_related(
        Prefetch("topics", queryset=Topic.objects.active().order_by("position"))
    )


def placement_quiz() -> Quiz | None:
    """The ready-made placement quiz, once it is published."""
    return Quiz.objects.filter(slug=PLACEMENT_SLUG, status=QuizStatus.PUBLISHED).first()


def published_quizzes() -> QuerySet[Quiz]:
    """Quizzes a learner may take, every kind (the placement included)."""
    return Quiz.objects.filter(status=QuizStatus.PUBLISHED).select_related("stage")


def stage_quizzes(stage: Stage) -> QuerySet[Quiz]:
    return (
        Quiz.objects.filter(stage=stage, status=QuizStatus.PUBLISHED)
        .exclude(kind=QuizKind.PLACEMENT)
        .order_by("kind", "title")
    )


def best_results(*, learner: User, quizzes: list[Quiz]) -> dict[int, Decimal | None]:
    """Best graded percentage per quiz, counting only attempts whose feedback is due."""

    best: dict[int, Decimal | None] = {}
    attempts = Attempt.objects.filter(
        learner=learner, quiz__in=quizzes, status=AttemptStatus.GRADED
    ).select_related("quiz")
    for attempt in attempts:
        if not feedback_due(attempt) or attempt.percent is None:
            continue
        pct = Decimal(str(round(attempt.percent, 1)))
        if best.get(attempt.quiz_id) is None or pct > (best[attempt.quiz_id] or 0):
            best[attempt.quiz_id] = pct
    return best


def access_attempt(*, user: User, attempt_id: int, write: bool = False) -> Attempt:
    """The attempt if ``user`` may see it (its learner; for reading, instructors too).

    Anyone else gets 404, not 403, so attempt ids do not leak.
    """
    attempt = Attempt.objects.select_related("quiz", "learner").filter(pk=attempt_id).first()
    if attempt is None:
        raise Http404("No such attempt")
    if attempt.learner_id == user.pk:
        return attempt
    if not write and user.has_perm("accounts.view_learner_results"):
        return attempt
    raise Http404("No such attempt")


def access_submission(*, user: User, submission_id: int) -> Submission:
    """The submission if ``user`` may see it (its learner, or an instructor who may read
    learners' results). Anyone else gets 404, not 403, so submission ids do not leak."""
    submission = (
        Submission.objects.select_related("attempt_item__attempt__quiz")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise Http404("No such submission.")
    if submission.learner_id is not None and submission.learner_id == user.pk:
        return submission
    if user.has_perm("accounts.view_learner_results"):
        return submission
    raise Http404("No such submission.")


def attempt_items(attempt: Attempt) -> list[AttemptItem]:
    return list(
        attempt.items.select_related("item_version__item__topic", "scored_with").prefetch_related(
            Prefetch(
                "submissions",
                queryset=Submission.objects.order_by("-created_at"),
                to_attr="submission_list",
            )
        )
    )


def learner_attempts(learner: User) -> QuerySet[Attempt]:
    return Attempt.objects.filter(learner=learner).select_related("quiz").order_by("-started_at")
