"""API v1 for instructors and administrators: items, quizzes, the bank, learners' work,
cohort analytics, users and roles; each refused to the roles that may not use it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import yaml
from django.test import Client

from accounts.models import RoleChange, User
from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.models import Attempt, Item, ItemStatus, Quiz
from tests.api.conftest import V1, problem, send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_ITEM = """\
slug: api-made-claim
type: true_false
topic: {topic}
difficulty: 2
cognitive: recall
title: A claim made through the API
body: |
  Every GET request is idempotent by definition.
explanation: |
  RFC 9110 defines GET as safe and idempotent.
answer: true
"""


@pytest.fixture
def author(client_for: Any) -> Client:
    return client_for("instructor")  # type: ignore[no-any-return]


@pytest.fixture
def graded(every_type_quiz: Any) -> Attempt:
    attempt = attempt_start(learner=UserFactory(role="learner"), quiz=every_type_quiz)
    return attempt_submit(attempt=attempt)


def test_items_list_filter_and_read(every_type_quiz: Any, author: Client) -> None:
    listed = author.get(f"{V1}/author/items/").json()
    assert listed["count"] == 9
    tf = author.get(f"{V1}/author/items/?type=true_false").json()["results"]
    assert [i["slug"] for i in tf] == ["t-tf"]
    stage = every_type_quiz.stage.number
    assert author.get(f"{V1}/author/items/?stage={stage}&q=single").json()["count"] == 1
    assert problem(author.get(f"{V1}/author/items/?type=essay"), 400)["errors"][0]["field"] == (
        "type"
    )
    detail = author.get(f"{V1}/author/items/t-single").json()
    assert (
        detail["key_lines"] and "GET" in detail["source"] and detail["versions"][0]["number"] == 1
    )
    problem(author.get(f"{V1}/author/items/no-such-item"), 404)


def test_an_item_is_created_previewed_verified_published_and_retired(
    topic: Any, author: Client
) -> None:
    created = author.post(
        f"{V1}/author/items/",
        {"stage": topic.stage.number, "source": NEW_ITEM.format(topic=topic.slug)},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "draft" and created.json()["version"] == 1
    preview = author.get(f"{V1}/author/items/api-made-claim/preview").json()
    assert preview["title"] == "A claim made through the API"
    assert "key_lines" not in preview and "explanation_html" not in preview
    assert author.post(f"{V1}/author/items/api-made-claim/verify").json() == {
        "ok": True,
        "problems": [],
    }
    assert author.post(f"{V1}/author/items/api-made-claim/publish").json()["status"] == (
        "published"
    )
    edited = author.put(
        f"{V1}/author/items/api-made-claim",
        {"source": NEW_ITEM.format(topic=topic.slug).replace("answer: true", "answer: false")},
        content_type="application/json",
    )
    assert edited.json()["version"] == 2
    assert author.post(f"{V1}/author/items/api-made-claim/retire").json()["status"] == "retired"
    assert author.delete(f"{V1}/author/items/api-made-claim").status_code == 204
    assert not Item.objects.filter(slug="api-made-claim").exists()


def test_a_bad_item_says_what_is_wrong_and_saves_nothing(topic: Any, author: Client) -> None:
    broken = NEW_ITEM.format(topic=topic.slug).replace("answer: true", "answer: maybe")
    response = author.post(
        f"{V1}/author/items/",
        {"stage": topic.stage.number, "source": broken},
        content_type="application/json",
    )
    body = problem(response, 400)
    assert body["errors"][0]["field"] == "source" and "answer" in body["detail"]
    not_yaml = author.post(
        f"{V1}/author/items/",
        {"stage": topic.stage.number, "source": "slug: [unclosed"},
        content_type="application/json",
    )
    assert "invalid YAML" in problem(not_yaml, 400)["detail"]
    no_stage = author.post(
        f"{V1}/author/items/", {"stage": 999, "source": "x"}, content_type="application/json"
    )
    assert problem(no_stage, 400)["errors"][0]["field"] == "stage"
    assert not Item.objects.exists()


def test_an_answered_item_cannot_be_deleted(graded: Attempt, author: Client) -> None:
    body = problem(author.delete(f"{V1}/author/items/t-tf"), 409)
    assert "retire it instead" in body["detail"]
    assert Item.objects.filter(slug="t-tf").exists()


def test_quizzes_crud_with_pools(every_type_quiz: Any, author: Client) -> None:
    stage = every_type_quiz.stage
    topic = stage.topics.first()
    quiz = {
        "slug": "api-quiz",
        "title": "Made through the API",
        "stage": stage.number,
        "status": "published",
        "time_limit_seconds": 600,
        "pools": [
            {"count": 2, "stage": stage.number, "topic": topic.slug, "item_types": ["true_false"]},
            {"count": 1, "item": "t-single"},
        ],
    }
    created = author.post(f"{V1}/author/quizzes/", quiz, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "custom" and len(body["pools"]) == 2 and body["items"] == 2
    assert (
        problem(author.post(f"{V1}/author/quizzes/", quiz, content_type="application/json"), 400)[
            "errors"
        ][0]["field"]
        == "slug"
    )
    listed = author.get(f"{V1}/author/quizzes/?status=published").json()
    assert {q["slug"] for q in listed["results"]} == {"every-type", "api-quiz"}
    changed = author.put(
        f"{V1}/author/quizzes/api-quiz",
        {**quiz, "title": "Renamed", "pools": [{"count": 1, "item": "t-tf"}]},
        content_type="application/json",
    )
    assert changed.json()["title"] == "Renamed" and len(changed.json()["pools"]) == 1
    bad = author.put(
        f"{V1}/author/quizzes/api-quiz",
        {**quiz, "pools": [{"count": 1, "difficulty_min": 4, "difficulty_max": 2}]},
        content_type="application/json",
    )
    assert problem(bad, 400)["errors"][0]["field"] == "pools.0.difficulty_max"
    unknown_topic = author.put(
        f"{V1}/author/quizzes/api-quiz",
        {**quiz, "pools": [{"count": 1, "stage": stage.number, "topic": "nope"}]},
        content_type="application/json",
    )
    assert problem(unknown_topic, 400)["errors"][0]["field"] == "pools.0.topic"
    assert Quiz.objects.get(slug="api-quiz").title == "Renamed"
    assert author.delete(f"{V1}/author/quizzes/api-quiz").status_code == 204
    attempt_start(learner=UserFactory(role="learner"), quiz=every_type_quiz)
    problem(author.delete(f"{V1}/author/quizzes/every-type"), 409)


def test_bank_import_dry_run_then_confirm_and_export(topic: Any, author: Client) -> None:
    entry = yaml.safe_load(NEW_ITEM.format(topic=topic.slug))
    bank = yaml.safe_dump({"stage": topic.stage.number, "items": [entry]})
    name = f"stage-{topic.stage.number:02d}.yaml"
    dry = author.post(
        f"{V1}/author/bank/import", {"name": name, "content": bank}, content_type="application/json"
    )
    assert dry.json() == {
        "dry_run": True,
        "created": ["api-made-claim"],
        "updated": [],
        "unchanged": [],
    }
    assert not Item.objects.exists()
    real = author.post(
        f"{V1}/author/bank/import",
        {"name": name, "content": bank, "dry_run": False},
        content_type="application/json",
    )
    assert real.json()["created"] == ["api-made-claim"]
    assert Item.objects.get().status == ItemStatus.PUBLISHED
    exported = author.get(f"{V1}/author/bank/export/stage-{topic.stage.number}.yaml")
    assert exported["Content-Type"] == "application/x-yaml"
    assert yaml.safe_load(exported.content)["items"][0]["slug"] == "api-made-claim"
    broken = author.post(
        f"{V1}/author/bank/import",
        {"name": name, "content": "stage: 1\nitems: nope\n"},
        content_type="application/json",
    )
    assert problem(broken, 400)["errors"][0]["field"] == "content"
    problem(author.get(f"{V1}/author/bank/export/stage-99.yaml"), 404)


def test_bank_imports_and_item_checks_share_a_strict_limit(
    topic: Any, author: Client, settings: Any, private_cache: Any
) -> None:
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {
        **framework["DEFAULT_THROTTLE_RATES"],
        "bank_imports": "2/hour",
    }
    settings.REST_FRAMEWORK = framework
    body = {"content": "stage: 1\nitems: []\n"}
    for _ in range(2):
        response = author.post(f"{V1}/author/bank/import", body, content_type="application/json")
        assert response.status_code != 429
    limited = author.post(f"{V1}/author/items/t-tf/verify")
    assert "bank imports and checks" in problem(limited, 429)["detail"]
    assert int(limited["Retry-After"]) > 60
    assert author.get(f"{V1}/author/items/").status_code == 200  # reads are counted apart


def test_learners_attempts_event_logs_and_cohort_analytics(graded: Attempt, author: Client) -> None:
    rows = author.get(f"{V1}/author/attempts/?quiz=every-type").json()["results"]
    assert rows[0]["id"] == graded.pk and rows[0]["learner"] == graded.learner.email
    assert author.get(f"{V1}/author/attempts/?learner=nobody@").json()["count"] == 0
    events = author.get(rows[0]["events_url"]).json()["results"]
    assert [e["kind"] for e in events] == ["started", "submitted", "graded"]
    only = author.get(f"{rows[0]['events_url']}?kind=graded&ordering=-at").json()["results"]
    assert [e["kind"] for e in only] == ["graded"]
    assert {"name": "item_count", "value": "9"} in events[0]["details"]
    overview = author.get(f"{V1}/author/analytics/quizzes").json()["results"]
    assert overview[0]["quiz"] == "every-type" and overview[0]["graded"] == 1
    results = author.get(f"{V1}/author/analytics/results?quiz=every-type").json()["results"]
    assert results[0]["score"] == 0.0 and results[0]["percent"] == 0.0
    results_csv = author.get(f"{V1}/author/analytics/results.csv", HTTP_ACCEPT="text/csv")
    assert results_csv["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(b"".join(results_csv.streaming_content).decode())))
    assert table[0][0] == "learner_email" and table[1][0] == graded.learner.email
    stats = author.get(f"{V1}/author/analytics/items?stage={graded.quiz.stage.number}").json()
    single = next(r for r in stats["results"] if r["item"] == "t-single")
    assert single["n"] == 1 and len(single["choices"]) == 3
    items_csv = author.get(f"{V1}/author/analytics/items.csv")
    assert b"facility" in b"".join(items_csv.streaming_content)
    problem(author.get(f"{V1}/author/analytics/items?stage=abc"), 400)
    problem(author.get(f"{V1}/author/analytics/results.csv?quiz=no-such-quiz"), 404)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/author/items/", None),
        ("post", "/author/items/", {"stage": 1, "source": "x"}),
        ("get", "/author/items/t-tf", None),
        ("put", "/author/items/t-tf", {"source": "x"}),
        ("delete", "/author/items/t-tf", None),
        ("get", "/author/items/t-tf/preview", None),
        ("post", "/author/items/t-tf/verify", None),
        ("post", "/author/items/t-tf/publish", None),
        ("post", "/author/items/t-tf/retire", None),
        ("get", "/author/quizzes/", None),
        ("post", "/author/quizzes/", {"slug": "x", "title": "x", "pools": []}),
        ("get", "/author/quizzes/every-type", None),
        ("put", "/author/quizzes/every-type", {"slug": "x", "title": "x", "pools": []}),
        ("delete", "/author/quizzes/every-type", None),
        ("post", "/author/bank/import", {"content": "x"}),
        ("get", "/author/bank/export/stage-1.yaml", None),
        ("get", "/author/attempts/", None),
        ("get", "/author/attempts/1/events", None),
        ("get", "/author/analytics/quizzes", None),
        ("get", "/author/analytics/results", None),
        ("get", "/author/analytics/results.csv", None),
        ("get", "/author/analytics/items", None),
        ("get", "/author/analytics/items.csv", None),
        ("get", "/users/", None),
        ("get", "/users/1", None),
        ("post", "/users/1/role", {"role": "admin"}),
    ],
)
def test_staff_routes_refuse_learners_and_anonymous_visitors(
    every_type_quiz: Any, client_for: Any, method: str, url: str, body: Any
) -> None:
    problem(send(Client(), method, V1 + url, body), 401)
    problem(send(client_for("learner"), method, V1 + url, body), 403)
    assert Item.objects.get(slug="t-tf").status == "published"
    assert Quiz.objects.filter(slug="every-type").exists()


def test_admins_list_users_and_change_roles(client_for: Any) -> None:
    admin = client_for("admin")
    target = UserFactory(role="learner", email="target@example.com")
    listed = admin.get(f"{V1}/users/?q=target").json()
    assert [u["email"] for u in listed["results"]] == ["target@example.com"]
    assert admin.get(f"{V1}/users/?role=admin").json()["count"] == 1
    assert admin.get(f"{V1}/users/{target.pk}").json()["role"] == "learner"
    changed = admin.post(
        f"{V1}/users/{target.pk}/role", {"role": "instructor"}, content_type="application/json"
    )
    assert changed.json()["role"] == "instructor"
    assert RoleChange.objects.get(user=target).new_role == "instructor"
    bad = admin.post(
        f"{V1}/users/{target.pk}/role", {"role": "wizard"}, content_type="application/json"
    )
    assert problem(bad, 400)["errors"][0]["field"] == "role"
    assert User.objects.get(pk=target.pk).role == "instructor"
    problem(admin.get(f"{V1}/users/999999"), 404)
    # Instructors may author but not manage roles.
    problem(client_for("instructor").get(f"{V1}/users/"), 403)
