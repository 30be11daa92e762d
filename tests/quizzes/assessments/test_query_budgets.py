"""Query budgets of the learner's hot path (docs/architecture.md, "The hot path"): the
attempt page, an autosave (as the page sends it, and with an API token) and a submit (page
and API), for a stage-like quiz with a coding challenge.

Counted as the suite runs: inside the test's transaction, so each transaction of the code
under test adds a SAVEPOINT and its RELEASE (two queries production does not make). The
learner's permissions are warm in the cache, as they are from a learner's second request on
(accounts/backends.py); ``test_permissions_are_not_read_again`` checks that they stay so.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from quizzes.assessments.services import attempt_start
from quizzes.models import AttemptEvent, AttemptItem, AttemptStatus, EventKind, QuizPool
from tests.api.conftest import token_client, token_for
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = pytest.mark.django_db

# Before these budgets (the same tests, counted the same way): page 9, save 11 (page) and
# 10 (token), submit 30 (page) and 33 (API). README "Performance" has both columns.
# With Redis the session is read from the cache (one query fewer than these, which hold on
# SQLite as well); a token save has no session to read.
PAGE_BUDGET = 7
SAVE_BUDGET = 7
TOKEN_SAVE_BUDGET = 6
SUBMIT_PAGE_BUDGET = 13  # an UPDATE per distinct outcome: right, wrong, code sent
SUBMIT_API_BUDGET = 16


@pytest.fixture
def attempt(topic: Any, learner: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, title="Budget quiz")
    QuizPool.objects.create(quiz=quiz, count=len(OBJECTIVE) + 1, stage=topic.stage)
    return attempt_start(learner=learner, quiz=quiz)


@pytest.fixture
def learner_client(learner: Any) -> Client:
    """The learner's learner_client: a session, its CSRF token in the header as attempt.js sends
    it, and a first page loaded (the permissions are then in the cache)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert client.get("/").status_code == 200
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def item_of(attempt: Any, kind: str) -> AttemptItem:
    return attempt.items.get(item_version__item__type=kind)


def save(client: Client, attempt: Any, item: AttemptItem, answer: Any, revision: int) -> Any:
    return client.put(
        f"/api/v1/attempts/{attempt.pk}/answers/{item.position}",
        {"answer": answer, "revision": revision},
        content_type="application/json",
    )


def answer_everything(client: Client, attempt: Any) -> None:
    answers = {
        "true_false": {"value": True},
        "numeric": {"value": "42"},
        "short_text": {"text": "idempotent"},
        "code": {"code": "def add(a, b):\n    return a + b\n"},
    }
    for kind, answer in answers.items():
        assert save(client, attempt, item_of(attempt, kind), answer, 1).status_code == 200


def test_the_attempt_page(
    learner_client: Client, attempt: Any, django_assert_max_num_queries: Any
) -> None:
    answer_everything(learner_client, attempt)
    with django_assert_max_num_queries(PAGE_BUDGET):
        page = learner_client.get(f"/attempts/{attempt.pk}/")
    assert page.status_code == 200
    assert page.content.decode().count('class="answer-form"') == len(OBJECTIVE) + 1


def test_an_autosave_from_the_page(
    learner_client: Client, attempt: Any, django_assert_max_num_queries: Any
) -> None:
    item = item_of(attempt, "short_text")
    assert save(learner_client, attempt, item, {"text": "first"}, 1).status_code == 200
    with django_assert_max_num_queries(SAVE_BUDGET):
        response = save(learner_client, attempt, item, {"text": "second"}, 2)
    assert response.status_code == 200 and response.json()["saved"] is True
    item.refresh_from_db()
    assert (item.answer, item.answer_revision) == ({"text": "second"}, 2)


def test_an_autosave_with_an_api_token(
    learner: Any, attempt: Any, django_assert_max_num_queries: Any
) -> None:
    client = token_client(token_for(learner, scope="learner"))
    item = item_of(attempt, "numeric")
    assert save(client, attempt, item, {"value": "1"}, 1).status_code == 200
    with django_assert_max_num_queries(TOKEN_SAVE_BUDGET):
        response = save(client, attempt, item, {"value": "2"}, 2)
    assert response.status_code == 200 and response.json()["saved"] is True


def test_an_unchanged_answer_writes_the_revision_only(
    learner_client: Client, attempt: Any, django_assert_max_num_queries: Any
) -> None:
    item = item_of(attempt, "short_text")
    assert save(learner_client, attempt, item, {"text": "same"}, 1).status_code == 200
    logged = AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SAVED).count()
    with CaptureQueriesContext(connection) as queries:
        response = save(learner_client, attempt, item, {"text": "same"}, 2)
    assert response.status_code == 200 and response.json() == {
        "saved": True,
        "revision": 2,
        "saved_at": response.json()["saved_at"],
    }
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert len(writes) == 1 and '"answer"' not in writes[0].split("WHERE")[0], writes
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SAVED).count() == logged
    item.refresh_from_db()
    assert (item.answer, item.answer_revision) == ({"text": "same"}, 2)


def test_a_submit_from_the_page(
    learner_client: Client, attempt: Any, django_assert_max_num_queries: Any
) -> None:
    answer_everything(learner_client, attempt)
    with django_assert_max_num_queries(SUBMIT_PAGE_BUDGET):
        response = learner_client.post(f"/attempts/{attempt.pk}/submit")
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED  # the code is being graded
    assert attempt.items.filter(locked=False).count() == 0


def test_a_submit_through_the_api(
    learner_client: Client, attempt: Any, django_assert_max_num_queries: Any
) -> None:
    answer_everything(learner_client, attempt)
    with django_assert_max_num_queries(SUBMIT_API_BUDGET):
        response = learner_client.post(f"/api/v1/attempts/{attempt.pk}/submit")
    assert response.status_code == 202
    assert response.json()["status"] == AttemptStatus.SUBMITTED


def test_a_submit_with_nothing_to_grade_later_is_graded_in_the_same_budget(
    topic: Any, learner: Any, learner_client: Client, django_assert_max_num_queries: Any
) -> None:
    load_sample_items(topic.stage, topic.slug, OBJECTIVE)
    quiz = QuizFactory(stage=topic.stage, title="Objective only")
    QuizPool.objects.create(quiz=quiz, count=len(OBJECTIVE), stage=topic.stage)
    attempt = attempt_start(learner=learner, quiz=quiz)
    assert (
        save(
            learner_client, attempt, item_of(attempt, "true_false"), {"value": True}, 1
        ).status_code
        == 200
    )
    with django_assert_max_num_queries(SUBMIT_PAGE_BUDGET):
        assert learner_client.post(f"/attempts/{attempt.pk}/submit").status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.score is not None
    kinds = list(attempt.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.SUBMITTED, EventKind.GRADED]


def test_permissions_are_not_read_again(learner_client: Client, attempt: Any) -> None:
    item = item_of(attempt, "short_text")
    with CaptureQueriesContext(connection) as queries:
        assert save(learner_client, attempt, item, {"text": "x"}, 1).status_code == 200
        assert learner_client.get(f"/attempts/{attempt.pk}/").status_code == 200
    permission_reads = [q["sql"] for q in queries if "auth_permission" in q["sql"]]
    assert permission_reads == []
