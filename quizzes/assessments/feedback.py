"""The feedback policy: when a learner may see correctness (one place decides)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    FeedbackMode,
    Submission,
)


# --- feedback timing ---------------------------------------------------------------------
def feedback_due(attempt: Attempt) -> bool:
    """May the learner see correctness for the whole attempt now?"""
    mode = attempt.quiz.feedback_mode
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return False
    if mode == FeedbackMode.AFTER_CLOSE:
        return attempt.quiz.closes_at is not None and timezone.now() >= attempt.quiz.closes_at
    return True


def item_feedback_due(attempt: Attempt, item: AttemptItem) -> bool:
    if feedback_due(attempt):
        return True
    return attempt.quiz.feedback_mode == FeedbackMode.IMMEDIATE and item.locked


def submission_feedback_due(submission: Submission) -> bool:
    """Per-test results of code sent in an attempt wait for the attempt's feedback."""
    if submission.attempt_item is None:
        return True
    return feedback_due(submission.attempt_item.attempt)


def feedback_due_q(prefix: str = "") -> Q:
    """``feedback_due`` as a query filter on attempts (``prefix`` reaches the attempt from
    another model, e.g. ``"attempt__"``), for reads over many attempts at once."""
    after_close = Q(**{f"{prefix}quiz__feedback_mode": FeedbackMode.AFTER_CLOSE})
    closed = Q(**{f"{prefix}quiz__closes_at__lte": timezone.now()})
    return ~Q(**{f"{prefix}status": AttemptStatus.IN_PROGRESS}) & (~after_close | closed)
