"""The dashboard page and its API: the chart and its table alternative, "not assessed"
stages, the next best step, and a query count that does not grow with the cohort."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from quizzes.analytics.skill import skill_update_learner
from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.bank.quizzes import default_quizzes_sync
from quizzes.models import Quiz, QuizKind
from tests.factories import UserFactory
from tests.samples import load_true_false_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def stage_one(roadmap: Any) -> Quiz:
    load_true_false_bank(roadmap.filter(number__in=[1, 2]), per_stage=6)
    default_quizzes_sync()
    return Quiz.objects.get(kind=QuizKind.STAGE, stage__number=1)


def take(quiz: Quiz, learner: Any, *, right: bool) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    for item in attempt.items.select_related("item_version"):
        key = item.item_version.data.get("answer")
        attempt_answer_save(
            attempt=attempt,
            position=item.position,
            answer={"value": key if right else not key},
            revision=1,
        )
    attempt_submit(attempt=attempt)
    skill_update_learner(learner.pk)


def test_a_new_learner_is_sent_to_the_placement(
    stage_one: Quiz, learner: Any, client: Client
) -> None:
    client.force_login(learner)
    page = client.get("/dashboard/").content.decode()
    assert "Take the placement quiz to see where you stand" in page
    assert page.count("not assessed") >= 11
    api = client.get("/api/dashboard/").json()
    assert [s["assessed"] for s in api["stages"]] == [False] * 11
    assert api["next_step"]["stage"] is None and api["next_step"]["quiz"] == "placement"


def test_the_chart_and_table_show_the_estimate_and_the_next_step(
    stage_one: Quiz, learner: Any, client: Client
) -> None:
    take(stage_one, learner, right=False)
    client.force_login(learner)
    page = client.get("/dashboard/").content.decode()
    assert 'role="img"' in page and '<title id="chart-title">' in page
    api = client.get("/api/dashboard/").json()
    first = api["stages"][0]
    assert first["assessed"] and first["answers"] == 6
    low, high = first["band"]
    assert low < first["score"] < high
    assert f'data-score="{first["score"]}"' in page
    assert f"{low}\N{EN DASH}{high}" in page
    # Weak on stage 1: practice stage 1, with its stage quiz.
    assert api["next_step"]["stage"] == 1 and api["next_step"]["quiz"] == stage_one.slug
    assert api["stages"][1]["assessed"] is False
    # Nothing is calibrated yet: the estimate is marked provisional.
    assert first["provisional"] is True and "provisional" in page


def test_query_count_does_not_grow_with_the_cohort(stage_one: Quiz, client: Client) -> None:
    learner = UserFactory(role="learner")
    take(stage_one, learner, right=True)
    client.force_login(learner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/dashboard/").status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(5):
        take(stage_one, UserFactory(role="learner"), right=False)
    assert queries() == few
