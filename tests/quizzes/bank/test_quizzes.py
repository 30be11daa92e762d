"""Saving a quiz with its pools: the pool rules hold whoever saves, and a refusal saves nothing."""

from __future__ import annotations

from typing import Any

import pytest

from quizzes.bank.quizzes import QuizInvalid, quiz_save
from quizzes.models import Quiz, QuizPool
from tests.factories import QuizFactory, TopicFactory

pytestmark = pytest.mark.django_db


def new_quiz(**fields: Any) -> Quiz:
    return Quiz(**{"slug": "drill", "title": "Drill", **fields})


@pytest.mark.parametrize(
    ("pool", "field", "message"),
    [
        ({"difficulty_min": 4, "difficulty_max": 2}, "difficulty_max", "1 ≤ min ≤ max ≤ 5"),
        ({"difficulty_min": 0}, "difficulty_min", "1 ≤ min ≤ max ≤ 5"),
        ({"difficulty_max": 6}, "difficulty_max", "1 ≤ min ≤ max ≤ 5"),
        ({"item_types": ["essay"]}, "item_types", "Item types are a list of"),
        ({"item_types": "python"}, "item_types", "Item types are a list of"),
    ],
)
def test_a_pool_that_cannot_be_satisfied_is_refused_and_nothing_is_saved(
    topic: Any, instructor: Any, pool: dict[str, Any], field: str, message: str
) -> None:
    good = QuizPool(count=2, stage=topic.stage)
    bad = QuizPool(count=1, stage=topic.stage, **pool)
    with pytest.raises(QuizInvalid) as refused:
        quiz_save(quiz=new_quiz(), pools=[good, bad], author=instructor)
    assert list(refused.value.pool_errors) == [1]
    assert message in refused.value.pool_errors[1][field][0]
    assert message in refused.value.message_dict[f"pools[1].{field}"][0]
    assert not Quiz.objects.exists()
    assert not QuizPool.objects.exists()


def test_a_topic_of_another_stage_is_refused_and_the_quiz_is_unchanged(topic: Any) -> None:
    quiz = QuizFactory(title="Before", stage=topic.stage)
    pool = QuizPool.objects.create(quiz=quiz, count=3, stage=topic.stage, topic=topic)
    elsewhere = TopicFactory()  # on a stage of its own
    quiz.title = "After"
    pool.topic = elsewhere
    added = QuizPool(count=1, stage=topic.stage)
    with pytest.raises(QuizInvalid) as refused:
        quiz_save(quiz=quiz, pools=[pool, added])
    assert refused.value.pool_errors == {0: {"topic": ["That topic belongs to another stage."]}}
    quiz.refresh_from_db()
    pool.refresh_from_db()
    assert quiz.title == "Before"
    assert pool.topic == topic
    assert list(quiz.pools.all()) == [pool]


def test_quiz_fields_are_checked_too(topic: Any) -> None:
    QuizFactory(slug="drill")
    with pytest.raises(QuizInvalid) as refused:
        quiz_save(quiz=new_quiz(title="", pass_mark_percent=120), pools=[])
    assert set(refused.value.quiz_errors) == {"slug", "title", "pass_mark_percent"}
    assert Quiz.objects.count() == 1


def test_a_pool_of_another_quiz_cannot_be_taken_over(topic: Any) -> None:
    other = QuizFactory()
    theirs = QuizPool.objects.create(quiz=other, count=1, stage=topic.stage)
    with pytest.raises(QuizInvalid) as refused:
        quiz_save(quiz=new_quiz(), pools=[theirs])
    assert refused.value.pool_errors[0]["__all__"] == ["This pool belongs to another quiz."]
    theirs.refresh_from_db()
    assert theirs.quiz == other
    assert not Quiz.objects.filter(slug="drill").exists()


def test_saving_keeps_exactly_the_given_pools_in_order(topic: Any, instructor: Any) -> None:
    quiz = quiz_save(
        quiz=new_quiz(stage=topic.stage),
        pools=[QuizPool(count=5, stage=topic.stage), QuizPool(count=1, topic=topic)],
        author=instructor,
    )
    assert quiz.created_by == instructor
    first, second = quiz.pools.all()
    assert (first.position, first.count, second.position, second.topic) == (0, 5, 1, topic)
    third = QuizPool(count=2, stage=topic.stage, item_types=["code", "sql"])
    second.count = 4
    quiz_save(quiz=quiz, pools=[third, second], author=None)
    assert [(p.position, p.count) for p in quiz.pools.all()] == [(0, 2), (1, 4)]
    assert not QuizPool.objects.filter(pk=first.pk).exists()
