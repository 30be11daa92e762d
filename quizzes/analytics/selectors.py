"""Reads over graded work: the dashboard and the cohort views (the heatmap of stage scores,
quizzes' score distributions). Item statistics are in ``itemstats``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Avg, Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Floor, Greatest, Least

from accounts.models import User
from accounts.selectors import learner_list
from quizzes.assessments.feedback import feedback_due_q
from quizzes.assessments.selectors import stage_list_with_topics
from quizzes.grading.languages import LANGUAGES
from quizzes.itemtypes import handler_for, sandbox_types
from quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptItem,
    AttemptStatus,
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


def graded_attempts() -> QuerySet[Attempt]:
    """For instructors: every graded attempt, with its quiz and learner."""
    return Attempt.objects.filter(status=AttemptStatus.GRADED).select_related(
        "quiz__stage", "learner"
    )


def attempt_events(attempt: Attempt) -> QuerySet[AttemptEvent]:
    """An attempt's event log, oldest first."""
    return AttemptEvent.objects.filter(attempt=attempt).order_by("at", "id")


# --- cohort views ---------------------------------------------------------------------
SCORE_BINS = 10
# Added before flooring, so that a percentage computed in floating point as 29.999…
# lands in the bin of 30 %.
_BIN_EPSILON = 1e-9


def score_distributions() -> dict[int, list[int]]:
    """Per quiz id, its graded attempts counted in ``SCORE_BINS`` bins of the percentage:
    bin k holds [10k, 10k + 10) %, and the last one also 100 %. One aggregate query for
    every quiz; a quiz without graded attempts is absent."""
    percent = Cast(F("score"), FloatField()) * 100.0 / Cast(F("max_score"), FloatField())
    top = float(SCORE_BINS - 1)
    bin_of = Least(
        Greatest(Floor(percent / (100.0 / SCORE_BINS) + _BIN_EPSILON), Value(0.0)), Value(top)
    )
    rows = (
        Attempt.objects.filter(status=AttemptStatus.GRADED, score__isnull=False, max_score__gt=0)
        .annotate(bin=bin_of)
        .values("quiz_id", "bin")
        .annotate(n=Count("pk"))
        .order_by()
    )
    found: dict[int, list[int]] = {}
    for row in rows:
        counts = found.setdefault(row["quiz_id"], [0] * SCORE_BINS)
        counts[int(row["bin"])] += row["n"]
    return found


HEATMAP_PAGE_SIZE = 50
SORT_EMAIL = "email"
_STAGE_SORT = "stage-"


@dataclass(frozen=True)
class HeatCell:
    stage: Stage
    score: int | None  # None: not assessed
    level: Level | None
    n_answers: int


@dataclass(frozen=True)
class HeatRow:
    learner: User
    cells: list[HeatCell]


@dataclass(frozen=True)
class Heatmap:
    stages: list[Stage]
    page: Page[User]
    rows: list[HeatRow]
    sort: str  # "email" or "stage-<number>", as used
    descending: bool
    search: str

    @staticmethod
    def stage_key(stage: Stage) -> str:
        return f"{_STAGE_SORT}{stage.number}"


def _sort_stage(sort: str, stages: list[Stage]) -> Stage | None:
    if not sort.startswith(_STAGE_SORT):
        return None
    number = sort.removeprefix(_STAGE_SORT)
    if not (number.isascii() and number.isdecimal() and len(number) < 6):
        return None
    return next((s for s in stages if s.number == int(number)), None)


def _page(paginator: Paginator[User], number: str | int | None) -> Page[User]:
    """The page asked for; page 1 for anything else (not a number, out of range)."""
    try:
        if isinstance(number, str) and not (
            number.isascii() and number.isdecimal() and len(number) < 10
        ):
            raise PageNotAnInteger(number)
        return paginator.page(number or 1)
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)


def cohort_heatmap(
    *, sort: str = SORT_EMAIL, descending: bool = False, search: str = "", page: str | int | None
) -> Heatmap:
    """One page of learners (``accounts.selectors.learner_list``) with their stored score on
    every active stage, sorted by email or by one stage's score (not assessed last, either
    way; then by email), optionally filtered by email text.

    Reads only the stored estimates, in four queries whatever the cohort: the stages, the
    paginator's count, the page of learners (the sort score is a subquery), and the
    estimates of that page. An unknown sort is the default (email, ascending).
    """
    stages = list(Stage.objects.active())
    learners = learner_list(search=search).only("pk", "email")
    stage = _sort_stage(sort, stages)
    if stage is not None:
        theta = SkillEstimate.objects.filter(
            learner=OuterRef("pk"), stage=stage, topic__isnull=True
        ).values("theta")[:1]
        key = F("sort_theta")
        learners = learners.annotate(
            sort_theta=Subquery(theta, output_field=FloatField())
        ).order_by(
            key.desc(nulls_last=True) if descending else key.asc(nulls_last=True), "email", "pk"
        )
        sort = Heatmap.stage_key(stage)
    else:
        learners = learners.order_by("-email" if descending else "email", "pk")
        sort = SORT_EMAIL
    current = _page(Paginator(learners, HEATMAP_PAGE_SIZE), page)
    people = list(current.object_list)
    found: dict[tuple[int, int], tuple[float, int]] = {}
    if people:
        for learner_id, stage_id, theta_value, n in SkillEstimate.objects.filter(
            learner_id__in=[p.pk for p in people], topic__isnull=True
        ).values_list("learner_id", "stage_id", "theta", "n_answers"):
            found[(learner_id, stage_id)] = (theta_value, n)
    rows = []
    for person in people:
        cells = []
        for s in stages:
            estimate = found.get((person.pk, s.pk))
            if estimate is None or estimate[1] == 0:
                cells.append(HeatCell(s, None, None, 0))
            else:
                cells.append(
                    HeatCell(
                        s,
                        to_score(estimate[0]),
                        level_for_score(to_score(estimate[0])),
                        estimate[1],
                    )
                )
        rows.append(HeatRow(person, cells))
    return Heatmap(stages, current, rows, sort, descending, search.strip())


@dataclass(frozen=True)
class SolvedChallenge:
    slug: str
    title: str
    language: str  # the key of the code language it was solved in; "" for SQL
    language_label: str
    solved_at: datetime | None


def solved_challenges(learner: User, *, limit: int = 20) -> list[SolvedChallenge]:
    """The challenges the learner solved (full marks), newest first, with the language
    each was solved in. Only answers whose feedback is due: the list reveals correctness.
    One query."""
    rows = (
        AttemptItem.objects.filter(
            feedback_due_q("attempt__"),
            attempt__learner=learner,
            attempt__status=AttemptStatus.GRADED,
            is_correct=True,
            item_version__item__type__in=sandbox_types(),
        )
        .order_by("-graded_at", "-pk")
        .values_list(
            "item_version__item__slug",
            "item_version__title",
            "item_version__item__type",
            "answer__language",
            "graded_at",
        )[: limit * 3]
    )
    found: dict[str, SolvedChallenge] = {}
    for slug, title, item_type, language, at in rows:
        if slug in found:
            continue  # the latest solve of each challenge
        handler = handler_for(item_type)
        key = handler.written_in({"language": language})
        label = LANGUAGES[key].label if key in LANGUAGES else handler.label
        found[slug] = SolvedChallenge(slug, title, key, label, at)
    return list(found.values())[:limit]
