"""Quizzes: the ready-made ones and drawing items from their pools."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from quizzes.itemtypes import handler_for, sandbox_types, submit_scored_types
from quizzes.models import (
    FeedbackMode,
    Item,
    ItemStatus,
    Quiz,
    QuizKind,
    QuizPool,
    QuizStatus,
    Stage,
)

STAGE_QUIZ_ITEMS = 10
PLACEMENT_ITEMS_PER_STAGE = 2


@transaction.atomic
def default_quizzes_sync() -> list[str]:
    """Create the stage quizzes, the placement quiz and one quiz per challenge if missing.

    Existing quizzes are left as they are: an instructor may have tuned them.
    Returns the slugs created.
    """
    created: list[str] = []
    published = Item.objects.filter(status=ItemStatus.PUBLISHED)
    for stage in Stage.objects.active():
        if not published.filter(stage=stage).exists():
            continue
        quiz, new = Quiz.objects.get_or_create(
            slug=f"stage-{stage.number}",
            defaults={
                "title": f"{stage.title}: stage quiz",
                "description": (
                    f"{STAGE_QUIZ_ITEMS} questions drawn from every topic of stage "
                    f"{stage.number}, and a coding challenge."
                ),
                "kind": QuizKind.STAGE,
                "stage": stage,
                "status": QuizStatus.PUBLISHED,
                "time_limit_seconds": 45 * 60,
                "feedback_mode": FeedbackMode.AFTER_SUBMIT,
            },
        )
        if new:
            QuizPool.objects.create(
                quiz=quiz,
                position=0,
                count=STAGE_QUIZ_ITEMS,
                stage=stage,
                item_types=sorted(submit_scored_types()),
            )
            QuizPool.objects.create(
                quiz=quiz, position=1, count=1, stage=stage, item_types=sorted(sandbox_types())
            )
            created.append(quiz.slug)
    placement, new = Quiz.objects.get_or_create(
        slug="placement",
        defaults={
            "title": "Placement quiz: the whole roadmap",
            "description": "Two questions from each of the eleven stages, to find where to start.",
            "kind": QuizKind.PLACEMENT,
            "status": QuizStatus.PUBLISHED,
            "time_limit_seconds": 40 * 60,
            "max_attempts": 3,
            "feedback_mode": FeedbackMode.AFTER_SUBMIT,
        },
    )
    if new:
        for position, stage in enumerate(Stage.objects.active()):
            QuizPool.objects.create(
                quiz=placement,
                position=position,
                count=PLACEMENT_ITEMS_PER_STAGE,
                stage=stage,
                item_types=sorted(submit_scored_types()),
            )
        created.append(placement.slug)
    for item in published.filter(type__in=sandbox_types()).select_related("current_version"):
        quiz, new = Quiz.objects.get_or_create(
            slug=f"challenge-{item.slug}"[:120],
            defaults={
                "title": item.current_version.title if item.current_version else item.slug,
                "kind": QuizKind.CHALLENGE,
                "stage": item.stage,
                "status": QuizStatus.PUBLISHED,
                "feedback_mode": FeedbackMode.AFTER_SUBMIT,
                "shuffle_items": False,
            },
        )
        if new:
            QuizPool.objects.create(quiz=quiz, position=0, count=1, item=item)
            created.append(quiz.slug)
    return created


def pool_candidates(pool: QuizPool) -> QuerySet[Item]:
    items = Item.objects.filter(status=ItemStatus.PUBLISHED, current_version__isnull=False)
    if pool.item_id:
        return items.filter(pk=pool.item_id)
    if pool.stage_id:
        items = items.filter(stage_id=pool.stage_id)
    if pool.topic_id:
        items = items.filter(topic_id=pool.topic_id)
    if pool.item_types:
        items = items.filter(type__in=pool.item_types)
    return items.filter(
        current_version__difficulty__gte=pool.difficulty_min,
        current_version__difficulty__lte=pool.difficulty_max,
    )


def quiz_draw(*, quiz: Quiz, rng: random.Random) -> list[Item]:
    """Draw each pool's items (no item twice); shuffle unless the quiz keeps pool order."""
    chosen: list[Item] = []
    taken: set[int] = set()
    for pool in quiz.pools.all():
        candidates = [
            i for i in pool_candidates(pool).select_related("current_version") if i.pk not in taken
        ]
        candidates.sort(key=lambda i: i.pk)  # deterministic for a given seed
        picked = rng.sample(candidates, min(pool.count, len(candidates)))
        picked.sort(key=lambda i: (_graded_later(i), rng.random()))
        chosen.extend(picked)
        taken.update(i.pk for i in picked)
    if quiz.shuffle_items:
        objective = [i for i in chosen if not _graded_later(i)]
        rng.shuffle(objective)
        # Challenges go last: they take longest and learners expect them at the end.
        chosen = objective + [i for i in chosen if _graded_later(i)]
    return chosen


def _graded_later(item: Item) -> bool:
    return handler_for(item.type).needs_sandbox


def quiz_item_count(quiz: Quiz) -> int:
    return sum(min(p.count, pool_candidates(p).count()) for p in quiz.pools.all())


def describe_quiz(quiz: Quiz) -> dict[str, Any]:
    return {
        "items": quiz_item_count(quiz),
        "time_limit_minutes": (quiz.time_limit_seconds or 0) // 60 or None,
    }
