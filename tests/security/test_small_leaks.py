"""Small leaks: operational detail to strangers, and one item giving away another's answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from quizzes.bank.check import answers_given_away, roadmap_topics
from quizzes.bank.loader import BankFile, bank_files, read_bank_file
from quizzes.models import WorkerHeartbeat
from tests.factories import UserFactory

BASE = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_worker_details_are_for_operators_only(client: Client) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        hostname="grader-7.internal",
        pid=1,
        started_at=now,
        last_seen=now,
        queues="default,grading",
        sandbox_available=False,
        sandbox_reason="bwrap: setting up uid map: Permission denied",
    )
    bare = {"alive": True, "grading_available": False, "languages": []}
    assert client.get("/status/workers").json() == bare
    client.force_login(UserFactory(role="learner"))
    learner_view = client.get("/status/workers")
    assert learner_view.json() == bare
    assert b"grader-7" not in learner_view.content and b"bwrap" not in learner_view.content
    client.force_login(UserFactory(role="admin"))
    operator_view = client.get("/status/workers").json()
    assert operator_view["workers"][0]["hostname"] == "grader-7.internal"
    assert "Permission denied" in operator_view["workers"][0]["sandbox"]["reason"]


def test_no_item_of_a_stage_gives_away_another_items_answer() -> None:
    topics = roadmap_topics(BASE / "fixtures/roadmap.yaml")
    bank = [
        read_bank_file(p, topics_by_stage=topics) for p in bank_files(BASE / "fixtures/questions")
    ]
    leaks = [str(p) for stage in bank for p in answers_given_away(stage)]
    assert leaks == []


def test_an_answer_spelled_out_by_another_item_of_the_stage_is_flagged() -> None:
    asking = {
        "slug": "name-the-profiler",
        "type": "short_text",
        "title": "The standard profiler",
        "body": "Which standard-library module is the C profiler?",
        "accepted": ["cProfile"],
    }
    telling = {
        "slug": "read-the-report",
        "type": "single_choice",
        "title": "Reading a report",
        "body": "A report shows hot spots.",
        "choices": [{"text": "Rerun it under CPROFILE", "correct": True}, {"text": "Guess"}],
    }
    unrelated = {
        **telling,
        "slug": "unrelated",
        "choices": [{"text": "cProfiles", "correct": True}],
    }
    stage = BankFile(path=Path("stage-11.yaml"), stage=11, items=[asking, telling, unrelated])
    [problem] = answers_given_away(stage)
    assert problem.slug == "name-the-profiler"
    assert "'cProfile' appears in read-the-report" in problem.message
