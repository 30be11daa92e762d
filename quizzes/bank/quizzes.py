"""Quizzes: the ready-made ones and drawing items from their pools."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from quizzes.itemtypes import (
    any_language_types,
    handler_for,
    is_registered,
    sandbox_types,
    submit_scored_types,
    type_names,
)
from quizzes.models import (
    FeedbackMode,
    Item,
    ItemStatus,
    Quiz,
    QuizKind,
    QuizPool,
    QuizStatus,
    Stage,
    Topic,
)

STAGE_QUIZ_ITEMS = 10
PLACEMENT_SLUG = "placement"  # the ready-made placement quiz, offered on home and dashboard
# The placement is adaptive: its pools say which items it may use (count is not used).
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
        slug=PLACEMENT_SLUG,
        defaults={
            "title": "Placement quiz: the whole roadmap",
            "description": (
                "An adaptive test across all eleven stages: each question is chosen from your "
                "answers so far, and it ends once every stage is measured well enough "
                "(at most 40 questions). It recommends where to start."
            ),
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


# --- saving a quiz with its pools ------------------------------------------------------------
Errors = dict[str, list[str]]


class QuizInvalid(ValidationError):
    """What is wrong with a quiz and its pools, field by field; nothing was saved.

    ``quiz_errors`` maps the quiz's fields to messages; ``pool_errors`` maps the index of a
    pool (in the list given to ``quiz_save``) to its fields' messages. ``message_dict`` has
    both, the pools' fields named ``pools[<index>].<field>``.
    """

    def __init__(self, quiz_errors: Errors, pool_errors: dict[int, Errors]) -> None:
        self.quiz_errors = quiz_errors
        self.pool_errors = pool_errors
        flat = dict(quiz_errors)
        for index, errors in pool_errors.items():
            for name, messages in errors.items():
                flat[f"pools[{index}].{name}"] = messages
        super().__init__(flat)


def _add(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def pool_problems(pool: QuizPool) -> Errors:
    """The rules every pool keeps, whoever saves it; empty when it is fine.

    A pool must be able to match something: its difficulty range is within 1 to 5 and not
    empty, its topic belongs to its stage, and its item types exist.
    """
    errors: Errors = {}
    try:
        pool.full_clean(exclude=["quiz", "position"], validate_unique=False)
    except ValidationError as exc:
        errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    low, high = pool.difficulty_min, pool.difficulty_max
    if "difficulty_min" not in errors and "difficulty_max" not in errors:
        if not 1 <= low <= 5:
            _add(errors, "difficulty_min", "Difficulty must satisfy 1 ≤ min ≤ max ≤ 5.")
        elif not low <= high <= 5:
            _add(errors, "difficulty_max", "Difficulty must satisfy 1 ≤ min ≤ max ≤ 5.")
    checkable = "topic" not in errors and "stage" not in errors
    if checkable and pool.topic_id and pool.stage_id and pool.topic.stage_id != pool.stage_id:  # type: ignore[union-attr]
        _add(errors, "topic", "That topic belongs to another stage.")
    if pool.item_id and "count" not in errors and pool.count != 1:
        _add(errors, "count", "A pool with a hand-picked item draws exactly that item: count 1.")
    if "item_types" not in errors:
        types = pool.item_types
        if not isinstance(types, list) or not all(is_registered(t) for t in types):
            _add(errors, "item_types", f"Item types are a list of: {', '.join(type_names())}.")
    return errors


def quiz_save(*, quiz: Quiz, pools: Sequence[QuizPool], author: User | None = None) -> Quiz:
    """Validate and save ``quiz`` with exactly ``pools``, in draw order; all or nothing.

    ``quiz`` carries the new values (a new quiz, or a stored one being edited); ``pools``
    are all the pools it should have: its stored pools kept or changed, new ones added;
    stored pools left out are deleted. Raises ``QuizInvalid`` and changes nothing when a
    field or a pool breaks a rule. ``author`` is recorded on a new quiz.
    """
    quiz_errors: Errors = {}
    try:
        quiz.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        quiz_errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    pool_errors: dict[int, Errors] = {}
    for index, pool in enumerate(pools):
        errors = pool_problems(pool)
        if pool.pk is not None and (quiz.pk is None or pool.quiz_id != quiz.pk):
            _add(errors, NON_FIELD_ERRORS, "This pool belongs to another quiz.")
        if errors:
            pool_errors[index] = errors
    if quiz_errors or pool_errors:
        raise QuizInvalid(quiz_errors, pool_errors)
    with transaction.atomic():
        if quiz.pk is None and author is not None:
            quiz.created_by = author
        quiz.save()
        kept = [pool.pk for pool in pools if pool.pk is not None]
        QuizPool.objects.filter(quiz=quiz).exclude(pk__in=kept).delete()
        for position, pool in enumerate(pools):
            pool.quiz = quiz
            pool.position = position
            pool.save()
    return quiz


class QuizInUse(Exception):
    """The quiz has attempts: it cannot be deleted (unpublish it instead)."""


def quiz_delete(*, quiz: Quiz) -> None:
    """Delete a quiz nobody has attempted, with its pools."""
    if quiz.attempts.exists():
        raise QuizInUse("Learners have attempted this quiz: set it back to draft instead.")
    quiz.delete()


def other_language_topics(language: str) -> list[int]:
    """The topics about a programming language other than ``language`` (stage 1's
    language topics, ``Topic.languages``)."""
    return [
        topic.pk
        for topic in Topic.objects.only("pk", "languages")
        if topic.languages and language not in topic.languages
    ]


def for_language(items: QuerySet[Item], language: str | None) -> QuerySet[Item]:
    """``items`` without those of another language's topics (a learner with no language
    sees all); items taken in any language (code challenges) always stay."""
    if not language:
        return items
    return items.exclude(
        Q(topic_id__in=other_language_topics(language)) & ~Q(type__in=any_language_types())
    )


def pool_candidates(pool: QuizPool, *, language: str | None = None) -> QuerySet[Item]:
    """The items a pool may draw; with ``language``, only that language's topics (and
    the topics that are the same in every language)."""
    items = for_language(
        Item.objects.filter(status=ItemStatus.PUBLISHED, current_version__isnull=False), language
    )
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


def quiz_draw(*, quiz: Quiz, rng: random.Random, language: str | None = None) -> list[Item]:
    """Draw each pool's items (no item twice); shuffle unless the quiz keeps pool order.
    With ``language`` (the learner's), a language topic is drawn only if it is theirs."""
    chosen: list[Item] = []
    taken: set[int] = set()
    for pool in quiz.pools.all():
        # The candidates' ids and types only: their versions' content (a challenge's tests
        # and solutions) is read for the chosen few, below.
        candidates = [
            i
            for i in pool_candidates(pool, language=language).only("pk", "type")
            if i.pk not in taken
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
    loaded = Item.objects.select_related("current_version").in_bulk([i.pk for i in chosen])
    return [loaded[i.pk] for i in chosen if i.pk in loaded]


def _graded_later(item: Item) -> bool:
    return handler_for(item.type).needs_sandbox


def quiz_item_count(quiz: Quiz) -> int:
    return sum(min(p.count, pool_candidates(p).count()) for p in quiz.pools.all())


def quiz_runs_code(quiz: Quiz) -> bool:
    """Whether an attempt at ``quiz`` may draw items graded in the sandbox."""
    if quiz.is_challenge:
        return True
    graded_in_sandbox = sandbox_types()
    return any(
        pool_candidates(pool).filter(type__in=graded_in_sandbox).exists()
        for pool in quiz.pools.all()
    )


def describe_quiz(quiz: Quiz) -> dict[str, Any]:
    return {
        "items": quiz_item_count(quiz),
        "time_limit_minutes": (quiz.time_limit_seconds or 0) // 60 or None,
    }
