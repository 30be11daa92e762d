"""API v1 for learners, driven with tokens: every endpoint, and its 401, 403, 404 and 429;
a wrongly shaped answer of every type is a 400 naming the field, and saves nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.models import Attempt, AttemptEvent, AttemptItem, EventKind, Submission
from tests.api.conftest import V1, problem, send, token_client, token_for
from tests.factories import QuizFactory, UserFactory
from tests.samples import right_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(every_type_quiz: Any, client_for: Callable[..., Client]) -> tuple[Client, Attempt]:
    client = client_for("learner", scope="learner")
    started = client.post(f"{V1}/quizzes/{every_type_quiz.slug}/attempts")
    assert started.status_code == 201
    return client, Attempt.objects.get(pk=started.json()["id"])


def position_of(attempt: Attempt, item_type: str) -> AttemptItem:
    return attempt.items.get(item_version__item__type=item_type)


def test_the_roadmap_and_the_quizzes(every_type_quiz: Any, client_for: Any) -> None:
    QuizFactory(stage=every_type_quiz.stage, kind="challenge", slug="a-challenge")
    QuizFactory(stage=every_type_quiz.stage, status="draft", slug="not-yet")
    client = client_for("learner", scope="read")
    roadmap = client.get(f"{V1}/roadmap/").json()
    assert roadmap["stages"][0]["topics"][0]["slug"] == every_type_quiz.stage.topics.first().slug
    listed = client.get(f"{V1}/quizzes/").json()
    assert {q["slug"] for q in listed["results"]} == {"every-type", "a-challenge"}
    assert listed["count"] == 2 and listed["next"] is None
    only = client.get(f"{V1}/quizzes/?kind=challenge").json()["results"]
    assert [q["slug"] for q in only] == ["a-challenge"]
    other_stage = client.get(f"{V1}/quizzes/?stage=99").json()
    assert other_stage["count"] == 0
    ordered = client.get(f"{V1}/quizzes/?ordering=-slug").json()["results"]
    assert [q["slug"] for q in ordered] == ["every-type", "a-challenge"]
    assert problem(client.get(f"{V1}/quizzes/?kind=nonsense"), 400)["errors"][0]["field"] == (
        "kind"
    )
    paged = client.get(f"{V1}/quizzes/?page_size=1&page=2").json()
    assert len(paged["results"]) == 1 and paged["previous"]
    problem(client.get(f"{V1}/quizzes/?page=99"), 404)
    detail = client.get(f"{V1}/quizzes/every-type/").json()
    assert detail["items"] == 9 and detail["attempts_used"] == 0 and detail["best_percent"] is None
    problem(client.get(f"{V1}/quizzes/not-yet/"), 404)


def test_a_whole_objective_attempt(every_type_quiz: Any, client_for: Any) -> None:
    client = client_for("learner", scope="learner")
    started = client.post(f"{V1}/quizzes/every-type/attempts")
    body = started.json()
    assert body["status"] == "in_progress" and body["score"] is None
    assert {i["type"] for i in body["items"]} >= {"single_choice", "code", "sql"}
    attempt = Attempt.objects.get(pk=body["id"])
    # Resuming returns the same attempt.
    assert client.post(f"{V1}/quizzes/every-type/attempts").json()["id"] == attempt.pk
    for item in attempt.items.select_related("item_version__item"):
        if item.item_version.item.type in ("code", "sql"):
            continue
        saved = client.put(
            f"{V1}/attempts/{attempt.pk}/answers/{item.position}",
            {"answer": right_answer(item), "revision": 1},
            content_type="application/json",
        )
        assert saved.status_code == 200 and saved.json()["saved"] is True, saved.content
    # An older revision arriving late is acknowledged, not applied. (Its answer must be
    # valid for the question's type, whichever the shuffle put first: an invalid one is a
    # 400 before the revisions are compared.)
    first = attempt.items.select_related("item_version__item").get(position=1)
    stale = client.put(
        f"{V1}/attempts/{attempt.pk}/answers/1",
        {"answer": right_answer(first), "revision": 1},
        content_type="application/json",
    )
    assert stale.json() == {"saved": False, "revision": 1, "saved_at": stale.json()["saved_at"]}
    flagged = client.post(
        f"{V1}/attempts/{attempt.pk}/flags/2", {"flagged": True}, content_type="application/json"
    )
    assert flagged.json() == {"flagged": True}
    history = client.get(f"{V1}/attempts/").json()
    assert history["results"][0]["id"] == attempt.pk
    assert client.get(f"{V1}/attempts/?status=graded").json()["count"] == 0
    submitted = client.post(f"{V1}/attempts/{attempt.pk}/submit")
    # The challenges were left blank: nothing to grade in the sandbox, graded at once.
    assert submitted.status_code == 200
    result = client.get(f"{V1}/attempts/{attempt.pk}/result").json()
    attempt.refresh_from_db()
    assert result["ready"] is True and result["score"] == 7.0
    assert result["max_score"] == float(attempt.max_score)
    assert [i["is_correct"] for i in result["items"]].count(True) == 7
    reviewed = client.get(f"{V1}/attempts/{attempt.pk}").json()
    single = next(i for i in reviewed["items"] if i["type"] == "single_choice")
    assert single["feedback_due"] and single["key_lines"] and "correct" in single["choices"][0]
    skills = client.get(f"{V1}/dashboard/").json()
    assert skills["stages"] and "next_step" in skills


@pytest.mark.parametrize(
    ("item_type", "answer", "field"),
    [
        ("single_choice", {"choices": ["x"]}, "answer.choices"),
        ("single_choice", {"choice": 5}, "answer.choice"),
        ("multiple_choice", {"choices": "abc"}, "answer.choices"),
        ("true_false", {"value": "yes"}, "answer.value"),
        ("true_false", {"text": "true"}, "answer.text"),
        ("numeric", {"value": "twelve"}, "answer.value"),
        ("numeric", {"number": 12}, "answer.number"),
        ("short_text", {"text": ["a"]}, "answer.text"),
        ("ordering", {"order": "abc"}, "answer.order"),
        ("matching", {"pairs": ["a", "b"]}, "answer.pairs"),
        ("code", {"code": 42}, "answer.code"),
        ("code", {"source": "print(1)"}, "answer.source"),
        ("sql", {"query": "SELECT 1"}, "answer.query"),
        ("sql", [], "answer"),
    ],
)
def test_a_wrongly_shaped_answer_is_a_400_naming_the_field_and_saves_nothing(
    mine: tuple[Client, Attempt], item_type: str, answer: Any, field: str
) -> None:
    client, attempt = mine
    item = position_of(attempt, item_type)
    response = client.put(
        f"{V1}/attempts/{attempt.pk}/answers/{item.position}",
        {"answer": answer, "revision": 1},
        content_type="application/json",
    )
    body = problem(response, 400)
    assert body["errors"][0]["field"] == field
    item.refresh_from_db()
    assert item.answer is None and item.answer_revision == 0
    assert not AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.SAVED).exists()


def test_a_tokens_revision_and_body_are_checked(mine: tuple[Client, Attempt]) -> None:
    client, attempt = mine
    url = f"{V1}/attempts/{attempt.pk}/answers/1"
    assert (
        problem(client.put(url, {"answer": {}}, content_type="application/json"), 400)["errors"][0][
            "field"
        ]
        == "revision"
    )
    malformed = client.put(url, "{not json", content_type="application/json")
    assert problem(malformed, 400)["title"] == "Malformed request body"
    problem(client.put(url, "answer=1", content_type="text/plain"), 415)
    problem(
        client.put(
            f"{V1}/attempts/{attempt.pk}/answers/99",
            {"answer": {}, "revision": 1},
            content_type="application/json",
        ),
        400,
    )


def test_run_examples_gives_202_and_a_status_url_to_poll(mine: tuple[Client, Attempt]) -> None:
    client, attempt = mine
    item = position_of(attempt, "code")
    run = client.post(
        f"{V1}/attempts/{attempt.pk}/items/{item.position}/run",
        {"code": "def add(a, b):\n    return a + b\n", "request_id": "r1"},
        content_type="application/json",
    )
    assert run.status_code == 202
    body = run.json()
    assert body["kind"] == "run_examples" and body["pending"] is True
    assert run["Location"] == body["status_url"] == f"{V1}/submissions/{body['id']}"
    polled = client.get(body["status_url"]).json()
    assert polled["id"] == body["id"] and polled["status"] == "queued"
    again = client.post(
        f"{V1}/attempts/{attempt.pk}/items/{item.position}/run",
        {"code": "x", "request_id": "r1"},
        content_type="application/json",
    )
    assert again.json()["id"] == body["id"]  # the same run: idempotent
    single = position_of(attempt, "single_choice")
    refused = client.post(
        f"{V1}/attempts/{attempt.pk}/items/{single.position}/run",
        {"code": "x"},
        content_type="application/json",
    )
    assert "coding challenges" in problem(refused, 400)["detail"]


def test_submitting_code_answers_202_with_the_result_url(mine: tuple[Client, Attempt]) -> None:
    client, attempt = mine
    item = position_of(attempt, "code")
    client.put(
        f"{V1}/attempts/{attempt.pk}/answers/{item.position}",
        {"answer": {"code": "def add(a, b):\n    return a + b\n"}, "revision": 1},
        content_type="application/json",
    )
    submitted = client.post(f"{V1}/attempts/{attempt.pk}/submit")
    assert submitted.status_code == 202
    assert submitted["Location"] == f"{V1}/attempts/{attempt.pk}/result"
    result = client.get(submitted["Location"]).json()
    assert result["ready"] is False and result["score"] is None and result["passed"] is None
    code = next(i for i in result["items"] if i["position"] == item.position)
    assert code["graded"] is False and code["score"] is None
    submission = Submission.objects.get(attempt_item__attempt=attempt, kind="submit")
    status = client.get(f"{V1}/submissions/{submission.pk}").json()
    assert status["pending"] is True and "outcomes" not in status
    # After submitting, writes are refused as closed (409) and change nothing.
    late = client.put(
        f"{V1}/attempts/{attempt.pk}/answers/{item.position}",
        {"answer": {"code": "pass"}, "revision": 5},
        content_type="application/json",
    )
    assert problem(late, 409)["type"].endswith("attempt-closed")
    flag = client.post(
        f"{V1}/attempts/{attempt.pk}/flags/1", {"flagged": True}, content_type="application/json"
    )
    problem(flag, 409)


def test_another_learners_objects_are_404s(mine: tuple[Client, Attempt], client_for: Any) -> None:
    _, attempt = mine
    item = position_of(attempt, "code")
    run = attempt_start(learner=attempt.learner, quiz=attempt.quiz)
    assert run.pk == attempt.pk
    other = client_for("learner", scope="learner")
    for method, url, body in [
        ("get", f"{V1}/attempts/{attempt.pk}", None),
        ("get", f"{V1}/attempts/{attempt.pk}/result", None),
        ("put", f"{V1}/attempts/{attempt.pk}/answers/1", {"answer": {}, "revision": 1}),
        ("post", f"{V1}/attempts/{attempt.pk}/flags/1", {"flagged": True}),
        ("post", f"{V1}/attempts/{attempt.pk}/items/{item.position}/run", {"code": "x"}),
        ("post", f"{V1}/attempts/{attempt.pk}/next/1", None),
        ("post", f"{V1}/attempts/{attempt.pk}/submit", None),
        ("get", f"{V1}/attempts/999999", None),
        ("get", f"{V1}/submissions/999999", None),
        ("post", f"{V1}/quizzes/no-such-quiz/attempts", None),
    ]:
        problem(send(other, method, url, body), 404)
    assert other.get(f"{V1}/attempts/").json()["count"] == 0
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"


def test_instructors_read_a_learners_attempt_but_never_write_it(
    mine: tuple[Client, Attempt], client_for: Any
) -> None:
    _, attempt = mine
    instructor = client_for("instructor")
    assert instructor.get(f"{V1}/attempts/{attempt.pk}").status_code == 200
    problem(instructor.post(f"{V1}/attempts/{attempt.pk}/submit"), 404)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/quizzes/every-type/attempts", None),
        ("put", "/attempts/{a}/answers/1", {"answer": {}, "revision": 2}),
        ("post", "/attempts/{a}/flags/1", {"flagged": True}),
        ("post", "/attempts/{a}/items/1/run", {"code": "x"}),
        ("post", "/attempts/{a}/next/1", None),
        ("post", "/attempts/{a}/submit", None),
    ],
)
def test_a_read_only_token_cannot_write(
    mine: tuple[Client, Attempt], method: str, url: str, body: Any
) -> None:
    _, attempt = mine
    reader = token_client(token_for(attempt.learner, "read"))
    response = send(reader, method, V1 + url.format(a=attempt.pk), body)
    assert "scope" in problem(response, 403)["detail"]
    attempt.refresh_from_db()
    assert attempt.status == "in_progress"
    assert reader.get(V1 + f"/attempts/{attempt.pk}").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/roadmap/",
        "/quizzes/",
        "/quizzes/every-type/",
        "/attempts/",
        "/attempts/1",
        "/attempts/1/result",
        "/submissions/1",
        "/dashboard/",
    ],
)
def test_every_learner_read_needs_credentials(every_type_quiz: Any, url: str) -> None:
    problem(Client().get(V1 + url), 401)


def test_accounts_that_cannot_take_quizzes_are_refused(
    every_type_quiz: Any, client_for: Any
) -> None:
    user = UserFactory(role="learner")
    user.groups.clear()
    client = client_for(user, scope="learner")
    assert "cannot take quizzes" in problem(client.get(f"{V1}/quizzes/"), 403)["detail"]
    problem(client.post(f"{V1}/quizzes/every-type/attempts"), 403)
    assert client.get(f"{V1}/roadmap/").status_code == 200  # the roadmap is for everyone


@pytest.fixture
def rates(settings: Any, private_cache: Any) -> Callable[..., None]:
    def set_rates(**scoped: str) -> None:
        framework = dict(settings.REST_FRAMEWORK)
        framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], **scoped}
        settings.REST_FRAMEWORK = framework

    return set_rates


def test_saves_runs_reads_and_writes_have_limits_of_their_own(
    mine: tuple[Client, Attempt], rates: Callable[..., None]
) -> None:
    client, attempt = mine
    rates(answer_saves="3/min", run_examples="1/min", api_reads="4/min", api_writes="2/min")
    # A code answer may be empty (an objective type may require its field).
    url = f"{V1}/attempts/{attempt.pk}/answers/{position_of(attempt, 'code').position}"
    for revision in (1, 2, 3):
        body = {"answer": {}, "revision": revision}
        saved = client.put(url, body, content_type="application/json")
        assert saved.status_code == 200, saved.content
    limited = client.put(url, {"answer": {}, "revision": 4}, content_type="application/json")
    body = problem(limited, 429)
    assert "answer saves" in body["detail"] and int(limited["Retry-After"]) >= 1
    assert body["retry_after"] == int(limited["Retry-After"])
    # Saves count apart from other writes: flags still go through, until their own limit.
    flag = f"{V1}/attempts/{attempt.pk}/flags/1"
    for _ in range(2):
        assert client.post(
            flag, {"flagged": True}, content_type="application/json"
        ).status_code == (200)
    assert (
        "API writes"
        in problem(client.post(flag, {"flagged": True}, content_type="application/json"), 429)[
            "detail"
        ]
    )
    item = position_of(attempt, "code")
    run = f"{V1}/attempts/{attempt.pk}/items/{item.position}/run"
    assert client.post(run, {"code": "a"}, content_type="application/json").status_code == 202
    assert (
        "code runs"
        in problem(client.post(run, {"code": "b"}, content_type="application/json"), 429)["detail"]
    )
    for _ in range(4):
        client.get(f"{V1}/attempts/{attempt.pk}")
    assert "API reads" in problem(client.get(f"{V1}/attempts/"), 429)["detail"]
    # The submit is never limited.
    assert client.post(f"{V1}/attempts/{attempt.pk}/submit").status_code in (200, 202)


def test_limits_are_per_account(mine: tuple[Client, Attempt], rates: Any, client_for: Any) -> None:
    client, _ = mine
    rates(api_reads="1/min")
    assert client.get(f"{V1}/roadmap/").status_code == 200
    problem(client.get(f"{V1}/roadmap/"), 429)
    assert client_for("learner", scope="read").get(f"{V1}/roadmap/").status_code == 200


def test_the_placement_adds_one_question_at_a_time(roadmap: Any, client_for: Any) -> None:
    from quizzes.bank.quizzes import default_quizzes_sync
    from tests.samples import load_true_false_bank

    load_true_false_bank(roadmap, per_stage=3)
    default_quizzes_sync()
    from quizzes.assessments.selectors import placement_quiz

    quiz = placement_quiz()
    assert quiz is not None
    client = client_for("learner", scope="learner")
    asked = client.post(f"{V1}/quizzes/{quiz.slug}/attempts")
    assert asked.status_code == 409  # the placement needs the learner's language first
    chosen = client.put(
        f"{V1}/me/language", {"language": "python"}, content_type="application/json"
    )
    assert chosen.status_code == 200, chosen.content
    started = client.post(f"{V1}/quizzes/{quiz.slug}/attempts").json()
    assert started["adaptive"] is True and len(started["items"]) == 1
    following = client.post(f"{V1}/attempts/{started['id']}/next/1")
    assert following.status_code == 200 and len(following.json()["items"]) == 2
    problem(client.post(f"{V1}/attempts/{started['id']}/next/9"), 400)


def test_a_submitted_attempt_shows_in_the_history_with_its_score(
    every_type_quiz: Any, client_for: Any
) -> None:
    client = client_for("learner", scope="read")
    attempt = attempt_start(learner=client.user, quiz=every_type_quiz)  # type: ignore[attr-defined]
    attempt_submit(attempt=attempt)
    row = client.get(f"{V1}/attempts/?status=graded").json()["results"][0]
    assert row["id"] == attempt.pk and row["score"] == 0.0 and row["passed"] is False
