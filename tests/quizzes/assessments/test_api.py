"""The learner API: JSON errors that change nothing, object-level access, feedback timing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.utils import timezone

from quizzes.assessments.selectors import access_submission
from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.models import Attempt, AttemptStatus, QuizPool, Submission
from quizzes.pipeline.submissions import submission_create
from tests.factories import QuizFactory, UserFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=8, stage=topic.stage)
    return quiz


@pytest.fixture
def api(learner: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    client.get("/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def put(client: Client, url: str, body: Any) -> Any:
    return client.put(url, body, content_type="application/json")


def test_start_save_submit_round_trip(api: Client, quiz: Any, learner: Any) -> None:
    started = api.post(f"/api/quizzes/{quiz.slug}/attempts")
    assert started.status_code == 201
    body = started.json()
    assert body["status"] == "in_progress" and len(body["items"]) == 8
    assert body["score"] is None and body["feedback_due"] is False
    tf = next(i for i in body["items"] if i["type"] == "true_false")
    url = f"/api/attempts/{body['id']}/answers/{tf['position']}"
    saved = put(api, url, {"answer": {"value": False}, "revision": 1})
    assert saved.status_code == 200 and saved.json()["saved"] is True
    submitted = api.post(f"/api/attempts/{body['id']}/submit")
    assert submitted.status_code == 200  # nothing to grade asynchronously
    result = submitted.json()
    assert result["status"] == "graded" and result["feedback_due"] is True
    assert result["score"] == 1.0
    again = api.post(f"/api/attempts/{body['id']}/submit")
    assert again.json()["submitted_at"] == result["submitted_at"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"answer": {"value": "yes"}, "revision": 1}, 400, "Answer true or false."),
        ({"answer": {"value": True}}, 400, "Invalid input."),
        ({"answer": {"value": True}, "revision": 0}, 400, "Invalid input."),
        ("not json at all", 400, "JSON parse error"),
    ],
)
def test_bad_saves_get_a_json_error_and_change_nothing(
    api: Client, quiz: Any, learner: Any, body: Any, status: int, detail: str
) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type="true_false")
    url = f"/api/attempts/{attempt.pk}/answers/{item.position}"
    response = (
        api.put(url, body, content_type="application/json")
        if isinstance(body, str)
        else put(api, url, body)
    )
    assert response.status_code == status
    assert detail in response.json()["detail"]
    item.refresh_from_db()
    assert item.answer is None


def test_csrf_is_enforced_on_the_api(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    response = put(client, f"/api/attempts/{attempt.pk}/answers/1", {"answer": {}, "revision": 1})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_another_learners_attempt_is_a_404_everywhere(api: Client, quiz: Any) -> None:
    other = attempt_start(learner=UserFactory(), quiz=quiz)
    for method, url in [
        ("get", f"/api/attempts/{other.pk}"),
        ("put", f"/api/attempts/{other.pk}/answers/1"),
        ("post", f"/api/attempts/{other.pk}/flags/1"),
        ("post", f"/api/attempts/{other.pk}/submit"),
        ("post", f"/api/attempts/{other.pk}/items/8/run"),
        ("get", f"/attempts/{other.pk}/"),
        ("get", f"/attempts/{other.pk}/result"),
    ]:
        response = getattr(api, method)(url, {}, content_type="application/json")
        assert response.status_code == 404, (method, url)
    other.refresh_from_db()
    assert other.status == "in_progress"


def test_another_learners_submission_is_a_404_like_a_missing_one(
    api: Client, quiz: Any, learner: Any
) -> None:
    other = attempt_start(learner=UserFactory(), quiz=quiz)
    item = other.items.get(item_version__item__type="code")
    theirs = submission_create(
        learner=other.learner, item_version=item.item_version, source="x", attempt_item=item
    )
    mine = attempt_start(learner=learner, quiz=quiz)
    my_item = mine.items.get(item_version__item__type="code")
    own = submission_create(
        learner=learner, item_version=my_item.item_version, source="y", attempt_item=my_item
    )
    missing = api.get(f"/api/submissions/{theirs.pk + 1000}")
    response = api.get(f"/api/submissions/{theirs.pk}")
    assert response.status_code == missing.status_code == 404
    assert (
        response.json()
        == missing.json()
        == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "No such submission.",
        }
    )
    assert api.get(f"/api/submissions/{own.pk}").json()["id"] == own.pk
    instructor = Client()
    instructor.force_login(UserFactory(role="instructor"))
    assert instructor.get(f"/api/submissions/{theirs.pk}").status_code == 200


def test_access_submission_is_for_its_learner_and_result_readers(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type="code")
    submission = submission_create(
        learner=learner, item_version=item.item_version, source="x", attempt_item=item
    )
    assert access_submission(user=learner, submission_id=submission.pk) == submission
    reader = UserFactory(role="instructor")
    assert access_submission(user=reader, submission_id=submission.pk) == submission
    for user, submission_id in [
        (UserFactory(), submission.pk),
        (learner, submission.pk + 1000),
    ]:
        with pytest.raises(Http404):
            access_submission(user=user, submission_id=submission_id)
    Submission.objects.filter(pk=submission.pk).update(learner=None)  # account deleted
    with pytest.raises(Http404):
        access_submission(user=learner, submission_id=submission.pk)


def test_instructors_read_but_cannot_write_a_learners_attempt(quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    client = Client()
    client.force_login(UserFactory(role="instructor"))
    assert client.get(f"/api/attempts/{attempt.pk}").status_code == 200
    response = put(client, f"/api/attempts/{attempt.pk}/answers/1", {"answer": {}, "revision": 1})
    assert response.status_code == 404
    assert client.post(f"/api/attempts/{attempt.pk}/submit").status_code == 404


def test_anonymous_api_calls_are_refused_with_json(quiz: Any) -> None:
    response = Client().post(f"/api/quizzes/{quiz.slug}/attempts")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "credentials" in response.json()["detail"]


def test_run_examples_is_accepted_with_a_status_url_and_rate_limited(
    api: Client, quiz: Any, learner: Any, settings: Any, private_cache: Any
) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "run_examples": "2/min"},  # RUN_EXAMPLES_RATE
    }
    attempt = attempt_start(learner=learner, quiz=quiz)
    code = attempt.items.get(item_version__item__type="code")
    url = f"/api/attempts/{attempt.pk}/items/{code.position}/run"
    first = api.post(url, {"code": "def add(a, b): return a + b"}, content_type="application/json")
    assert first.status_code == 202
    assert first.json()["status_url"] == f"/api/v1/submissions/{first.json()['id']}"
    assert api.get(first.json()["status_url"]).json()["status"] == "queued"
    api.post(url, {"code": "x"}, content_type="application/json")
    limited = api.post(url, {"code": "y"}, content_type="application/json")
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("Too many code runs: try again in ")
    assert Submission.objects.count() == 2


def test_objective_items_have_no_examples_to_run(api: Client, quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    url = f"/api/attempts/{attempt.pk}/items/1/run"
    if attempt.items.get(position=1).item_version.item.type == "code":
        url = f"/api/attempts/{attempt.pk}/items/2/run"
    response = api.post(url, {"code": "x = 1"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Only coding challenges have examples to run."
    assert not Submission.objects.exists()


def test_running_examples_after_the_deadline_is_refused(
    api: Client, quiz: Any, learner: Any, settings: Any, private_cache: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 5
    attempt = attempt_start(learner=learner, quiz=quiz)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=10))
    code = attempt.items.get(item_version__item__type="code")
    response = api.post(
        f"/api/attempts/{attempt.pk}/items/{code.position}/run",
        {"code": "def add(a, b): return a + b"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "The time limit has passed; the examples were not run."
    assert not Submission.objects.exists()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_running_examples_within_the_grace_period_is_accepted(
    api: Client, quiz: Any, learner: Any, settings: Any, private_cache: Any
) -> None:
    settings.ATTEMPT_GRACE_SECONDS = 30
    attempt = attempt_start(learner=learner, quiz=quiz)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=2))
    code = attempt.items.get(item_version__item__type="code")
    response = api.post(
        f"/api/attempts/{attempt.pk}/items/{code.position}/run",
        {"code": "def add(a, b): return a + b"},
        content_type="application/json",
    )
    assert response.status_code == 202
    assert Submission.objects.get().kind == "run_examples"


def test_running_examples_of_a_submitted_attempt_is_refused(
    api: Client, quiz: Any, learner: Any, private_cache: Any
) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    code = attempt.items.get(item_version__item__type="code")
    attempt_submit(attempt=attempt)  # the starter code is not graded: no submission
    response = api.post(
        f"/api/attempts/{attempt.pk}/items/{code.position}/run",
        {"code": "def add(a, b): return a + b"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This attempt was already submitted; the examples were not run."
    )
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"code": "   "}, "Write some code before running the examples."),
        ({"code": "x" * (64 * 1024 + 1)}, "no more than 65536 characters"),
        ({"code": "é" * (32 * 1024 + 1)}, "Code must be text of at most 64 KiB."),
        ({"code": "x = 1", "request_id": "r" * 61}, "no more than 60 characters"),
    ],
)
def test_bad_runs_get_a_json_error_and_create_nothing(
    api: Client, quiz: Any, learner: Any, private_cache: Any, body: Any, detail: str
) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    code = attempt.items.get(item_version__item__type="code")
    response = api.post(
        f"/api/attempts/{attempt.pk}/items/{code.position}/run",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert detail in str(response.json())
    assert not Submission.objects.exists()


def test_submission_results_obey_the_feedback_setting(api: Client, quiz: Any, learner: Any) -> None:
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get(item_version__item__type="code")
    submission = submission_create(
        learner=learner, item_version=item.item_version, source="x", attempt_item=item
    )
    Submission.objects.filter(pk=submission.pk).update(
        status="graded",
        score=0.5,
        results={"message": "", "outcomes": [{"name": "h", "visible": False, "passed": False,
                                              "category": "wrong_answer", "input_repr": "SECRET"}]},
    )  # fmt: skip
    body = api.get(f"/api/submissions/{submission.pk}").json()
    assert body["status"] == "graded"
    assert "score" not in body and "outcomes" not in body  # the attempt is still open
    api.post(f"/api/attempts/{attempt.pk}/submit")
    body = api.get(f"/api/submissions/{submission.pk}").json()
    assert body["outcomes"][0]["category"] == "failed"  # not how a hidden test failed
    assert "SECRET" not in str(body)  # hidden outcomes never carry inputs


def test_the_openapi_schema_documents_the_api(api: Client) -> None:
    schema = api.get("/api/v1/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/attempts/{attempt_id}/answers/{position}" in text
