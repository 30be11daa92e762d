"""Instructors author items (as YAML, versioned), quizzes, import/export, and regrade."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.bank.authoring import item_yaml
from quizzes.models import AttemptEvent, EventKind, Item, ItemVersion, Quiz, QuizPool
from tests.factories import QuizFactory, TopicFactory, UserFactory
from tests.samples import NUMERIC, PYTHON, SHORT, SINGLE, TRUE_FALSE, load_sample_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


@pytest.fixture
def single(topic: Any) -> Item:
    return load_sample_items(topic.stage, topic.slug, [SINGLE])[0]


def page_text(response: Any) -> str:
    """The page as a reader sees it: no tags, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_editing_creates_a_version_and_keeps_the_slug(author: Client, single: Item) -> None:
    source = yaml.safe_load(item_yaml(single))
    source["body"] = "Which method is **safe** under RFC 9110?"
    response = author.post(f"/author/items/{single.slug}/edit", {"source": yaml.safe_dump(source)})
    assert response.status_code == 302
    single.refresh_from_db()
    assert single.current_version.number == 2
    assert "RFC 9110" in single.current_version.body_html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slug": "renamed"}, "the slug must stay"),
        (
            {"choices": [{"text": "A", "correct": True}, {"text": "B", "correct": True}]},
            "exactly one correct",
        ),
        ({"type": "true_false", "answer": True, "choices": None}, "unknown field(s): choices"),
    ],
)
def test_bad_edits_show_errors_and_change_nothing(
    author: Client, single: Item, change: dict[str, Any], message: str
) -> None:
    source = {**yaml.safe_load(item_yaml(single)), **change}
    response = author.post(f"/author/items/{single.slug}/edit", {"source": yaml.safe_dump(source)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ItemVersion.objects.filter(item=single).count() == 1


def test_broken_yaml_is_reported_with_its_line(author: Client, single: Item) -> None:
    response = author.post(
        f"/author/items/{single.slug}/edit", {"source": "slug: x\nbody: [oops\n"}
    )
    assert response.status_code == 400
    assert "line 3: invalid YAML" in response.content.decode()


def test_new_items_are_drafts_until_published(author: Client, topic: Any, learner: Any) -> None:
    text = yaml.safe_dump({**TRUE_FALSE, "slug": "draft-item", "topic": topic.slug, "difficulty": 2,
                           "explanation": "Indexes cost writes."})  # fmt: skip
    response = author.post("/author/items/new", {"stage": topic.stage.number, "source": text})
    assert response.status_code == 302
    item = Item.objects.get(slug="draft-item")
    assert item.status == "draft"
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=5, stage=topic.stage)
    from quizzes.bank.quizzes import quiz_item_count

    assert quiz_item_count(quiz) == 0
    author.post(f"/author/items/{item.slug}/status", {"status": "published"})
    assert quiz_item_count(quiz) == 1


def test_a_challenge_is_saved_as_a_draft_and_not_published_unverified(
    author: Client, topic: Any
) -> None:
    text = yaml.safe_dump({**PYTHON, "slug": "unverified", "topic": topic.slug, "difficulty": 3})
    response = author.post("/author/items/new", {"stage": topic.stage.number, "source": text})
    assert response.status_code == 302
    item = Item.objects.get(slug="unverified")
    assert item.status == "draft"
    refused = author.post(f"/author/items/{item.slug}/status", {"status": "published"}, follow=True)
    assert "has not passed verification" in refused.content.decode()
    item.refresh_from_db()
    assert item.status == "draft"


def test_import_is_all_or_nothing_and_export_round_trips(
    author: Client, topic: Any, single: Item
) -> None:
    bad = yaml.safe_dump({"stage": topic.stage.number, "items": [
        {**TRUE_FALSE, "slug": "ok-one", "topic": topic.slug, "difficulty": 1, "explanation": "E."},
        {**TRUE_FALSE, "slug": "bad-one", "topic": "nope", "difficulty": 1, "explanation": "E."},
    ]})  # fmt: skip
    response = author.post(
        "/author/import", {"bank": SimpleUploadedFile("stage-x.yaml", bad.encode())}
    )
    assert response.status_code == 400
    assert "[bad-one]: 'topic' 'nope' is not a topic of this stage" in unescape(
        response.content.decode()
    )
    assert not Item.objects.filter(slug="ok-one").exists()

    exported = author.get(f"/author/export/stage-{topic.stage.number}.yaml")
    assert exported.status_code == 200
    assert (
        exported["Content-Disposition"]
        == f'attachment; filename="stage-{topic.stage.number:02d}.yaml"'
    )
    again = author.post(
        "/author/import", {"bank": SimpleUploadedFile("stage.yaml", exported.content)}
    )
    assert "0 to create, 0 to update, 1 unchanged, 0 skipped." in page_text(again)
    assert "Nothing to write: no question is new or changed." in page_text(again)


def test_regrade_applies_a_corrected_key_to_past_answers(
    author: Client, topic: Any, learner: Any
) -> None:
    [tf] = load_sample_items(topic.stage, topic.slug, [TRUE_FALSE])
    quiz = QuizFactory(stage=topic.stage)
    QuizPool.objects.create(quiz=quiz, count=1, item=tf)
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt_answer_save(attempt=attempt, position=1, answer={"value": True}, revision=1)
    attempt = attempt_submit(attempt=attempt)
    assert attempt.score == 0
    load_sample_items(
        topic.stage, topic.slug, [{**TRUE_FALSE, "answer": True}]
    )  # the key was wrong
    attempt.refresh_from_db()
    assert attempt.score == 0  # editing never changes past grades by itself
    response = author.post(
        f"/author/items/{tf.slug}/regrade", {"confirm": "yes", "version": "2"}, follow=True
    )
    assert "1 answers re-scored in 1 attempts" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.score == Decimal(1)
    assert attempt.items.get().item_version.number == 1  # still pinned to what was shown
    assert AttemptEvent.objects.filter(attempt=attempt, kind=EventKind.REGRADED).count() == 2


@pytest.mark.parametrize(
    ("sample", "shown"),
    [
        (NUMERIC, ["Correct answer: 200 requests", "Tolerance: ± 0.5"]),
        (SHORT, ["Accepted: Retry-After", "Pattern: (the )?retry-after( header)?"]),
        (TRUE_FALSE, ["Correct answer: False"]),
    ],
)
def test_the_preview_shows_the_key_as_people_read_it(
    author: Client, topic: Any, sample: dict[str, Any], shown: list[str]
) -> None:
    [item] = load_sample_items(topic.stage, topic.slug, [sample])
    response = author.get(f"/author/items/{item.slug}/")
    assert response.status_code == 200
    key = page_text(response).split("Key", 1)[1].split("Explanation", 1)[0]
    for text in shown:
        assert text in key
    assert "{" not in key and "'answer'" not in key and "None" not in key  # no dict repr


def _answered(quiz: Quiz, learner: Any, answer: dict[str, Any]) -> Any:
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt_answer_save(attempt=attempt, position=1, answer=answer, revision=1)
    return attempt_submit(attempt=attempt)


def test_regrade_is_a_dry_run_until_confirmed_and_the_review_shows_the_key_used(
    author: Client, topic: Any, learner: Any, instructor: Any
) -> None:
    [numeric] = load_sample_items(topic.stage, topic.slug, [NUMERIC])  # key: 200 requests
    quiz = QuizFactory(stage=topic.stage, pass_mark_percent=50)
    QuizPool.objects.create(quiz=quiz, count=1, item=numeric)
    other = UserFactory(role="learner")
    wrong_before = _answered(quiz, learner, {"value": "201"})
    right_before = _answered(quiz, other, {"value": "200"})
    assert (wrong_before.score, right_before.score) == (0, 1)
    load_sample_items(topic.stage, topic.slug, [{**NUMERIC, "answer": 201}])  # the key was wrong
    url = f"/author/items/{numeric.slug}/regrade"

    dry_run = author.get(url)
    assert dry_run.status_code == 200
    text = page_text(dry_run)
    assert "2 answers change score" in text
    assert learner.email in text and other.email in text
    assert "0 → 1" in text and "1 → 0" in text  # old and new score of each answer
    assert "not passed → passed" in text and "passed → not passed" in text
    assert "Apply the regrade with v2" in text
    assert 'name="version" value="2"' in dry_run.content.decode()  # the version reviewed

    def unchanged() -> None:
        for attempt, score in ((wrong_before, 0), (right_before, 1)):
            attempt.refresh_from_db()
            assert attempt.score == score
        assert not AttemptEvent.objects.filter(kind=EventKind.REGRADED).exists()

    unchanged()  # looking changes nothing
    refused = author.post(url, {"version": "2"}, follow=True)  # not confirmed
    assert "Nothing was regraded" in refused.content.decode()
    unchanged()
    for version in ("", "two", "²", "-2", "9" * 5000):
        garbled = author.post(url, {"confirm": "yes", "version": version}, follow=True)
        assert garbled.status_code == 200
        assert "Nothing was regraded" in garbled.content.decode()
    unchanged()
    stale = author.post(url, {"confirm": "yes", "version": "1"}, follow=True)
    assert "Nothing was regraded: the item changed" in unescape(stale.content.decode())
    unchanged()

    applied = author.post(url, {"confirm": "yes", "version": "2"}, follow=True)
    assert "2 answers re-scored in 2 attempts" in applied.content.decode()
    wrong_before.refresh_from_db()
    right_before.refresh_from_db()
    assert (wrong_before.score, right_before.score) == (1, 0)
    assert (wrong_before.passed, right_before.passed) == (True, False)
    event = AttemptEvent.objects.filter(
        attempt=wrong_before, kind=EventKind.REGRADED, position=1
    ).get()
    assert event.data["by"] == instructor.email and event.data["by_id"] == instructor.pk
    assert event.data["previous_score"] == "0.00" and event.data["score"] == "1.00"

    # Each learner's review now shows the key that scored them, agreeing with the verdict.
    for who, verdict in ((learner, "✔ Correct"), (other, "✘ Not correct")):
        client = Client()
        client.force_login(who)
        attempt = wrong_before if who == learner else right_before
        review = page_text(client.get(f"/attempts/{attempt.pk}/result"))
        assert verdict in review
        assert "Correct answer: 201 requests (± 0.5)" in review
        assert "200 requests" not in review


def test_quiz_authoring_with_pools(author: Client, topic: Any) -> None:
    form = {
        "slug": "cache-drill", "title": "Cache drill", "description": "", "stage": topic.stage.pk,
        "status": "published", "time_limit_minutes": "10", "max_attempts": "",
        "pass_mark_percent": "60", "feedback_mode": "immediate", "closes_at": "",
        "shuffle_items": "on", "shuffle_choices": "on",
        "pools-TOTAL_FORMS": "1", "pools-INITIAL_FORMS": "0", "pools-MIN_NUM_FORMS": "0",
        "pools-MAX_NUM_FORMS": "1000", "pools-0-count": "3", "pools-0-stage": topic.stage.pk,
        "pools-0-topic": "", "pools-0-difficulty_min": "4", "pools-0-difficulty_max": "2",
    }  # fmt: skip
    bad = author.post("/author/quizzes/new", form)
    assert bad.status_code == 400
    assert (
        '<ul class="errorlist" id="id_pools-0-difficulty_max_error">'
        "<li>Difficulty must satisfy 1 ≤ min ≤ max ≤ 5.</li></ul>"
    ) in bad.content.decode()  # next to the field it is about
    assert not Quiz.objects.filter(slug="cache-drill").exists()
    assert not QuizPool.objects.exists()
    form["pools-0-difficulty_min"] = "1"
    assert author.post("/author/quizzes/new", form).status_code == 302
    quiz = Quiz.objects.get(slug="cache-drill")
    assert quiz.pools.get().count == 3 and quiz.feedback_mode == "immediate"
    assert quiz.time_limit_seconds == 600


def test_editing_a_quiz_with_a_topic_of_another_stage_changes_nothing(
    author: Client, topic: Any
) -> None:
    quiz = QuizFactory(title="Before", stage=topic.stage)
    pool = QuizPool.objects.create(quiz=quiz, count=3, stage=topic.stage)
    elsewhere = TopicFactory()
    form = {
        "slug": quiz.slug, "title": "After", "description": "", "stage": topic.stage.pk,
        "status": "published", "time_limit_minutes": "", "max_attempts": "",
        "pass_mark_percent": "60", "feedback_mode": "after_submit", "closes_at": "",
        "pools-TOTAL_FORMS": "1", "pools-INITIAL_FORMS": "1", "pools-MIN_NUM_FORMS": "0",
        "pools-MAX_NUM_FORMS": "1000", "pools-0-id": pool.pk, "pools-0-quiz": quiz.pk,
        "pools-0-count": "5", "pools-0-stage": topic.stage.pk, "pools-0-topic": elsewhere.pk,
        "pools-0-difficulty_min": "1", "pools-0-difficulty_max": "5",
    }  # fmt: skip
    bad = author.post(f"/author/quizzes/{quiz.slug}/edit", form)
    assert bad.status_code == 400
    assert (
        '<ul class="errorlist" id="id_pools-0-topic_error">'
        "<li>That topic belongs to another stage.</li></ul>"
    ) in bad.content.decode()
    quiz.refresh_from_db()
    pool.refresh_from_db()
    assert quiz.title == "Before"
    assert (pool.count, pool.topic) == (3, None)


def test_learners_cannot_author(learner: Any, single: Item) -> None:
    client = Client()
    client.force_login(learner)
    for url in [
        "/author/items/",
        f"/author/items/{single.slug}/edit",
        "/author/import",
        "/author/quizzes/",
    ]:
        assert client.get(url).status_code == 403
    response = client.post(f"/author/items/{single.slug}/status", {"status": "retired"})
    assert response.status_code == 403
    single.refresh_from_db()
    assert single.status == "published"


@pytest.mark.slow  # the whole bank
def test_every_bank_item_round_trips_through_the_editor_yaml() -> None:
    from pathlib import Path

    from quizzes.bank.authoring import to_yaml

    bank_dir = Path(__file__).resolve().parents[3] / "fixtures/questions"
    for path in sorted(bank_dir.glob("stage-*.yaml")):
        for entry in yaml.safe_load(path.read_text())["items"]:
            text = to_yaml(entry)
            assert yaml.safe_load(text) == entry, entry["slug"]
            if "\n" in entry["body"].rstrip("\n"):
                assert text.split("\nbody:", 1)[1].startswith(" |"), entry["slug"]
