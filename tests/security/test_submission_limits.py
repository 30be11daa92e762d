"""Per-learner limits on code grading: one learner cannot starve the others.

- At most GRADING_MAX_IN_FLIGHT_PER_LEARNER of a learner's submissions are sent to the
  broker (or running) at once; the rest are stored and held, then sent in order as the
  learner's earlier ones finish. Fairness is checked by the order in which the broker
  would deliver, not by time.
- Starting attempts at quizzes with code and running examples are rate-limited per
  account: 429, Retry-After and a message that says when to come back.
- An attempt's own submit and the deadline's auto-submit are never refused: they are
  stored and queued behind the cap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from quizzes.assessments.services import attempt_examples_run, attempt_start
from quizzes.models import (
    Attempt,
    AttemptStatus,
    QuizKind,
    QuizPool,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from quizzes.pipeline import grading, submissions
from quizzes.pipeline.grading import GradingRun, submission_grade, submissions_sweep
from quizzes.pipeline.tasks import autosubmit_attempts
from tests.factories import QuizFactory, UserFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = pytest.mark.django_db

RIGHT = "def add(a, b):\n    return a + b\n"
PENDING = [SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]


class Broker:
    """Stands in for the grading queue: records each send, delivers first in, first out."""

    def __init__(self) -> None:
        self.queue: deque[int] = deque()
        self.sent: list[int] = []

    def send(self, submission_id: int) -> None:
        self.queue.append(submission_id)
        self.sent.append(submission_id)

    def in_flight(self, learner: Any) -> int:
        """The learner's submissions sent to the broker and not finished yet."""
        return Submission.objects.filter(
            pk__in=self.sent, learner=learner, status__in=PENDING
        ).count()


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    fake = Broker()
    monkeypatch.setattr(submissions, "_send", fake.send)
    return fake


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run the block's on-commit callbacks (the sends) when it ends, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def rates(settings: Any, private_cache: Any) -> Callable[..., None]:
    """Set throttle rates (scope=rate), in a cache of this test's own."""

    def set_rates(**scoped: str) -> None:
        framework = dict(settings.REST_FRAMEWORK)
        framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **scoped}
        settings.REST_FRAMEWORK = framework

    return set_rates


@pytest.fixture
def python_item(topic: Any) -> Any:
    [item] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    return item


def code_quiz(python_item: Any, *, kind: str = QuizKind.CHALLENGE) -> Any:
    quiz = QuizFactory(stage=python_item.stage, kind=kind)
    QuizPool.objects.create(quiz=quiz, position=0, count=1, item=python_item)
    return quiz


@pytest.fixture
def challenge(python_item: Any) -> Any:
    return code_quiz(python_item)


