"""How attempt items and submissions look to a learner: learner-safe while the answer
may change, with the key once feedback is due."""

from __future__ import annotations

import random
from typing import Any

from quizzes.assessments.feedback import item_feedback_due
from quizzes.itemtypes import handler_for
from quizzes.models import (
    Attempt,
    AttemptItem,
    ItemVersion,
    OutcomeCategory,
    ReportStatus,
    Submission,
    SubmissionKind,
)
from quizzes.preferences import learner_language
from quizzes.text import printable


def stored_answer(item: AttemptItem) -> dict[str, Any]:
    """The saved answer, printable: one stored before input was checked may hold a lone
    surrogate, which would fail the page or the JSON that shows it."""
    answer: dict[str, Any] = printable(item.answer or {})
    return answer


def item_for_learner(item: AttemptItem, *, language: str | None = None) -> dict[str, Any]:
    """What the attempt page and API may show while the answer may still change.

    Only per-attempt tokens and display text: no ``correct`` flags, no accepted answers,
    no hidden tests, no solutions. Choice order follows the attempt's shuffle, not the key.
    ``language`` is the learner's programming language (a code challenge opens in it).
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
    view.update(handler.language_view(version.data, answer, language))
    return view


def item_preview(version: ItemVersion, rng: random.Random) -> dict[str, Any]:
    """A version as a learner would be shown it in a new attempt: shuffled with fresh
    tokens, nothing saved, no key."""
    handler = handler_for(version.item.type)
    item = AttemptItem(
        item_version=version,
        position=1,
        layout=handler.layout(version.data, rng, shuffle=True),
        max_score=version.points,
    )
    view = item_for_learner(item)
    view["feedback_due"] = False
    return view


# Keys of an item view that only the server-rendered page needs.
PAGE_ONLY_KEYS = ("saved_at", "checkable", "question_template", "review_template")


def item_review(item: AttemptItem, *, language: str | None = None) -> dict[str, Any]:
    """The learner-safe view plus the key, correctness and explanation (feedback due).

    The key shown is the one that scored the answer (``AttemptItem.scored_with``), so the
    verdict and the key never contradict each other.
    """
    view = item_for_learner(item, language=language)
    handler = handler_for(item.item_version.item.type)
    # The key (and the explanation of it) that produced the score: after a regrade that is
    # the corrected version, not the one the question was shown with.
    keyed = item.scored_with or item.item_version
    answer = stored_answer(item)
    view.update(
        {
            "score": item.score,
            "max_score": item.max_score,
            "is_correct": item.is_correct,
            "graded": item.graded_at is not None,
            "explanation_html": keyed.explanation_html,
            "key": handler.key_display(keyed.data),
            "key_lines": [
                {"label": label, "text": text} for label, text in handler.key_lines(keyed.data)
            ],
        }
    )
    given = handler.to_item_ids(answer, item.layout)
    view.update(handler.review_view(keyed.data, item.layout, answer, given))
    if handler.needs_sandbox:
        submissions = getattr(item, "submission_list", None) or list(item.submissions.all())
        final = next((s for s in submissions if s.kind == SubmissionKind.SUBMIT), None)
        view["submission"] = submission_for_learner(final, feedback=True) if final else None
    return view


def attempt_item_views(attempt: Attempt, items: list[AttemptItem]) -> list[dict[str, Any]]:
    """Each item as the learner may see it now: reviewed where its feedback is due."""

    views = []
    language = learner_language(user=attempt.learner) if attempt.learner_id else None
    for item in items:
        due = item_feedback_due(attempt, item)
        view = (
            item_review(item, language=language)
            if due
            else item_for_learner(item, language=language)
        )
        view["feedback_due"] = due
        views.append(view)
    return views


def submission_for_learner(
    submission: Submission, *, feedback: bool, graders_alive: bool = True
) -> dict[str, Any]:
    """Status always; per-test outcomes only when feedback is due (or visible-only runs).

    ``graders_alive`` is False while no grading worker is alive: a pending submission then
    says so at once instead of "waiting" with no end in sight.

    A hidden outcome says passed or failed and nothing else: no input, output, message,
    exception type, or how it failed (older results stored more; it is not shown).
    """
    data: dict[str, Any] = {
        "id": submission.pk,
        "kind": submission.kind,
        "status": submission.status,
        "created_at": submission.created_at.isoformat(),
        "language": submission.language,
        "graded_at": submission.graded_at.isoformat() if submission.graded_at else None,
        "pending": submission.is_pending,
        "failed": submission.is_failed,
    }
    show = feedback or submission.kind == SubmissionKind.RUN_EXAMPLES
    if submission.is_failed:
        data["error"] = submission.error_reason
    if submission.is_held:
        data["note"] = "Waiting for your earlier code runs to finish."
    elif submission.waits_for_sandbox or (submission.is_pending and not graders_alive):
        data["grading_unavailable"] = True
        data["note"] = (
            "Grading is unavailable right now; your work is saved and this submission "
            "is graded as soon as grading is back."
        )
    if show and submission.is_graded:
        results = submission.results or {}
        data["score"] = submission.score
        data["message"] = results.get("message", "")
        ran = results.get("status", ReportStatus.GRADED) == ReportStatus.GRADED
        data["outcomes"] = [
            _visible_outcome(outcome) if outcome.get("visible") else _hidden_outcome(outcome, ran)
            for outcome in results.get("outcomes", [])
        ]
        for outcome in data["outcomes"]:
            outcome["category_label"] = OutcomeCategory.label_of(outcome["category"])
    # The learner's program wrote the messages; they may hold anything.
    printable_data: dict[str, Any] = printable(data)
    return printable_data


_VISIBLE_KEYS = (
    "name", "visible", "passed", "category", "exception_type",
    "input_repr", "expected_repr", "actual_repr",
)  # fmt: skip


def _visible_outcome(outcome: dict[str, Any]) -> dict[str, Any]:
    return {key: outcome.get(key) for key in _VISIBLE_KEYS}


def _hidden_outcome(outcome: dict[str, Any], ran: bool) -> dict[str, Any]:
    """Pass or fail only. "Not run" only when nothing ran (the code did not load, which is
    known before any hidden input is sent)."""
    passed = outcome.get("passed") is True
    if passed:
        category = OutcomeCategory.PASSED
    elif ran:
        category = OutcomeCategory.FAILED
    else:
        category = OutcomeCategory.NOT_RUN
    return {"name": outcome.get("name"), "visible": False, "passed": passed, "category": category}
