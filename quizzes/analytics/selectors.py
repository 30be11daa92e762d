"""Reads over graded work: the dashboard, item statistics and cohort views."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet

from accounts.models import User
from quizzes.assessments.feedback import feedback_due
from quizzes.assessments.selectors import stage_list_with_topics
from quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Item,
    Quiz,
    Stage,
)


def dashboard_for(learner: User) -> list[dict[str, Any]]:
    """Per stage: best score on its quizzes and per-topic mastery, from graded items whose
    feedback is due (nothing appears earlier than the quiz's feedback setting allows)."""

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


def item_statistics(*, stage: Stage | None = None) -> list[dict[str, Any]]:
    """Classical item statistics over graded attempt items: n, facility (mean score
    fraction) and discrimination (point-biserial of item score vs attempt percentage)."""

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
    return float(round(cov / (sx * sy), 2))


def cohort_overview() -> list[dict[str, Any]]:
    """Per quiz: learners, attempts, graded attempts, mean score, pass rate."""
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
