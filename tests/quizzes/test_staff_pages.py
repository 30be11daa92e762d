"""Operator and instructor pages: grading operations, attempt logs, learners' attempts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import QuizPool, Submission, SubmissionStatus
from quizzes.pipeline.submissions import submission_create
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, title="Ops quiz")
    QuizPool.objects.create(quiz=quiz, count=8, stage=topic.stage)
    return quiz


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_operator_page_shows_queue_stuck_and_errors_and_requeues(
    admin_user: Any, learner: Any, quiz: Any, django_assert_max_num_queries: Any
) -> None:
    challenge = quiz.pools.get().stage.items.get(type="code").current_version
    queued = submission_create(learner=learner, item_version=challenge, source="a")
    stuck = submission_create(learner=learner, item_version=challenge, source="b")
    Submission.objects.filter(pk=stuck.pk).update(
        status=SubmissionStatus.RUNNING,
        claim_token=uuid.uuid4(),
        lease_expires_at=timezone.now() - timedelta(minutes=5),
    )
    failed = submission_create(learner=learner, item_version=challenge, source="c")
    Submission.objects.filter(pk=failed.pk).update(
        status=SubmissionStatus.ERROR, error_reason="Grading did not finish after several tries."
    )
    client = logged_in(admin_user)
    with django_assert_max_num_queries(15):
        page = client.get("/ops/grading/")
    html = unescape(page.content.decode())
    assert page.status_code == 200
    assert "Queue depth: <strong>1</strong>" in html
    assert "Grading did not finish after several tries." in html
    assert "No worker has reported in." in html
    assert html.count(f"<td>{stuck.pk}</td>") >= 1 and html.count(f"<td>{queued.pk}</td>") >= 1
    response = client.post(f"/ops/grading/{failed.pk}/requeue", follow=True)
    assert f"Submission {failed.pk} is back in the grading queue." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == SubmissionStatus.QUEUED and failed.attempt_count == 0


def test_requeue_of_a_graded_submission_changes_nothing(
    admin_user: Any, learner: Any, quiz: Any
) -> None:
    challenge = quiz.pools.get().stage.items.get(type="code").current_version
    done = submission_create(learner=learner, item_version=challenge, source="a")
    Submission.objects.filter(pk=done.pk).update(status=SubmissionStatus.GRADED, score=1.0)
    response = logged_in(admin_user).post(f"/ops/grading/{done.pk}/requeue", follow=True)
    assert "already graded; nothing to do" in response.content.decode()
    done.refresh_from_db()
    assert done.status == SubmissionStatus.GRADED and done.score == 1.0


def test_instructors_read_the_event_log_with_server_times(
    instructor: Any, learner: Any, quiz: Any
) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    tf = attempt.items.get(item_version__item__type="true_false")
    attempt_answer_save(attempt=attempt, position=tf.position, answer={"value": True}, revision=1)
    attempt_submit(attempt=attempt)
    html = logged_in(instructor).get(f"/attempts/{attempt.pk}/log").content.decode()
    for kind in ("Started", "Answer saved", "Submitted"):
        assert kind in html
    assert html.count("<time datetime=") == attempt.events.count()
    assert "revision=1" in html


def test_learners_attempts_list_filters_by_email(instructor: Any, learner: Any, quiz: Any) -> None:
    attempt_start(learner=learner, quiz=quiz)
    client = logged_in(instructor)
    assert learner.email in client.get("/author/attempts/").content.decode()
    assert learner.email not in client.get("/author/attempts/?q=nobody@").content.decode()


def test_stage_and_dashboard_pages_make_a_bounded_number_of_queries(
    learner: Any, quiz: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        attempt_submit(attempt=attempt_start(learner=learner, quiz=quiz))
    client = logged_in(learner)
    with django_assert_max_num_queries(13):  # and the learner's language
        assert client.get(f"/stages/{quiz.stage.slug}/").status_code == 200
    with django_assert_max_num_queries(13):
        assert client.get("/dashboard/").status_code == 200
    attempt = attempt_start(learner=learner, quiz=quiz)
    with django_assert_max_num_queries(7):  # tests/quizzes/assessments/test_query_budgets.py
        assert client.get(f"/attempts/{attempt.pk}/").status_code == 200


def test_operator_page_counts_submissions_held_behind_a_learners_cap(
    admin_user: Any, learner: Any, quiz: Any, settings: Any
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 1
    challenge = quiz.pools.get().stage.items.get(type="code").current_version
    for source in "abc":
        submission_create(learner=learner, item_version=challenge, source=source)
    html = unescape(logged_in(admin_user).get("/ops/grading/").content.decode())
    assert "Queue depth: <strong>3</strong>, of which 2 held behind" in html
