"""The learner's programming language: the service, its page, the profile section, the
challenge page opening in it, and the placement asking for it first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.test import Client

from quizzes.assessments.presenters import attempt_item_views
from quizzes.assessments.services import AttemptError, attempt_examples_run, attempt_start
from quizzes.grading.languages import LANGUAGES
from quizzes.grading.languages.base import Language, SandboxProgram
from quizzes.grading.spec import CodeChallengeSpec
from quizzes.models import LearnerPreference, QuizKind, QuizPool, Submission
from quizzes.preferences import PreferenceError, learner_language, learner_language_set
from tests.conftest import language_standing_in
from tests.factories import QuizFactory, UserFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = pytest.mark.django_db


class Placeholder(Language):
    """A registered language whose runtime is missing (tests only)."""

    key: ClassVar[str] = "go"
    label: ClassVar[str] = "Go"
    extensions: ClassVar[tuple[str, ...]] = (".go",)
    editor_mode: ClassVar[str] = "go"

    def unavailable_reason(self) -> str | None:
        return "go is not installed"

    def version(self) -> str:
        return "Go 1.19 (test)"

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        return "package main\n\nfunc Add(a int, b int) int {\n\treturn 0\n}\n"

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        raise AssertionError("never run: no toolchain")


@pytest.fixture
def go() -> Iterator[Placeholder]:
    with language_standing_in(Placeholder()) as language:
        yield language


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_service_stores_an_offered_language_only(learner: Any) -> None:
    assert learner_language(user=learner) is None
    learner_language_set(user=learner, language="python")
    assert learner_language(user=learner) == "python"
    with pytest.raises(PreferenceError, match="Choose one of the offered languages: Python"):
        learner_language_set(user=learner, language="cobol")
    assert LearnerPreference.objects.get(user=learner).language == "python"


def test_the_language_page_saves_and_goes_back(learner: Any, go: Placeholder) -> None:
    client = client_for(learner)
    page = client.get("/me/language")
    assert page.status_code == 200
    assert b'<option value="go">Go</option>' in page.content
    response = client.post("/me/language", {"language": "go", "next": "/dashboard"})
    assert response.status_code == 302 and response["Location"] == "/dashboard"
    assert learner_language(user=learner) == "go"
    # A foreign `next` is ignored: back to the profile.
    response = client.post("/me/language", {"language": "python", "next": "https://evil.test/"})
    assert response["Location"] == "/accounts/profile/"


@pytest.mark.parametrize("posted", [{}, {"language": "cobol"}, {"language": ["python", "cobol"]}])
def test_a_bad_language_is_refused_and_changes_nothing(learner: Any, posted: Any) -> None:
    learner_language_set(user=learner, language="python")
    response = client_for(learner).post("/me/language", posted)
    assert response.status_code == 400
    assert b"Choose" in response.content  # "Choose a language." or "Choose one of …"
    assert learner_language(user=learner) == "python"


def test_the_profile_page_has_the_language_section(learner: Any) -> None:
    client = client_for(learner)
    page = client.get("/accounts/profile/")
    assert page.status_code == 200
    assert b"Your programming language" in page.content
    assert b'action="/me/language"' in page.content
    assert b"You have not chosen a language yet" in page.content
    learner_language_set(user=learner, language="python")
    page = client.get("/accounts/profile/")
    assert b"You have not chosen a language yet" not in page.content
    assert b'<option value="python" selected>' in page.content


@pytest.fixture
def attempt(topic: Any, learner: Any) -> Any:
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage, kind=QuizKind.CHALLENGE)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    return attempt_start(learner=learner, quiz=quiz)


def test_a_challenge_opens_in_the_learners_language(attempt: Any, go: Placeholder) -> None:
    [view] = attempt_item_views(attempt, list(attempt.items.all()))
    assert view["language"] == "python"
    assert [entry["id"] for entry in view["languages"]] == list(LANGUAGES)  # every one offered
    assert "go" in LANGUAGES
    assert view["code"] == PYTHON["challenge"]["starter"]
    learner_language_set(user=attempt.learner, language="go")
    [view] = attempt_item_views(attempt, list(attempt.items.all()))
    assert view["language"] == "go" and view["editor_language"] == "go"
    assert view["code"].startswith("package main")
    assert view["language_version"] == "Go 1.19 (test)"
    go_entry = next(e for e in view["languages"] if e["id"] == "go")
    assert go_entry["available"] is False
    # An answer written in Python keeps opening in Python, whatever the preference.
    item = attempt.items.get()
    item.answer = {"code": "def add(a, b):\n    return a + b\n", "language": "python"}
    item.save(update_fields=["answer"])
    [view] = attempt_item_views(attempt, [item])
    assert view["language"] == "python" and view["code"].startswith("def add")


def test_the_answer_records_its_language_and_the_submission_too(
    attempt: Any, go: Placeholder
) -> None:
    client = client_for(attempt.learner)
    url = f"/api/attempts/{attempt.pk}/answers/1"
    answer = {"code": "package main\n// mine\n", "language": "go"}
    saved = client.put(url, {"answer": answer, "revision": 1}, content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert attempt.items.get().answer["language"] == "go"
    refused = client.put(
        url,
        {"answer": {"code": "x", "language": "cobol"}, "revision": 2},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "answer.language"
    assert attempt.items.get().answer["language"] == "go"
    run = client.post(
        f"/api/attempts/{attempt.pk}/items/1/run",
        {"code": "package main\n", "language": "go"},
        content_type="application/json",
    )
    assert run.status_code == 202, run.content
    assert run.json()["language"] == "go"
    assert Submission.objects.get(pk=run.json()["id"]).language == "go"


def test_running_in_a_language_the_challenge_is_not_offered_in_is_refused(
    topic: Any, learner: Any
) -> None:
    untyped = {**PYTHON, "slug": "t-untyped", "challenge": {**PYTHON["challenge"]}}
    del untyped["challenge"]["signature"]
    [challenge] = load_sample_items(topic.stage, topic.slug, [untyped])
    quiz = QuizFactory(stage=topic.stage, kind=QuizKind.CHALLENGE)
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    attempt = attempt_start(learner=learner, quiz=quiz)
    with pytest.raises(AttemptError, match="cannot be run in 'java'"):
        attempt_examples_run(attempt=attempt, position=1, code="class A {}", language="java")
    assert not Submission.objects.exists()


def test_the_placement_asks_for_the_language_first(roadmap: Any) -> None:
    from quizzes.bank.quizzes import PLACEMENT_SLUG, default_quizzes_sync

    default_quizzes_sync()
    learner = UserFactory(role="learner")
    client = client_for(learner)
    slug = PLACEMENT_SLUG
    response = client.post(f"/quizzes/{slug}/start")
    assert response.status_code == 302
    assert response["Location"] == f"/me/language?next=/quizzes/{slug}/"
    assert not learner.attempts.exists()
    # Once chosen, it is not asked again (this bank is empty: back to the quiz's page).
    learner_language_set(user=learner, language="python")
    response = client.post(f"/quizzes/{slug}/start")
    assert response.status_code == 302 and response["Location"] == f"/quizzes/{slug}/"


def test_the_language_api(learner: Any, go: Placeholder) -> None:
    client = client_for(learner)
    body = client.get("/api/v1/me/language").json()
    assert body == {
        "language": None,
        "choices": [{"id": key, "label": lang.label} for key, lang in LANGUAGES.items()],
    }
    saved = client.put("/api/v1/me/language", {"language": "go"}, content_type="application/json")
    assert saved.status_code == 200 and saved.json()["language"] == "go"
    refused = client.put(
        "/api/v1/me/language", {"language": "cobol"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"] == [
        {
            "field": "language",
            "message": "Choose one of the offered languages: "
            + ", ".join(lang.label for lang in LANGUAGES.values())
            + ".",
        }
    ]
    assert learner_language(user=learner) == "go"


def test_the_placement_api_asks_for_the_language_first(roadmap: Any) -> None:
    from quizzes.bank.quizzes import PLACEMENT_SLUG, default_quizzes_sync

    default_quizzes_sync()
    learner = UserFactory(role="learner")
    response = client_for(learner).post(f"/api/quizzes/{PLACEMENT_SLUG}/attempts")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "language"
    assert not learner.attempts.exists()