def login(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def run_url(attempt: Any) -> str:
    item = attempt.items.get(item_version__item__type="code")
    return f"/api/attempts/{attempt.pk}/items/{item.position}/run"


def save_code(attempt: Any, code: str) -> None:
    attempt.items.filter(item_version__item__type="code").update(answer={"code": code})


@pytest.fixture
def deliver(
    broker: Broker, committed: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., list[int]]:
    """Grade what the broker delivers, in its order, through the real sandbox.

    At every claim, the claimed submission's learner has at most ``cap`` in flight.
    Returns the ids graded, in order.
    """
    real_run = grading.run_grader
    delivering: list[Submission] = []
    seen_in_flight: list[int] = []  # the learner's count at each claim

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        seen_in_flight.append(broker.in_flight(delivering[-1].learner))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(grading, "run_grader", counting_run)
    grading.forget_sandbox_health()

    def run(limit: int | None = None, *, cap: int) -> list[int]:
        graded: list[int] = []
        while broker.queue and (limit is None or len(graded) < limit):
            delivering.append(Submission.objects.get(pk=broker.queue.popleft()))
            with committed():
                outcome = submission_grade(submission_id=delivering[-1].pk)
            if outcome == GradingRun.GRADED:
                assert seen_in_flight[-1] <= cap, f"{seen_in_flight[-1]} in flight, cap {cap}"
                graded.append(delivering[-1].pk)
        return graded

    return run


# --- the in-flight cap ----------------------------------------------------------------------
def test_a_flood_is_stored_but_only_the_cap_is_sent(
    challenge: Any, learner: Any, broker: Broker, committed: Any, settings: Any
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 3
    attempt = attempt_start(learner=learner, quiz=challenge)
    position = attempt.items.get().position
    with committed():
        runs = [
            attempt_examples_run(attempt=attempt, position=position, code="while True:\n    pass\n")
            for _ in range(40)
        ]
    assert Submission.objects.filter(learner=learner).count() == 40  # nothing is lost
    assert broker.sent == [r.pk for r in runs[:3]]
    assert broker.in_flight(learner) == 3
    # A held submission cannot be started, even if a message for it arrived.
    last = runs[-1]
    with committed():
        assert submission_grade(submission_id=last.pk) == GradingRun.NOT_CLAIMED
    last.refresh_from_db()
    assert last.status == SubmissionStatus.QUEUED and last.attempt_count == 0
    assert broker.sent == [r.pk for r in runs[:3]]
    # The learner is told why it waits.
    body = login(learner).get(f"/api/submissions/{last.pk}").json()
    assert body["pending"] and body["note"] == "Waiting for your earlier code runs to finish."


@pytest.mark.sandbox
def test_finishing_one_sends_the_next_in_order(
    challenge: Any, learner: Any, broker: Broker, committed: Any, deliver: Any, settings: Any
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 2
    attempt = attempt_start(learner=learner, quiz=challenge)
    position = attempt.items.get().position
    with committed():
        runs = [
            attempt_examples_run(attempt=attempt, position=position, code=RIGHT) for _ in "12345"
        ]
    assert broker.sent == [r.pk for r in runs[:2]]
    assert deliver(1, cap=2) == [runs[0].pk]
    assert broker.sent == [r.pk for r in runs[:3]]  # the next one, in order
    assert deliver(cap=2) == [r.pk for r in runs[1:]]
    assert set(Submission.objects.values_list("status", flat=True)) == {SubmissionStatus.GRADED}


@pytest.mark.sandbox
def test_another_learner_is_served_before_the_flooders_backlog(
    python_item: Any, broker: Broker, committed: Any, deliver: Any, settings: Any
) -> None:
    cap = 2
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = cap
    quiz = code_quiz(python_item)
    flooder, other = UserFactory(role="learner"), UserFactory(role="learner")
    a_attempt = attempt_start(learner=flooder, quiz=quiz)
    b_attempt = attempt_start(learner=other, quiz=quiz)
    with committed():
        floods = [
            attempt_examples_run(
                attempt=a_attempt,
                position=1,
                code=f"def add(a, b):\n    return a + b + {n} - {n}\n",
            )
            for n in range(10)
        ]
    with committed():
        theirs = attempt_examples_run(attempt=b_attempt, position=1, code=RIGHT)
    assert Submission.objects.count() == 11
    order = deliver(cap=cap)
    assert sorted(order) == sorted([theirs.pk, *(f.pk for f in floods)])  # each once
    assert order.index(theirs.pk) < order.index(floods[cap].pk)
    assert [pk for pk in order if pk != theirs.pk] == [f.pk for f in floods]  # in order
    assert Submission.objects.filter(status=SubmissionStatus.GRADED).count() == 11


def test_the_sweeper_sends_what_is_held_when_slots_are_free(
    challenge: Any, learner: Any, broker: Broker, committed: Any, settings: Any
) -> None:
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 1
    attempt = attempt_start(learner=learner, quiz=challenge)
    with committed():
        first = attempt_examples_run(attempt=attempt, position=1, code=RIGHT)
        second = attempt_examples_run(attempt=attempt, position=1, code=RIGHT)
    assert broker.sent == [first.pk]
    # The first one finished without its release being committed (say the process died).
    Submission.objects.filter(pk=first.pk).update(status=SubmissionStatus.GRADED)
    with committed():
        submissions_sweep()
    assert broker.sent == [first.pk, second.pk]
    with committed():
        submissions_sweep()  # nothing more to send: the cap is full again
    assert broker.sent == [first.pk, second.pk]


# --- rate limits ----------------------------------------------------------------------------
def test_run_examples_beyond_the_rate_get_429_with_retry_after_and_create_nothing(
    challenge: Any, learner: Any, rates: Any, broker: Broker
) -> None:
    rates(run_examples="2/min")
    api = login(learner)
    attempt = attempt_start(learner=learner, quiz=challenge)
    url = run_url(attempt)
    for _ in range(2):
        assert api.post(url, {"code": RIGHT}, content_type="application/json").status_code == 202
    limited = api.post(url, {"code": RIGHT}, content_type="application/json")
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    assert 0 < wait <= 60
    assert limited.json()["detail"] == f"Too many code runs: try again in {wait} s."
    assert Submission.objects.count() == 2
    # Per account, not per address: another learner on the same address still runs.
    other = UserFactory(role="learner")
    theirs = attempt_start(learner=other, quiz=challenge)
    response = login(other).post(run_url(theirs), {"code": RIGHT}, content_type="application/json")
    assert response.status_code == 202


def test_starting_attempts_at_code_quizzes_beyond_the_rate_gets_429(
    python_item: Any, learner: Any, rates: Any
) -> None:
    rates(challenge_starts="2/hour")
    api = login(learner)
    first, second = code_quiz(python_item), code_quiz(python_item)
    # A quiz that is not a challenge but draws a coding item counts too.
    third = code_quiz(python_item, kind=QuizKind.CUSTOM)
    assert api.post(f"/api/quizzes/{first.slug}/attempts").status_code == 201
    assert api.post(f"/api/quizzes/{second.slug}/attempts").status_code == 201
    # Resuming an open attempt starts nothing: it is neither counted nor refused.
    assert api.post(f"/api/quizzes/{first.slug}/attempts").status_code == 201
    limited = api.post(f"/api/quizzes/{third.slug}/attempts")
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    assert 0 < wait <= 3600
    assert limited.json()["detail"] == f"Too many challenge starts: try again in {wait} s."
    assert not Attempt.objects.filter(quiz=third).exists()
    assert Attempt.objects.filter(learner=learner).count() == 2


def test_starting_objective_quizzes_is_not_limited(topic: Any, learner: Any, rates: Any) -> None:
    rates(challenge_starts="1/hour")
    load_sample_items(topic.stage, topic.slug, OBJECTIVE)
    api = login(learner)
    for _ in range(3):
        quiz = QuizFactory(stage=topic.stage)
        QuizPool.objects.create(
            quiz=quiz, count=3, stage=topic.stage, item_types=[s["type"] for s in OBJECTIVE]
        )
        assert api.post(f"/api/quizzes/{quiz.slug}/attempts").status_code == 201


def test_the_start_page_shows_the_limit_instead_of_an_error_page(
    python_item: Any, learner: Any, rates: Any
) -> None:
    rates(challenge_starts="1/hour")
    page = login(learner)
    first, second = code_quiz(python_item), code_quiz(python_item)
    started = page.post(f"/quizzes/{first.slug}/start")
    assert started.status_code == 302
    limited = page.post(f"/quizzes/{second.slug}/start")
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    html = limited.content.decode()
    assert f"Too many challenge starts: try again in {wait} s." in html
    assert second.title in html  # the quiz's own page, with the message on it
    assert not Attempt.objects.filter(quiz=second).exists()


# --- submit and auto-submit are never refused -----------------------------------------------
@pytest.fixture
def at_the_limits(
    challenge: Any, learner: Any, rates: Any, settings: Any, broker: Broker, committed: Any
) -> Any:
    """A learner who used every code run and has the cap in flight, in an open attempt."""
    settings.GRADING_MAX_IN_FLIGHT_PER_LEARNER = 1
    rates(run_examples="1/min", challenge_starts="1/hour")
    api = login(learner)
    with committed():
        started = api.post(f"/api/quizzes/{challenge.slug}/attempts")
    assert started.status_code == 201
    attempt = Attempt.objects.get(pk=started.json()["id"])
    with committed():
        ran = api.post(run_url(attempt), {"code": RIGHT}, content_type="application/json")
    assert ran.status_code == 202
    with committed():
        refused = api.post(run_url(attempt), {"code": RIGHT}, content_type="application/json")
    assert refused.status_code == 429
    assert broker.in_flight(learner) == 1
    save_code(attempt, RIGHT)
    return attempt, api


def final_submission(attempt: Any) -> Submission:
    return Submission.objects.get(attempt_item__attempt=attempt, kind=SubmissionKind.SUBMIT)


@pytest.mark.sandbox
@pytest.mark.parametrize("via", ["page", "api"])
def test_submitting_at_the_limits_is_accepted_and_graded_when_the_cap_frees(
    at_the_limits: Any, broker: Broker, committed: Any, deliver: Any, via: str
) -> None:
    attempt, client = at_the_limits
    with committed():
        if via == "page":
            response = client.post(f"/attempts/{attempt.pk}/submit")
            assert response.status_code == 302
            assert response["Location"] == f"/attempts/{attempt.pk}/result"
        else:
            response = client.post(f"/api/attempts/{attempt.pk}/submit")
            assert response.status_code == 202
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    final = final_submission(attempt)
    assert final.status == SubmissionStatus.QUEUED
    assert final.pk not in broker.sent  # stored, waiting behind the learner's run
    deliver(cap=1)
    assert broker.sent[-1] == final.pk
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.score == attempt.max_score


@pytest.mark.sandbox
def test_the_deadline_auto_submit_at_the_limits_is_accepted_and_graded_later(
    at_the_limits: Any, broker: Broker, committed: Any, deliver: Any, settings: Any
) -> None:
    attempt, _ = at_the_limits
    settings.ATTEMPT_GRACE_SECONDS = 5
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    with committed():
        assert autosubmit_attempts() == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.auto_submitted
    final = final_submission(attempt)
    assert final.pk not in broker.sent
    deliver(cap=1)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.score == attempt.max_score
