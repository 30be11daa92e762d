"""How attempt items and submissions look to a learner: learner-safe while the answer
may change, with the key once feedback is due."""

from __future__ import annotations

from typing import Any

from quizzes.assessments.feedback import item_feedback_due
from quizzes.itemtypes import handler_for
from quizzes.models import Attempt, AttemptItem, OutcomeCategory, Submission, SubmissionKind
from quizzes.text import printable


def stored_answer(item: AttemptItem) -> dict[str, Any]:
    """The saved answer, printable: one stored before input was checked may hold a lone
    surrogate, which would fail the page or the JSON that shows it."""
    answer: dict[str, Any] = printable(item.answer or {})
    return answer


def item_for_learner(item: AttemptItem) -> dict[str, Any]:
    """What the attempt page and API may show while the answer may still change.

    Only per-attempt tokens and display text: no ``correct`` flags, no accepted answers,
    no hidden tests, no solutions. Choice order follows the attempt's shuffle, not the key.
    """
    version = item.item_version
    handler = handler_for(version.item.type)
    answer = stored_answer(item)
    view: dict[str, Any] = {
        "position": item.position,
        "type": version.item.type,
        "type_label": handler.label,
        "title": version.title,
        "body_html": version.body_html,
        "points": version.points,
        "topic": version.item.topic.title,
        "answer": answer,
        "revision": item.answer_revision,
        "flagged": item.flagged,
        "locked": item.locked,
        "saved_at": item.saved_at,
        "checkable": handler.scored_at_submit,
        "question_template": handler.question_template,
        "review_template": handler.review_template,
    }
    view.update(handler.learner_view(version.data, item.layout, answer))
    return view


# Keys of an item view that only the server-rendered page needs.
PAGE_ONLY_KEYS = ("saved_at", "checkable", "question_template", "review_template")


def item_review(item: AttemptItem) -> dict[str, Any]:
    """The learner-safe view plus the key, correctness and explanation (feedback due)."""
    view = item_for_learner(item)
    version = item.item_version
    handler = handler_for(version.item.type)
    answer = stored_answer(item)
    view.update(
        {
            "score": item.score,
            "max_score": item.max_score,
            "is_correct": item.is_correct,
            "graded": item.graded_at is not None,
            "explanation_html": version.explanation_html,
            "key": handler.key_display(version.data),
        }
    )
    given = handler.to_item_ids(answer, item.layout)
    view.update(handler.review_view(version.data, item.layout, answer, given))
    if handler.needs_sandbox:
        submissions = getattr(item, "submission_list", None) or list(item.submissions.all())
        final = next((s for s in submissions if s.kind == SubmissionKind.SUBMIT), None)
        view["submission"] = submission_for_learner(final, feedback=True) if final else None
    return view


def attempt_item_views(attempt: Attempt, items: list[AttemptItem]) -> list[dict[str, Any]]:
    """Each item as the learner may see it now: reviewed where its feedback is due."""

    views = []
    for item in items:
        due = item_feedback_due(attempt, item)
        view = item_review(item) if due else item_for_learner(item)
        view["feedback_due"] = due
        views.append(view)
    return views


def submission_for_learner(submission: Submission, *, feedback: bool) -> dict[str, Any]:
    """Status always; per-test outcomes only when feedback is due (or visible-only runs).

    Hidden outcomes carry pass/fail and a category, never inputs, outputs or messages.
    """
    data: dict[str, Any] = {
        "id": submission.pk,
        "kind": submission.kind,
        "status": submission.status,
        "created_at": submission.created_at.isoformat(),
        "graded_at": submission.graded_at.isoformat() if submission.graded_at else None,
        "pending": submission.is_pending,
        "failed": submission.is_failed,
    }
    show = feedback or submission.kind == SubmissionKind.RUN_EXAMPLES
    if submission.is_failed:
        data["error"] = submission.error_reason
    if submission.waits_for_sandbox:
        data["grading_unavailable"] = True
        data["note"] = "Grading is unavailable right now; this submission waits in the queue."
    if show and submission.is_graded:
        results = submission.results or {}
        data["score"] = submission.score
        data["message"] = results.get("message", "")
        data["outcomes"] = [
            {
                key: outcome.get(key)
                for key in ("name", "visible", "passed", "category", "exception_type")
                + (("input_repr", "expected_repr", "actual_repr") if outcome.get("visible") else ())
            }
            for outcome in results.get("outcomes", [])
        ]
        for outcome in data["outcomes"]:
            outcome["category_label"] = OutcomeCategory.label_of(outcome["category"])
    # The learner's program wrote the messages; they may hold anything.
    printable_data: dict[str, Any] = printable(data)
    return printable_data
