"""Reads that feed pages and APIs, with their joins done, and the learner-safe views
of attempt items (nothing in them reveals a key before feedback is due)."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User
from quizzes.models import (
    CHALLENGE_TYPES,
    Attempt,
    AttemptItem,
    AttemptStatus,
    ItemType,
    Quiz,
    QuizKind,
    QuizStatus,
    Stage,
    Submission,
    SubmissionKind,
    Topic,
)


def stage_list_with_topics() -> QuerySet[Stage]:
    return Stage.objects.active().prefetch_related(
        Prefetch("topics", queryset=Topic.objects.active().order_by("position"))
    )


def stage_quizzes(stage: Stage) -> QuerySet[Quiz]:
    return (
        Quiz.objects.filter(stage=stage, status=QuizStatus.PUBLISHED)
        .exclude(kind=QuizKind.PLACEMENT)
        .order_by("kind", "title")
    )


def best_results(*, learner: User, quizzes: list[Quiz]) -> dict[int, Decimal | None]:
    """Best graded percentage per quiz, counting only attempts whose feedback is due."""
    from quizzes.services.attempts import feedback_due

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


def attempt_items(attempt: Attempt) -> list[AttemptItem]:
    return list(
        attempt.items.select_related("item_version__item__topic").prefetch_related(
            Prefetch(
                "submissions",
                queryset=Submission.objects.order_by("-created_at"),
                to_attr="submission_list",
            )
        )
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
    from quizzes.services.attempts import to_item_ids
    from quizzes.services.scoring import correct_answer_display

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


CATEGORY_LABELS = {
    "passed": "passed",
    "wrong_answer": "wrong answer",
    "exception": "exception",
    "timeout": "time limit",
    "memory_limit": "memory limit",
    "output_limit": "output limit",
    "not_run": "not run",
}


def attempt_item_views(attempt: Attempt, items: list[AttemptItem]) -> list[dict[str, Any]]:
    """Each item as the learner may see it now: reviewed where its feedback is due."""
    from quizzes.services.attempts import item_feedback_due

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
    }
    show = feedback or submission.kind == SubmissionKind.RUN_EXAMPLES
    if submission.status == "error":
        data["error"] = submission.error_reason
    if submission.status == "queued" and submission.error_reason.startswith("grading unavailable"):
        data["grading_unavailable"] = True
        data["note"] = "Grading is unavailable right now; this submission waits in the queue."
    if show and submission.status == "graded":
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
            outcome["category_label"] = CATEGORY_LABELS.get(
                outcome["category"], outcome["category"]
            )
    return data


def dashboard_for(learner: User) -> list[dict[str, Any]]:
    """Per stage: best score on its quizzes and per-topic mastery, from graded items whose
    feedback is due (nothing appears earlier than the quiz's feedback setting allows)."""
    from quizzes.services.attempts import feedback_due

    stages = list(stage_list_with_topics())
    attempts = [
        a
        for a in Attempt.objects.filter(
            learner=learner, status=AttemptStatus.GRADED
        ).select_related("quiz")
        if feedback_due(a)
    ]
    attempt_ids = [a.pk for a in attempts]
    topic_totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for topic_id, score, max_score in AttemptItem.objects.filter(
        attempt_id__in=attempt_ids, graded_at__isnull=False
    ).values_list("item_version__item__topic_id", "score", "max_score"):
        topic_totals[topic_id][0] += score or 0
        topic_totals[topic_id][1] += max_score or 0
    best_by_stage: dict[int, float] = {}
    for attempt in attempts:
        if attempt.quiz.stage_id and attempt.percent is not None:
            best_by_stage[attempt.quiz.stage_id] = max(
                best_by_stage.get(attempt.quiz.stage_id, 0.0), attempt.percent
            )
    rows = []
    for stage in stages:
        topics = []
        got = total = Decimal(0)
        for topic in stage.topics.all():
            t_got, t_total = topic_totals.get(topic.pk, [Decimal(0), Decimal(0)])
            got += t_got
            total += t_total
            topics.append(
                {
                    "title": topic.title,
                    "percent": round(float(t_got) * 100 / float(t_total)) if t_total else None,
                }
            )
        rows.append(
            {
                "stage": stage,
                "mastery": round(float(got) * 100 / float(total)) if total else None,
                "best_quiz": round(best_by_stage[stage.pk]) if stage.pk in best_by_stage else None,
                "topics": topics,
            }
        )
    return rows


def learner_attempts(learner: User) -> QuerySet[Attempt]:
    return Attempt.objects.filter(learner=learner).select_related("quiz").order_by("-started_at")


def item_statistics(*, stage: Stage | None = None) -> list[dict[str, Any]]:
    """Classical item statistics over graded attempt items: n, facility (mean score
    fraction) and discrimination (point-biserial of item score vs attempt percentage)."""
    from quizzes.models import Item

    items = Item.objects.select_related("current_version", "topic", "stage")
    if stage is not None:
        items = items.filter(stage=stage)
    rows = []
    graded = AttemptItem.objects.filter(
        graded_at__isnull=False, attempt__status=AttemptStatus.GRADED
    ).values_list(
        "item_version__item_id", "score", "max_score", "attempt__score", "attempt__max_score"
    )
    per_item: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for item_id, score, max_score, a_score, a_max in graded:
        if max_score and a_max:
            per_item[item_id].append(
                (float(score or 0) / float(max_score), float(a_score or 0) / float(a_max))
            )
    for item in items:
        pairs = per_item.get(item.pk, [])
        n = len(pairs)
        facility = sum(p for p, _ in pairs) / n if n else None
        rows.append(
            {
                "item": item,
                "n": n,
                "facility": round(facility, 2) if facility is not None else None,
                "discrimination": _point_biserial(pairs),
            }
        )
    return rows


def _point_biserial(pairs: list[tuple[float, float]]) -> float | None:
    n = len(pairs)
    if n < 3:
        return None
    xs = [p for p, _ in pairs]
    ys = [t for _, t in pairs]
    mx, my = sum(xs) / n, sum(ys) / n
    sx = (sum((x - mx) ** 2 for x in xs) / n) ** 0.5
    sy = (sum((y - my) ** 2 for y in ys) / n) ** 0.5
    if not sx or not sy:
        return None
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / n
    return round(cov / (sx * sy), 2)


def grading_overview() -> dict[str, Any]:
    """For the operator page: counts by status, oldest queued, stuck and errored rows."""
    from django.utils import timezone

    counts = dict(
        Submission.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    now = timezone.now()
    base = Submission.objects.select_related("item_version__item", "learner")
    return {
        "counts": counts,
        "queue_depth": counts.get("queued", 0),
        "oldest_queued": list(base.filter(status="queued").order_by("created_at")[:20]),
        "stuck": list(
            base.filter(status="running", lease_expires_at__lt=now).order_by("lease_expires_at")[
                :20
            ]
        ),
        "errors": list(base.filter(status="error").order_by("-graded_at")[:20]),
        "recent": list(base.order_by("-created_at")[:20]),
        "latest": Submission.objects.aggregate(last=Max("graded_at"))["last"],
        "unavailable": base.filter(
            Q(status="queued") & Q(error_reason__startswith="grading unavailable")
        ).count(),
    }


def cohort_overview() -> list[dict[str, Any]]:
    """Per quiz: learners, attempts, graded attempts, mean score, pass rate."""
    from django.db.models import Avg, F

    rows = []
    quizzes = (
        Quiz.objects.filter(attempts__isnull=False)
        .distinct()
        .select_related("stage")
        .annotate(
            n_attempts=Count("attempts", distinct=True),
            n_learners=Count("attempts__learner", distinct=True),
            n_graded=Count(
                "attempts", filter=Q(attempts__status=AttemptStatus.GRADED), distinct=True
            ),
            n_passed=Count("attempts", filter=Q(attempts__passed=True), distinct=True),
            mean_ratio=Avg(
                F("attempts__score") * 100 / F("attempts__max_score"),
                filter=Q(attempts__status=AttemptStatus.GRADED, attempts__max_score__gt=0),
            ),
        )
        .order_by("stage__number", "title")
    )
    for quiz in quizzes:
        rows.append(
            {
                "quiz": quiz,
                "attempts": quiz.n_attempts,
                "learners": quiz.n_learners,
                "graded": quiz.n_graded,
                "mean_percent": round(float(quiz.mean_ratio), 1)
                if quiz.mean_ratio is not None
                else None,
                "pass_rate": round(quiz.n_passed * 100 / quiz.n_graded) if quiz.n_graded else None,
            }
        )
    return rows


def recent_attempts(*, quiz: Quiz | None = None, email: str = "") -> QuerySet[Attempt]:
    """For instructors: the latest attempts, optionally of one quiz or one learner."""
    attempts = Attempt.objects.select_related("quiz", "learner").order_by("-started_at")
    if quiz is not None:
        attempts = attempts.filter(quiz=quiz)
    if email:
        attempts = attempts.filter(learner__email__icontains=email)
    return attempts
