"""How attempt items and submissions look to a learner: learner-safe while the answer
may change, with the key once feedback is due."""

from __future__ import annotations

import json
from typing import Any

from quizzes.assessments.feedback import item_feedback_due
from quizzes.assessments.services import to_item_ids
from quizzes.itemtypes.scoring import correct_answer_display
from quizzes.models import (
    CHALLENGE_TYPES,
    Attempt,
    AttemptItem,
    ItemType,
    OutcomeCategory,
    Submission,
    SubmissionKind,
)


def _call(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [json.dumps(a) for a in args] + [f"{k}={json.dumps(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _outcome(test: dict[str, Any]) -> str:
    return f"raises {test['raises']}" if test.get("raises") else json.dumps(test.get("expect"))


def _visible_examples(version_data: dict[str, Any]) -> list[dict[str, Any]]:
    """A challenge's visible tests, written as code: part of its statement, safe to show."""
    challenge = version_data.get("challenge", {})
    entry = challenge.get("entry_point", "solution")
    examples = []
    for test in challenge.get("tests", []):
        if not test.get("visible"):
            continue
        if "data" in test:
            text = test["data"].strip()
        elif "calls" in test:
            init = test.get("init") or {}
            lines = [f"obj = {_call(entry, init.get('args', []), init.get('kwargs', {}))}"]
            for c in test["calls"]:
                call = _call(c["method"], c.get("args", []), c.get("kwargs", {}))
                lines.append(f"obj.{call}  # → {_outcome(c)}")
            text = "\n".join(lines)
        else:
            call = _call(entry, test.get("args", []), test.get("kwargs", {}))
            text = f"{call}  # → {_outcome(test)}"
        examples.append({"name": test.get("name", ""), "text": text})
    return examples


def item_for_learner(item: AttemptItem) -> dict[str, Any]:
    """What the attempt page and API may show while the answer may still change.

    Only per-attempt tokens and display text: no ``correct`` flags, no accepted answers,
    no hidden tests, no solutions. Choice order follows the attempt's shuffle, not the key.
    """
    version = item.item_version
    item_type = version.item.type
    data = version.data
    view: dict[str, Any] = {
        "position": item.position,
        "type": item_type,
        "type_label": ItemType(item_type).label,
        "title": version.title,
        "body_html": version.body_html,
        "points": version.points,
        "topic": version.item.topic.title,
        "answer": item.answer or {},
        "revision": item.answer_revision,
        "flagged": item.flagged,
        "locked": item.locked,
        "saved_at": item.saved_at,
    }
    if item_type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        html = {c["id"]: c["html"] for c in data["choices"]}
        view["choices"] = [{"token": t, "html": html[i]} for t, i in item.layout["choices"]]
    elif item_type == ItemType.ORDERING:
        html = {s["id"]: s["html"] for s in data["sequence"]}
        tokens = [t for t, _ in item.layout["sequence"]]
        saved = (item.answer or {}).get("order")
        if saved and sorted(saved) == sorted(tokens):
            tokens = saved
        by_token = dict(item.layout["sequence"])
        view["sequence"] = [{"token": t, "html": html[by_token[t]]} for t in tokens]
    elif item_type == ItemType.MATCHING:
        lefts = {p["id"]: p["left_html"] for p in data["pairs"]}
        rights = {p["id"]: p["right_html"] for p in data["pairs"]}
        chosen = (item.answer or {}).get("pairs", {})
        view["rights"] = [{"token": t, "html": rights[i]} for t, i in item.layout["rights"]]
        view["lefts"] = [
            {"token": t, "html": lefts[i], "chosen": chosen.get(t, "")}
            for t, i in item.layout["lefts"]
        ]
    elif item_type == ItemType.NUMERIC:
        view["unit"] = data.get("unit", "")
    elif item_type in CHALLENGE_TYPES:
        challenge = data["challenge"]
        view["language"] = "sql" if item_type == ItemType.SQL else "python"
        view["starter"] = challenge.get("starter", "")
        view["code"] = (item.answer or {}).get("code", challenge.get("starter", ""))
        view["examples"] = _visible_examples(data)
        view["schema"] = challenge.get("schema", "")
    return view


def item_review(item: AttemptItem) -> dict[str, Any]:
    """The learner-safe view plus the key, correctness and explanation (feedback due)."""

    view = item_for_learner(item)
    version = item.item_version
    data = version.data
    item_type = version.item.type
    view.update(
        {
            "score": item.score,
            "max_score": item.max_score,
            "is_correct": item.is_correct,
            "graded": item.graded_at is not None,
            "explanation_html": version.explanation_html,
            "key": correct_answer_display(item_type, data),
        }
    )
    given = to_item_ids(item, item.answer)
    if item_type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        picked = {given.get("choice")} | set(given.get("choices") or [])
        by_id = {c["id"]: c for c in data["choices"]}
        view["choices"] = [
            {
                "token": t,
                "html": by_id[i]["html"],
                "picked": i in picked,
                "correct": by_id[i]["correct"],
                "feedback": by_id[i].get("feedback", ""),
            }
            for t, i in item.layout["choices"]
        ]
    elif item_type == ItemType.TRUE_FALSE:
        value = (item.answer or {}).get("value")
        view["feedback"] = data.get("feedback_true" if value else "feedback_false", "")
    elif item_type == ItemType.MATCHING:
        rights = {p["id"]: p["right_html"] for p in data["pairs"]}
        pairs = given.get("pairs", {})
        view["matches"] = [
            {
                "left": p["left_html"],
                "given": rights.get(pairs.get(p["id"]) or "", "—"),
                "right": p["right_html"],
                "ok": pairs.get(p["id"]) == p["id"],
            }
            for p in data["pairs"]
        ]
    elif item_type in CHALLENGE_TYPES:
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
    return data
