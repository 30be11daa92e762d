"""Reads over graded work: the dashboard, item statistics and cohort views."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, F, Q, QuerySet

from accounts.models import User
from quizzes.assessments.selectors import stage_list_with_topics
from quizzes.models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Item,
    ItemCalibration,
    Quiz,
    QuizKind,
    QuizStatus,
    SkillEstimate,
    SkillHistory,
    Stage,
    Topic,
)
from quizzes.skill import PROFICIENT_CUT, Level, level_for_score, score_band, to_score


@dataclass(frozen=True)
class TopicSkill:
    topic: Topic
    score: int | None  # None: not assessed
    low: int | None
    high: int | None
    n_answers: int


@dataclass(frozen=True)
class StageSkill:
    stage: Stage
    n_answers: int  # 0: not assessed (never shown as a zero)
    theta: float | None
    se: float | None
    score: int | None
    low: int | None
    high: int | None
    level: Level | None
    percentile: int | None  # None until enough learners have an estimate for the stage
    topics: list[TopicSkill]
    history: list[tuple[datetime, int]]  # (when, score) after each change, oldest first
    # No item of the stage is calibrated from learners' answers yet: the estimate rests on
    # the authors' difficulty ratings ("provisional", like a beta assessment).
    provisional: bool = True

    @property
    def assessed(self) -> bool:
        return self.n_answers > 0


@dataclass(frozen=True)
class NextStep:
    text: str
    stage: Stage | None
    topic: Topic | None
    quiz: Quiz | None


def skill_dashboard(learner: User) -> list[StageSkill]:
    """Per stage: the learner's stored estimate on the 0 to 300 scale with its 95 % band,
    level, percentile, topics and history. A fixed number of queries, whatever the cohort."""
    stages = list(stage_list_with_topics())
    estimates = list(SkillEstimate.objects.filter(learner=learner))
    by_stage = {e.stage_id: e for e in estimates if e.topic_id is None}
    by_topic = {e.topic_id: e for e in estimates if e.topic_id is not None}
    history: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for stage_id, theta, at in SkillHistory.objects.filter(learner=learner).values_list(
        "stage_id", "theta", "at"
    ):
        history[stage_id].append((at, to_score(theta)))
    percentiles = _percentiles(by_stage)
    calibrated_stages = set(
        ItemCalibration.objects.filter(calibrated=True).values_list("item__stage_id", flat=True)
    )
    rows = []
    for stage in stages:
        e = by_stage.get(stage.pk)
        topics = []
        for topic in stage.topics.all():
            t = by_topic.get(topic.pk)
            if t is None:
                topics.append(TopicSkill(topic, None, None, None, 0))
            else:
                low, high = score_band(t.theta, t.se)
                topics.append(TopicSkill(topic, to_score(t.theta), low, high, t.n_answers))
        if e is None:
            rows.append(StageSkill(stage, 0, None, None, None, None, None, None, None, topics, []))
            continue
        low, high = score_band(e.theta, e.se)
        rows.append(
            StageSkill(
                stage=stage,
                n_answers=e.n_answers,
                theta=e.theta,
                se=e.se,
                score=to_score(e.theta),
                low=low,
                high=high,
                level=level_for_score(to_score(e.theta)),  # the level of the score shown
                percentile=percentiles.get(stage.pk),
                topics=topics,
                history=history.get(stage.pk, []),
                provisional=stage.pk not in calibrated_stages,
            )
        )
    return rows


def _percentiles(mine: dict[int, SkillEstimate]) -> dict[int, int]:
    """Per stage, the share of other learners below this learner (one query), once at
    least ``SKILL_PERCENTILE_MIN_LEARNERS`` learners have an estimate for that stage."""
    if not mine:
        return {}
    aggregates: dict[str, Any] = {}
    for stage_id, e in mine.items():
        of_stage = Q(stage_id=stage_id)
        aggregates[f"n{stage_id}"] = Count("pk", filter=of_stage)
        aggregates[f"below{stage_id}"] = Count("pk", filter=of_stage & Q(theta__lt=e.theta))
    counts = SkillEstimate.objects.filter(topic__isnull=True).aggregate(**aggregates)
    result = {}
    for stage_id in mine:
        n = counts[f"n{stage_id}"]
        if n >= settings.SKILL_PERCENTILE_MIN_LEARNERS:
            result[stage_id] = round(100 * counts[f"below{stage_id}"] / n)
    return result


def stage_quiz_by_stage() -> dict[int, Quiz]:
    """The published stage quiz of each stage (stage id → quiz)."""
    found: dict[int, Quiz] = {}
    for quiz in Quiz.objects.filter(kind=QuizKind.STAGE, status=QuizStatus.PUBLISHED).order_by(
        "pk"
    ):
        if quiz.stage_id is not None:
            found.setdefault(quiz.stage_id, quiz)
    return found


def next_best_step(
    rows: list[StageSkill], quizzes: dict[int, Quiz], *, placement: Quiz | None
) -> NextStep:
    """Where practice pays most, by a stated rule (shown on the dashboard):
    nothing assessed → the placement; else the first stage, in roadmap order, that is not
    assessed or below "proficient", and in it the weakest topic; when every stage is
    proficient, the stage whose band is widest (the least certain)."""
    if not any(r.assessed for r in rows):
        if placement is not None:
            return NextStep(
                "Take the placement quiz to see where you stand.", None, None, placement
            )
        return NextStep("Pick a stage on the roadmap and take its stage quiz.", None, None, None)
    proficient = PROFICIENT_CUT
    target = next(
        (r for r in rows if not r.assessed or (r.theta is not None and r.theta < proficient)),
        None,
    )
    if target is None:
        target = max(rows, key=lambda r: r.se or 0)
        return NextStep(
            f"Every stage is at least proficient. Stage {target.stage.number} is the least "
            "certain: a stage quiz there sharpens your profile most.",
            target.stage,
            None,
            quizzes.get(target.stage.pk),
        )
    topics = sorted(
        target.topics,
        key=lambda t: (t.score is not None, t.score if t.score is not None else 0),
    )
    topic = topics[0].topic if topics else None
    what = "not assessed yet" if not target.assessed else "below proficient"
    return NextStep(
        f"Stage {target.stage.number} ({target.stage.title}) is {what}"
        + (f"; start with {topic.title}." if topic else "."),
        target.stage,
        topic,
        quizzes.get(target.stage.pk),
    )


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
