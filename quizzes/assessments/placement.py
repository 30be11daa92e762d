"""The adaptive placement: which item comes next, and what the answers say.

The server picks each next item from the learner's answers so far (``quizzes.skill``'s
maximum-information selection with content balancing across stages and exposure
control); the page only ever holds the item being answered. Candidates are the published
items, scored at submit, that the placement quiz's pools admit. The choice for a position
is deterministic (seeded by the attempt's seed and the position), so a repeated "next"
request picks the same item.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q

from quizzes.bank.calibration import item_params
from quizzes.bank.quizzes import pool_candidates
from quizzes.itemtypes import submit_scored_types
from quizzes.models import Attempt, AttemptItem, Item, Quiz, Stage
from quizzes.preferences import learner_language
from quizzes.skill import (
    Candidate,
    Estimate,
    Level,
    PlacementSettings,
    Response,
    estimate_abilities,
    level_for_score,
    next_item,
    recommend_start,
    score_band,
    to_score,
)


def placement_settings() -> PlacementSettings:
    return PlacementSettings(
        max_items=settings.PLACEMENT_MAX_ITEMS,
        se_target=settings.PLACEMENT_SE_TARGET,
        correlation=settings.SKILL_STAGE_CORRELATION,
    )


def placement_candidates(quiz: Quiz, *, language: str | None = None) -> list[Item]:
    """The items the placement may ask; with ``language`` (the learner's), stage 1's
    items of other languages are left out, so its estimate rests on theirs."""
    pools = list(quiz.pools.all())
    if not pools:
        return []
    admitted = Q(pk__in=[])
    for pool in pools:
        admitted |= Q(pk__in=pool_candidates(pool, language=language).values("pk"))
    return list(
        Item.objects.filter(admitted, type__in=submit_scored_types())
        .select_related("current_version", "stage")
        .order_by("pk")
    )


EXPOSURE_CACHE_SECONDS = 300


def _exposure(quiz: Quiz) -> dict[int, float]:
    """How often each item appeared in this quiz's attempts, as a fraction of the attempts.

    One grouped count, cached on the shared cache while the number of attempts is the same
    (each of an attempt's "next" steps reuses it).
    """
    attempts = Attempt.objects.filter(quiz=quiz).count()
    if not attempts:
        return {}
    key = f"placement-exposure:{quiz.pk}:{attempts}"
    cached = cache.get(key)
    if isinstance(cached, dict):
        return cached
    exposure: dict[int, float] = {}
    if attempts:
        for row in (
            AttemptItem.objects.filter(attempt__quiz=quiz)
            .values("item_version__item_id")
            .annotate(n=Count("pk"))
        ):
            exposure[row["item_version__item_id"]] = row["n"] / attempts
    cache.set(key, exposure, EXPOSURE_CACHE_SECONDS)
    return exposure


def _responses(answered: Sequence[AttemptItem]) -> list[Response]:
    return [
        Response(
            item=a.item_version.item_id,
            stage=a.item_version.item.stage.number,
            score=float(a.score or 0) / float(a.max_score) if a.max_score else 0.0,
        )
        for a in answered
        if a.graded_at is not None
    ]


def _stage_numbers() -> list[int]:
    return list(Stage.objects.active().values_list("number", flat=True))


def placement_choose(attempt: Attempt, answered: Sequence[AttemptItem]) -> Item | None:
    """The next item for a placement attempt after ``answered`` (None: the test is over)."""
    quiz = attempt.quiz
    language = learner_language(user=attempt.learner) if attempt.learner_id else None
    items = placement_candidates(quiz, language=language)
    if not items:
        return None
    params = item_params(items)
    exposure = _exposure(quiz)
    seen = {a.item_version.item_id for a in answered}
    candidates = [
        Candidate(
            item=i.pk, stage=i.stage.number, params=params[i.pk], exposure=exposure.get(i.pk, 0)
        )
        for i in items
        if i.pk not in seen
    ]
    rng = random.Random(attempt.seed * 1000 + len(answered))  # noqa: S311 (selection, not secrets)
    chosen = next_item(
        _responses(answered), candidates, params, _stage_numbers(), placement_settings(), rng
    )
    if chosen is None:
        return None
    return next(i for i in items if i.pk == chosen)


@dataclass(frozen=True)
class StageResult:
    stage: Stage
    estimate: Estimate
    score: int
    low: int
    high: int
    level: Level


@dataclass(frozen=True)
class PlacementResult:
    stages: list[StageResult]
    start: Stage | None


def placement_result(answered: Sequence[AttemptItem]) -> PlacementResult:
    """Per-stage results of a placement from its own answers, and where to start."""
    stages = list(Stage.objects.active())
    responses = _responses(answered)
    params = item_params(
        Item.objects.filter(pk__in={r.item for r in responses}).select_related("current_version")
    )
    estimates = estimate_abilities(
        responses, params, [s.number for s in stages], correlation=settings.SKILL_STAGE_CORRELATION
    )
    rows = []
    for stage in stages:
        e = estimates[stage.number]
        low, high = score_band(e.theta, e.se)
        score = to_score(e.theta)
        rows.append(StageResult(stage, e, score, low, high, level_for_score(score)))
    start_number = recommend_start(estimates) if responses else None
    start = next((s for s in stages if s.number == start_number), None)
    return PlacementResult(rows, start)
