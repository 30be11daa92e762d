"""quizzes/models/sql.py: compiled queries give what the ORM gives, on either database."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from quizzes.assessments.services import attempt_start
from quizzes.models import AttemptItem, QuizPool
from quizzes.models.sql import CompiledModelQuery
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

FIELDS = ("attempt", "position", "answer", "saved_at", "item_version", "item_version__item")


def questions(attempt_id: int, position: int) -> QuerySet[AttemptItem]:
    return (
        AttemptItem.objects.select_related("attempt", "item_version__item")
        .only(*FIELDS, "item_version__item__type", "attempt__status", "attempt__deadline")
        .filter(attempt_id=attempt_id, position__gte=position)
        .order_by("position")
    )


QUESTIONS = CompiledModelQuery(AttemptItem, questions, arity=2)


@pytest.fixture
def attempt(topic: Any, learner: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, title="Compiled")
    QuizPool.objects.create(quiz=quiz, count=3, stage=topic.stage)
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt.items.filter(position=2).update(answer={"stored": [1, "two"]}, saved_at=timezone.now())
    return attempt


def snapshot(item: AttemptItem) -> tuple[Any, ...]:
    return (
        item.pk,
        item.position,
        item.answer,
        item.saved_at,
        item.attempt.pk,
        item.attempt.status,
        item.attempt.deadline,
        item.item_version.pk,
        item.item_version.item.type,
        sorted(item.get_deferred_fields()),
        sorted(item.item_version.get_deferred_fields()),
    )


@pytest.mark.django_db
def test_the_instances_are_the_orms(attempt: Any, django_assert_num_queries: Any) -> None:
    expected = [snapshot(item) for item in questions(attempt.pk, 2)]
    assert len(expected) == 2 and expected[0][3] is not None  # the saved answer's time
    with django_assert_num_queries(1):  # the related objects come with the row
        got = [snapshot(item) for item in QUESTIONS.fetch(attempt.pk, 2)]
    assert got == expected
    assert got[0][3].tzinfo is not None  # converted as the ORM converts (SQLite: aware)
    assert "data" in got[0][10]  # what only() leaves out stays deferred
    # Compiled once: new values, the same statement.
    assert [snapshot(item) for item in QUESTIONS.fetch(attempt.pk, 3)] == expected[1:]
    assert QUESTIONS.fetch(attempt.pk + 1000, 1) == []


@pytest.mark.django_db
@pytest.mark.parametrize("attempt_id", [2**63, 10**30, -(2**63) - 1])
def test_an_id_no_column_can_hold_matches_nothing(attempt: Any, attempt_id: int) -> None:
    # A URL's <int:…> takes any number of digits: no row, and no error from the driver.
    assert QUESTIONS.fetch(attempt_id, 1) == []
    assert QUESTIONS.fetch(attempt.pk, 2**64) == []


@pytest.mark.django_db
def test_the_instances_save_as_the_orms_do(attempt: Any) -> None:
    item = QUESTIONS.fetch(attempt.pk, 1)[0]
    item.answer = {"stored": False}
    item.save(update_fields=["answer"])
    assert AttemptItem.objects.get(pk=item.pk).answer == {"stored": False}


@pytest.mark.django_db(transaction=True)
def test_each_thread_compiles_with_its_own_connection(attempt: Any) -> None:
    found: list[Any] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with transaction.atomic():
                found.append(snapshot(QUESTIONS.fetch(attempt.pk, 2)[0]))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=30)
    assert not errors and found == [snapshot(questions(attempt.pk, 2)[0])]
