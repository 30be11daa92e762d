"""The grading service through the real sandbox: claims, leases, results written once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptStatus,
    EventKind,
    QuizPool,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from quizzes.pipeline import grading
from quizzes.pipeline.grading import submission_grade, submission_requeue, submissions_sweep
from quizzes.pipeline.submissions import submission_create
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, SQL, load_sample_items

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]


@pytest.fixture
def challenge(topic: Any) -> Any:
    [item] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    return item.current_version


@pytest.fixture(autouse=True)
def fresh_sandbox_health() -> None:
    grading.forget_sandbox_health()


def make(challenge: Any, learner: Any, source: str, **kwargs: Any) -> Submission:
    return submission_create(learner=learner, item_version=challenge, source=source, **kwargs)


def test_create_enqueues_only_after_commit(
    challenge: Any, learner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = make(challenge, learner, "def add(a, b): return a + b")
        assert submission.status == SubmissionStatus.QUEUED
        assert callbacks == []  # nothing is sent while the transaction is open
    assert len(callbacks) == 1


def test_idempotency_key_returns_the_first_submission(challenge: Any, learner: Any) -> None:
    first = make(challenge, learner, "def add(a, b): return a + b", idempotency_key="k1")
    again = make(challenge, learner, "def add(a, b): return 0", idempotency_key="k1")
    assert again.pk == first.pk
    assert Submission.objects.count() == 1


def test_queued_to_graded_with_hidden_outcomes_pass_or_fail(challenge: Any, learner: Any) -> None:
    submission = make(challenge, learner, "def add(a, b):\n    return a + b if a >= 0 else 0\n")
    assert submission_grade(submission_id=submission.pk) == "graded"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.GRADED
    assert submission.attempt_count == 1 and submission.claim_token is not None
    outcomes = {o["name"]: o for o in submission.results["outcomes"]}
    assert outcomes["small"]["passed"] and outcomes["zeros"]["passed"]
    hidden = outcomes["negative"]
    assert not hidden["passed"] and hidden["category"] == "failed"
    assert hidden["input_repr"] is None and hidden["actual_repr"] is None
    assert hidden["exception_type"] is None
    assert "wall_seconds" not in submission.results  # operators have run_seconds
    assert submission.run_seconds is not None
    assert submission.score == pytest.approx(2 / 3)


def test_a_duplicate_delivery_grades_once(challenge: Any, learner: Any) -> None:
    submission = make(challenge, learner, "def add(a, b): return a + b")
    assert submission_grade(submission_id=submission.pk) == "graded"
    graded_at = Submission.objects.get(pk=submission.pk).graded_at
    assert submission_grade(submission_id=submission.pk) == "not-claimed"
    assert Submission.objects.get(pk=submission.pk).graded_at == graded_at


def test_a_worker_whose_lease_was_taken_over_writes_nothing(
    challenge: Any, learner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    submission = make(challenge, learner, "def add(a, b): return a + b")
    real_run = grading.run_grader

    def slow_then_taken_over(*args: Any, **kwargs: Any) -> Any:
        report = real_run(*args, **kwargs)
        # While this worker ran, its lease expired and another worker claimed the row.
        Submission.objects.filter(pk=submission.pk).update(claim_token=uuid.uuid4())
        return report

    monkeypatch.setattr(grading, "run_grader", slow_then_taken_over)
    assert submission_grade(submission_id=submission.pk) == "lost-lease"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.RUNNING and submission.results == {}


def test_syntax_errors_are_graded_with_the_line(challenge: Any, learner: Any) -> None:
    submission = make(challenge, learner, "def add(a, b):\n    return a +\n")
    submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.GRADED and submission.score == 0
    assert "line 2" in submission.results["message"]


def test_run_examples_runs_visible_tests_only(challenge: Any, learner: Any) -> None:
    submission = make(
        challenge, learner, "def add(a, b): return a + b", kind=SubmissionKind.RUN_EXAMPLES
    )
    submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert [o["name"] for o in submission.results["outcomes"]] == ["small"]


def test_sql_challenges_are_graded_against_the_reference(topic: Any, learner: Any) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [SQL])
    wrong = submission_create(
        learner=learner,
        item_version=item.current_version,
        source=SQL["challenge"]["wrong_solutions"][0],
    )
    right = submission_create(
        learner=learner,
        item_version=item.current_version,
        source=SQL["challenge"]["reference_solution"],
    )
    submission_grade(submission_id=wrong.pk)
    submission_grade(submission_id=right.pk)
    wrong.refresh_from_db()
    right.refresh_from_db()
    assert right.score == 1.0
    assert wrong.score == 0.5  # the tie-break on owner is missing


def test_unavailable_sandbox_keeps_the_submission_queued(
    challenge: Any, learner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLMAP_BWRAP_PATH", "/nonexistent/bwrap")
    submission = make(challenge, learner, "def add(a, b): return a + b")
    assert submission_grade(submission_id=submission.pk) == "unavailable"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.QUEUED
    assert submission.attempt_count == 0
    assert submission.error_reason.startswith("grading unavailable")
    # Once bubblewrap is back, the same row is graded.
    monkeypatch.delenv("SKILLMAP_BWRAP_PATH")
    grading.forget_sandbox_health()
    assert submission_grade(submission_id=submission.pk) == "graded"


def test_sweeper_requeues_expired_leases_and_stale_queued_rows(
    challenge: Any, learner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GRADING_REQUEUE_AFTER_SECONDS = 60
    settings.GRADING_MAX_ATTEMPTS = 3
    long_ago = timezone.now() - timedelta(minutes=10)
    expired = make(challenge, learner, "x = 1")
    Submission.objects.filter(pk=expired.pk).update(
        status=SubmissionStatus.RUNNING,
        claim_token=uuid.uuid4(),
        lease_expires_at=long_ago,
        attempt_count=1,
    )
    stale = make(challenge, learner, "x = 2")
    Submission.objects.filter(pk=stale.pk).update(enqueued_at=long_ago)
    fresh = make(challenge, learner, "x = 3")
    hopeless = make(challenge, learner, "x = 4")
    Submission.objects.filter(pk=hopeless.pk).update(
        status=SubmissionStatus.RUNNING,
        claim_token=uuid.uuid4(),
        lease_expires_at=long_ago,
        attempt_count=3,
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = submissions_sweep()
    assert report.requeued_expired == [expired.pk]
    assert report.requeued_stale == [stale.pk]
    assert report.errored == [hopeless.pk]
    assert len(callbacks) == 2
    assert Submission.objects.get(pk=expired.pk).status == SubmissionStatus.QUEUED
    assert Submission.objects.get(pk=fresh.pk).enqueued_at > long_ago
    errored = Submission.objects.get(pk=hopeless.pk)
    assert errored.status == SubmissionStatus.ERROR and "several tries" in errored.error_reason


def test_operator_requeue_brings_an_error_back(challenge: Any, learner: Any) -> None:
    submission = make(challenge, learner, "def add(a, b): return a + b")
    Submission.objects.filter(pk=submission.pk).update(
        status=SubmissionStatus.ERROR, attempt_count=3, error_reason="x"
    )
    assert submission_requeue(submission=submission)
    assert submission_grade(submission_id=submission.pk) == "graded"
    assert Submission.objects.get(pk=submission.pk).score == 1.0


def test_a_broker_outage_at_submit_time_loses_nothing(
    challenge: Any,
    learner: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from kombu.exceptions import OperationalError

    from config.celery import app

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submission = make(challenge, learner, "def add(a, b): return a + b")
    assert len(callbacks) == 1  # the send was attempted after commit, and failed quietly
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.QUEUED
    # The row is still gradable: the sweeper sends it again once the broker is back.
    assert submission_grade(submission_id=submission.pk) == "graded"


def test_beyond_the_learners_cap_a_submission_is_held_until_one_finishes(
    challenge: Any, learner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = make(challenge, learner, "def add(a, b): return a + b")
        second = make(challenge, learner, "def add(a, b): return a + b")
    assert len(callbacks) == 1  # only the first is sent
    assert not first.is_held and second.is_held
    assert second.status == SubmissionStatus.QUEUED and second.enqueued_at is None
    # The claim refuses a held row, whatever message arrives for it.
    assert submission_grade(submission_id=second.pk) == "not-claimed"
    assert Submission.objects.get(pk=second.pk).is_held
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert submission_grade(submission_id=first.pk) == "graded"
    assert len(callbacks) == 1  # the result's transaction released the second
    assert not Submission.objects.get(pk=second.pk).is_held
    assert submission_grade(submission_id=second.pk) == "graded"


def test_an_operator_requeue_waits_behind_the_learners_cap(
    challenge: Any, learner: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 1
    failed = make(challenge, learner, "def add(a, b): return a + b")
    Submission.objects.filter(pk=failed.pk).update(status=SubmissionStatus.ERROR)
    busy = make(challenge, learner, "def add(a, b): return a + b")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert submission_requeue(submission=failed)
    assert callbacks == []
    assert Submission.objects.get(pk=failed.pk).is_held
    submission_grade(submission_id=busy.pk)
    assert submission_grade(submission_id=failed.pk) == "graded"


def test_a_grader_fault_from_the_content_is_retried_a_bounded_number_of_times(
    topic: Any, learner: Any, settings: Any
) -> None:
    """A broken reference solution fails every try: each try counts, so the submission
    ends as ERROR (and its attempt item is graded) instead of coming back forever."""
    broken = {**SQL, "challenge": {**SQL["challenge"]}}
    [item] = load_sample_items(topic.stage, topic.slug, [broken])
    version = item.current_version
    version.data["challenge"]["reference_solution"] = "SELECT owner, SUM(nope) FROM accounts"
    version.save(update_fields=["data"])
    submission = submission_create(
        learner=learner, item_version=version, source=SQL["challenge"]["reference_solution"]
    )
    runs = []
    for _ in range(settings.GRADING_MAX_ATTEMPTS + 3):  # what Celery's retries would do
        try:
            runs.append(submission_grade(submission_id=submission.pk))
        except grading.GradingInfrastructureError:
            runs.append("retry")
        submission.refresh_from_db()
        if submission.status == SubmissionStatus.ERROR:
            break
    assert runs == ["retry"] * settings.GRADING_MAX_ATTEMPTS + ["error"]
    assert submission.status == SubmissionStatus.ERROR
    assert submission.attempt_count == settings.GRADING_MAX_ATTEMPTS + 1
    assert submission_grade(submission_id=submission.pk) == "not-claimed"


def test_waiting_for_a_sandbox_costs_no_try(
    challenge: Any, learner: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLMAP_BWRAP_PATH", "/nonexistent/bwrap")
    submission = make(challenge, learner, "def add(a, b): return a + b")
    for _ in range(settings.GRADING_MAX_ATTEMPTS + 2):
        grading.forget_sandbox_health()
        assert submission_grade(submission_id=submission.pk) == "unavailable"
    submission.refresh_from_db()
    assert submission.attempt_count == 0 and submission.waits_for_sandbox
    monkeypatch.delenv("SKILLMAP_BWRAP_PATH")
    grading.forget_sandbox_health()
    assert submission_grade(submission_id=submission.pk) == "graded"


def test_the_grading_task_stops_before_its_lease_ends(settings: Any) -> None:
    from quizzes.grading.runner import max_worst_case_seconds
    from quizzes.pipeline.tasks import grade_submission

    assert max_worst_case_seconds() <= grade_submission.soft_time_limit
    assert grade_submission.soft_time_limit < grade_submission.time_limit
    assert grade_submission.time_limit < settings.GRADING_LEASE_SECONDS


# The worker's graded path in calls to the database, transaction control aside: the claim
# (which returns the row and its version's key), the result, the attempt locked with its
# item read, the item written, the attempt's sum, the attempt written and its event (one
# call on PostgreSQL, two on SQLite), the learner's skill update requested, the learner's
# account locked (PostgreSQL only: SQLite's BEGIN IMMEDIATE serialises already) and their
# queue read (docs/architecture.md, "The grading hot path"). No broker message is sent.
GRADED_PATH_STATEMENTS = 9


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _submitted_attempt(quiz: Any) -> Submission:
    attempt = attempt_start(learner=UserFactory(), quiz=quiz)
    attempt_answer_save(
        attempt=attempt,
        position=1,
        answer={"code": "def add(a, b):\n    return a + b\n"},
        revision=1,
    )
    attempt_submit(attempt=attempt)  # creates the submission, as a learner's submit does
    return Submission.objects.get(attempt_item__attempt=attempt)


def test_the_graded_path_takes_few_statements(challenge: Any, topic: Any) -> None:
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge.item)
    first, second = _submitted_attempt(quiz), _submitted_attempt(quiz)
    grading._spec_cache.clear()  # a worker's first grading of this version
    with CaptureQueriesContext(connection) as cold:
        assert submission_grade(submission_id=first.pk) == "graded"
    with CaptureQueriesContext(connection) as warm:
        assert submission_grade(submission_id=second.pk) == "graded"
    statements = _statements(warm)
    assert len(statements) <= GRADED_PATH_STATEMENTS, "\n".join(statements)
    # A version not yet cached costs one read of its data, once per worker process.
    assert len(_statements(cold)) <= GRADED_PATH_STATEMENTS + 1, "\n".join(_statements(cold))
    # And the path did all of its work: the grade stored, the attempt finished once.
    for submission in (first, second):
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.GRADED and submission.score == 1.0
        attempt = Attempt.objects.get(items__submissions=submission)
        assert attempt.status == AttemptStatus.GRADED and attempt.score == attempt.max_score
        assert attempt.passed
        events = AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.GRADED)
        assert events.count() == 1
        item = attempt.items.get()
        assert item.is_correct and item.score == item.max_score and item.scored_with_id is None


def test_a_failing_statement_in_the_results_transaction_leaves_nothing_half_written(
    challenge: Any, topic: Any, monkeypatch: Any
) -> None:
    from django.db import DatabaseError

    from quizzes.assessments import services

    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge.item)
    submission = _submitted_attempt(quiz)

    def broken_request(learner_id: int) -> None:  # the statement after the attempt's grade
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM quizzes_skillupdaterequest")

    monkeypatch.setattr(services, "skill_update_request", broken_request)
    with pytest.raises(DatabaseError):
        submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    # The claim stands (the lease and the sweeper take it from there); nothing else moved.
    assert submission.status == SubmissionStatus.RUNNING and submission.graded_at is None
    attempt = Attempt.objects.get(items__submissions=submission)
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.graded_at is None
    assert attempt.items.get().graded_at is None
    assert not AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.GRADED).exists()
