"""The learner's language in quizzes and estimates: stage 1 draws their language's topic
and every coding challenge; stage-1 evidence is theirs; the dashboard and its API say
which language a challenge was solved in."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from quizzes.analytics.skill import Evidence, evidence_in_language
from quizzes.assessments.services import attempt_start
from quizzes.bank.quizzes import quiz_draw
from quizzes.models import AttemptStatus, QuizPool, Topic
from quizzes.preferences import learner_language_set
from tests.factories import QuizFactory, StageFactory, TopicFactory
from tests.samples import PYTHON, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def stage_one() -> dict[str, Any]:
    """A stage with a Go topic, a Python topic, and a topic that is the same everywhere."""
    stage = StageFactory()
    go = TopicFactory(stage=stage, slug="go", languages=["go"])
    python = TopicFactory(stage=stage, slug="python", languages=["python"])
    shared = TopicFactory(stage=stage, slug="shared")
    [go_item] = load_sample_items(stage, "go", [{**TRUE_FALSE, "slug": "t-go"}])
    [py_item] = load_sample_items(stage, "python", [{**TRUE_FALSE, "slug": "t-py"}])
    [shared_item] = load_sample_items(stage, "shared", [{**TRUE_FALSE, "slug": "t-shared"}])
    [challenge] = load_sample_items(stage, "python", [PYTHON])  # taken in any language
    quiz = QuizFactory(stage=stage)
    QuizPool.objects.create(quiz=quiz, count=10, stage=stage)
    return {
        "stage": stage, "quiz": quiz, "topics": (go, python, shared),
        "go": go_item, "python": py_item, "shared": shared_item, "challenge": challenge,
    }  # fmt: skip


def drawn(quiz: Any, language: str | None) -> set[str]:
    return {item.slug for item in quiz_draw(quiz=quiz, rng=random.Random(1), language=language)}


def test_a_learner_draws_their_languages_topic_and_every_challenge(
    stage_one: dict[str, Any], learner: Any
) -> None:
    quiz = stage_one["quiz"]
    assert drawn(quiz, None) == {"t-go", "t-py", "t-shared", "t-python"}
    assert drawn(quiz, "go") == {"t-go", "t-shared", "t-python"}
    assert drawn(quiz, "java") == {"t-shared", "t-python"}
    learner_language_set(user=learner, language="python")
    attempt = attempt_start(learner=learner, quiz=quiz)
    slugs = {i.item_version.item.slug for i in attempt.items.select_related("item_version__item")}
    assert slugs == {"t-py", "t-shared", "t-python"}


def test_the_roadmap_says_which_language_each_stage_one_topic_is_about(roadmap: Any) -> None:
    languages = dict(
        Topic.objects.filter(stage__number=1).values_list("slug", "languages")
    )  # fmt: skip
    assert languages == {
        "nodejs-typescript": ["javascript", "typescript"],
        "python": ["python"],
        "java": ["java"],
        "go": ["go"],
    }
    assert "Python, JavaScript, TypeScript, Go and Java" in roadmap.get(number=1).description


def test_stage_one_evidence_is_the_learners_language(stage_one: dict[str, Any]) -> None:
    go, python, shared = stage_one["topics"]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    evidence = [
        Evidence(1, 1, go.pk, 1.0, at),
        Evidence(2, 1, python.pk, 0.0, at),
        Evidence(3, 1, shared.pk, 1.0, at),
        Evidence(4, 1, python.pk, 1.0, at, language="go"),  # a challenge solved in Go
        Evidence(5, 1, python.pk, 0.0, at, language="python"),  # the same, in Python
    ]
    assert [e.item_id for e in evidence_in_language(evidence, "go")] == [1, 3, 4]
    assert [e.item_id for e in evidence_in_language(evidence, "python")] == [2, 3, 5]
    assert evidence_in_language(evidence, None) == evidence


def test_the_dashboard_says_which_language_a_challenge_was_solved_in(
    stage_one: dict[str, Any], learner: Any
) -> None:
    quiz = QuizFactory(stage=stage_one["stage"], kind="challenge")
    QuizPool.objects.create(quiz=quiz, count=1, item=stage_one["challenge"])
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get()
    item.answer = {"code": "def add(a, b):\n    return a + b\n", "language": "python"}
    item.is_correct, item.score, item.graded_at = True, item.max_score, attempt.started_at
    item.save(update_fields=["answer", "is_correct", "score", "graded_at"])
    client = Client()
    client.force_login(learner)
    page = client.get("/dashboard/")
    assert b"None yet: coding challenges you solve" in page.content  # not graded yet
    attempt.status, attempt.graded_at = AttemptStatus.GRADED, attempt.started_at
    attempt.save(update_fields=["status", "graded_at"])
    page = client.get("/dashboard/")
    assert b'data-solved-language="python">Python</strong>' in page.content
    body = client.get("/api/dashboard/").json()
    assert [(c["slug"], c["language"]) for c in body["challenges_solved"]] == [
        ("t-python", "python")
    ]
