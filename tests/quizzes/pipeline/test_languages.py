"""Grading in the submission's language: a language this worker cannot grade waits, with
its reason, and the try is not counted; workers report the languages they can grade."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.test import Client
from django.utils import timezone

from quizzes.assessments.presenters import submission_for_learner
from quizzes.grading.languages.base import Language, SandboxProgram
from quizzes.grading.spec import CodeChallengeSpec
from quizzes.models import SubmissionStatus
from quizzes.pipeline import grading
from quizzes.pipeline.grading import submission_grade
from quizzes.pipeline.ops import language_capabilities, worker_heartbeat_record, worker_status
from quizzes.pipeline.submissions import submission_create
from tests.conftest import language_standing_in
from tests.factories import UserFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = pytest.mark.django_db


class NoToolchain(Language):
    key: ClassVar[str] = "java"
    label: ClassVar[str] = "Java"
    extensions: ClassVar[tuple[str, ...]] = (".java",)
    editor_mode: ClassVar[str] = "java"

    def unavailable_reason(self) -> str | None:
        return "no JDK on this host (test)"

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        raise AssertionError("never run without its toolchain")


@pytest.fixture
def java() -> Iterator[NoToolchain]:
    with language_standing_in(NoToolchain()) as language:
        yield language


@pytest.fixture
def challenge(topic: Any) -> Any:
    return load_sample_items(topic.stage, topic.slug, [PYTHON])[0].current_version


@pytest.fixture(autouse=True)
def fresh_sandbox_health() -> None:
    grading.forget_sandbox_health()


@pytest.mark.sandbox
def test_a_python_submission_records_its_language_and_is_graded(
    challenge: Any, learner: Any
) -> None:
    submission = submission_create(
        learner=learner, item_version=challenge, source="def add(a, b):\n    return a + b\n",
        language="python",
    )  # fmt: skip
    assert submission_grade(submission_id=submission.pk) == "graded"
    submission.refresh_from_db()
    assert submission.language == "python" and submission.score == 1.0
    assert submission_for_learner(submission, feedback=True)["language"] == "python"


@pytest.mark.sandbox
def test_a_language_this_worker_cannot_grade_waits_with_its_reason(
    challenge: Any, learner: Any, java: NoToolchain
) -> None:
    submission = submission_create(
        learner=learner, item_version=challenge, source="class Add {}", language="java"
    )
    assert submission_grade(submission_id=submission.pk) == "unavailable"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.QUEUED
    assert submission.attempt_count == 0  # waiting costs no try
    assert "Java: no JDK on this host (test)" in submission.error_reason
    shown = submission_for_learner(submission, feedback=False)
    assert shown["grading_unavailable"] is True and "Grading is unavailable" in shown["note"]


def test_workers_report_the_languages_they_can_grade(java: NoToolchain) -> None:
    can, cannot = language_capabilities()
    assert can[0] == "python" and "java" not in can  # and every other runtime this host has
    assert cannot == {"java": "no JDK on this host (test)"}
    now = timezone.now()
    worker_heartbeat_record(
        hostname="w1", queues="grading", sandbox_available=True, sandbox_reason="ok",
        started_at=now, languages=can, languages_unavailable=cannot,
    )  # fmt: skip
    status = worker_status()
    assert status["languages"] == sorted(can)
    [worker] = status["workers"]  # type: ignore[misc]
    assert worker["languages"] == can
    assert worker["languages_unavailable"] == {"java": "no JDK on this host (test)"}
    body = Client().get("/status/workers").json()
    assert body == {"alive": True, "grading_available": True, "languages": sorted(can)}
    operator = Client()
    operator.force_login(UserFactory(role="admin"))
    details = operator.get("/status/workers").json()
    assert details["workers"][0]["languages_unavailable"]["java"].startswith("no JDK")
    page = operator.get("/ops/grading/")
    assert page.status_code == 200
    assert b"no JDK on this host (test)" in page.content
