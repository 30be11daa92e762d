"""The bank browser: filters, bulk actions (audited), version differences, where an item is
used, learners' problem reports, the quiz builder's window and hand-picked items, and the
quiz preview."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
import yaml
from django.test import Client
from django.utils import timezone

from quizzes.assessments.reports import ReportRefused, item_report_create
from quizzes.assessments.services import (
    AttemptError,
    attempt_answer_save,
    attempt_start,
    attempt_submit,
)
from quizzes.bank.authoring import item_yaml
from quizzes.bank.browser import version_diff
from quizzes.models import (
    Attempt,
    BankEvent,
    FeedbackMode,
    Item,
    ItemReport,
    ItemReportStatus,
    ItemStatus,
    ItemVersion,
    Quiz,
    QuizPool,
)
from tests.factories import QuizFactory, TopicFactory, UserFactory
from tests.samples import NUMERIC, SINGLE, TRUE_FALSE, load_sample_items, right_answer

pytestmark = pytest.mark.django_db


def page_text(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def listed(response: Any) -> list[str]:
    return re.findall(r'<tr data-item="([^"]+)"', response.content.decode())


@pytest.fixture
def author(instructor: Any) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


@pytest.fixture
def bank(topic: Any) -> dict[str, Item]:
    items = load_sample_items(topic.stage, topic.slug, [SINGLE, TRUE_FALSE, NUMERIC])
    return {i.type: i for i in items}


# --- filters ------------------------------------------------------------------------------
def test_filters_narrow_the_list_by_every_field(
    author: Client, bank: dict[str, Item], topic: Any
) -> None:
    other_topic = TopicFactory(stage=topic.stage)
    numeric = bank["numeric"]
    numeric.topic = other_topic
    numeric.status = ItemStatus.RETIRED
    numeric.save()
    everything = author.get("/author/items/")
    assert sorted(listed(everything)) == sorted(i.slug for i in bank.values())
    assert listed(author.get("/author/items/", {"type": "true_false"})) == [bank["true_false"].slug]
    assert listed(author.get("/author/items/", {"status": "retired"})) == [numeric.slug]
    assert listed(author.get("/author/items/", {"topic": other_topic.slug})) == [numeric.slug]
    assert listed(author.get("/author/items/", {"stage": topic.stage.number, "q": "safe"})) == [
        bank["single_choice"].slug
    ]
    assert listed(author.get("/author/items/", {"q": "no such words anywhere"})) == []
    by_difficulty = author.get("/author/items/", {"difficulty": "2"})
    assert sorted(listed(by_difficulty)) == sorted(i.slug for i in bank.values())
    assert listed(author.get("/author/items/", {"difficulty": "5"})) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"difficulty": "9"}, "difficulty"), ({"type": "essay"}, "type"), ({"stage": "77"}, "stage")],
)
def test_a_bad_filter_is_a_field_error(
    author: Client, bank: dict[str, Item], query: dict[str, str], field: str
) -> None:
    response = author.get("/author/items/", query)
    assert response.status_code == 400
    assert f'id="id_{field}-error"' in response.content.decode()
    assert listed(response) == []


def test_a_topic_of_another_stage_is_refused(
    author: Client, bank: dict[str, Item], topic: Any
) -> None:
    elsewhere = TopicFactory()
    response = author.get("/author/items/", {"stage": topic.stage.number, "topic": elsewhere.slug})
    assert response.status_code == 400
    assert "That topic belongs to another stage." in page_text(response)


def test_the_list_is_paginated(author: Client, topic: Any) -> None:
    specs = [dict(TRUE_FALSE, slug=f"t-tf-{n:02d}") for n in range(55)]
    load_sample_items(topic.stage, topic.slug, specs)
    first = author.get("/author/items/", {"type": "true_false"})
    second = author.get("/author/items/", {"type": "true_false", "page": "2"})
    assert len(listed(first)) == 50 and len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    assert "type=true_false&amp;page=2" in first.content.decode()


# --- bulk actions -------------------------------------------------------------------------
def test_bulk_retire_and_publish_are_audited(
    author: Client, bank: dict[str, Item], instructor: Any
) -> None:
    slugs = [bank["single_choice"].slug, bank["true_false"].slug]
    response = author.post("/author/items/bulk", {"action": "retire", "items": slugs})
    assert response.status_code == 302
    assert set(Item.objects.filter(slug__in=slugs).values_list("status", flat=True)) == {"retired"}
    events = BankEvent.objects.filter(item__slug__in=slugs, action="retire")
    assert events.count() == 2
    assert {e.actor for e in events} == {instructor}
    assert all(e.detail == {"from": "published", "to": "retired"} for e in events)
    author.post("/author/items/bulk", {"action": "publish", "items": slugs[:1]})
    assert Item.objects.get(slug=slugs[0]).status == ItemStatus.PUBLISHED
    assert BankEvent.objects.filter(action="publish").count() == 1


def test_bulk_move_keeps_items_in_their_stage(
    author: Client, bank: dict[str, Item], topic: Any
) -> None:
    same_stage = TopicFactory(stage=topic.stage)
    other_stage = TopicFactory()
    tf = bank["true_false"]
    author.post(
        "/author/items/bulk",
        {
            "action": "move_topic",
            "items": [tf.slug],
            "topic": f"{same_stage.stage.number}/{same_stage.slug}",
        },
    )
    tf.refresh_from_db()
    assert tf.topic == same_stage
    assert BankEvent.objects.get(item=tf).detail == {"from": topic.slug, "to": same_stage.slug}
    response = author.post(
        "/author/items/bulk",
        {
            "action": "move_topic",
            "items": [tf.slug],
            "topic": f"{other_stage.stage.number}/{other_stage.slug}",
        },
        follow=True,
    )
    tf.refresh_from_db()
    assert tf.topic == same_stage
    assert "was not moved to another topic: the topic belongs to another stage" in page_text(
        response
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "retire"}, "Select at least one item."),
        ({"action": "explode", "items": ["t-tf"]}, "Unknown action"),
        ({"action": "retire", "items": ["t-tf", "nope"]}, "No such item: nope."),
        ({"action": "move_topic", "items": ["t-tf"]}, "Choose the topic"),
        (
            {"action": "move_topic", "items": ["t-tf"], "topic": "1/missing"},
            "choose an existing topic",
        ),
    ],
)
def test_a_bad_bulk_request_changes_nothing(
    author: Client, bank: dict[str, Item], data: dict[str, Any], message: str
) -> None:
    before = list(Item.objects.order_by("pk").values_list("status", "topic_id"))
    response = author.post("/author/items/bulk", data, follow=True)
    assert response.status_code == 200
    assert message in page_text(response)
    assert list(Item.objects.order_by("pk").values_list("status", "topic_id")) == before
    assert not BankEvent.objects.exists()


def test_learners_cannot_bulk_change(learner: Any, bank: dict[str, Item]) -> None:
    client = Client()
    client.force_login(learner)
    response = client.post(
        "/author/items/bulk", {"action": "retire", "items": [bank["true_false"].slug]}
    )
    assert response.status_code == 403
    assert Item.objects.get(pk=bank["true_false"].pk).status == ItemStatus.PUBLISHED


# --- history, differences, use --------------------------------------------------------------
def test_the_same_content_stored_in_another_key_order_shows_no_change() -> None:
    """SQLite keeps an author's key order, PostgreSQL's jsonb its own: a diff must not care."""
    choices = [{"text": "GET", "correct": True, "feedback": "Safe."}, {"text": "PUT"}]
    as_authored = {"type": "single_choice", "choices": choices, "difficulty": 2}
    reordered = {
        "difficulty": 2,
        "choices": [dict(reversed(list(c.items()))) for c in choices],
        "type": "single_choice",
    }
    common = {"title": "T", "body": "B", "explanation": "E"}
    old = ItemVersion(number=1, source=as_authored, **common)
    new = ItemVersion(number=2, source=reordered, **common)
    assert version_diff(old, new) == []
    changed = ItemVersion(number=3, source={**reordered, "difficulty": 3}, **common)
    assert [d.name for d in version_diff(old, changed)] == ["Key, answers and settings"]


def test_history_shows_what_changed_between_versions(author: Client, bank: dict[str, Item]) -> None:
    single = bank["single_choice"]
    source = yaml.safe_load(item_yaml(single))
    source["body"] = "Which HTTP method is **safe** under RFC 9110?"
    source["choices"] = [
        {"text": "POST", "correct": False},
        {"text": "GET", "correct": False},
        {"text": "HEAD", "correct": True},
    ]
    assert (
        author.post(
            f"/author/items/{single.slug}/edit", {"source": yaml.safe_dump(source)}
        ).status_code
        == 302
    )
    response = author.get(f"/author/items/{single.slug}/history")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Changes from v1 to v2" in html
    added = re.findall(r"<ins>(.*?)</ins>", html)
    removed = re.findall(r"<del>(.*?)</del>", html)
    assert any("RFC 9110" in line for line in added)
    assert any("HEAD" in line for line in added)
    assert any("Which HTTP method is **safe**?" in line for line in removed)
    key = next(
        d for d in version_diff(*single.versions.order_by("number")) if d.name.startswith("Key")
    )
    old_side = "\n".join(line.text for line in key.lines if line.kind in ("context", "remove"))
    new_side = "\n".join(line.text for line in key.lines if line.kind in ("context", "add"))
    assert (
        "- text: GET\n  correct: true" in old_side and "- text: GET\n  correct: false" in new_side
    )
    assert "- text: HEAD\n  correct: true" in new_side and "HEAD" not in old_side
    assert "Title" not in re.findall(r"<h4>(.*?)</h4>", html)  # unchanged sections are left out
    backwards = author.get(f"/author/items/{single.slug}/history", {"old": "2", "new": "1"})
    assert any(
        "HEAD" in line for line in re.findall(r"<del>(.*?)</del>", backwards.content.decode())
    )
    assert author.get(f"/author/items/{single.slug}/history", {"old": "7"}).status_code == 404


def test_history_says_where_the_item_is_used(
    author: Client, bank: dict[str, Item], topic: Any, learner: Any
) -> None:
    tf = bank["true_false"]
    picked = QuizFactory(title="Hand-picked quiz")
    QuizPool.objects.create(quiz=picked, count=1, item=tf)
    drawn = QuizFactory(title="Stage draw quiz")
    QuizPool.objects.create(quiz=drawn, count=2, stage=topic.stage, item_types=["true_false"])
    QuizPool.objects.create(
        quiz=QuizFactory(title="Numeric only quiz"), count=1, item_types=["numeric"]
    )
    attempt_start(learner=learner, quiz=picked)
    text = page_text(author.get(f"/author/items/{tf.slug}/history"))
    assert "Given in 1 attempt by 1 learner." in text
    assert "Hand-picked quiz (published) — hand-picked" in text
    assert "Stage draw quiz (published) — a pool can draw it" in text
    assert "Numeric only quiz" not in text


# --- problem reports ------------------------------------------------------------------------
@pytest.fixture
def taken(bank: dict[str, Item], learner: Any) -> Attempt:
    quiz = QuizFactory(feedback_mode=FeedbackMode.AFTER_SUBMIT)
    QuizPool.objects.create(quiz=quiz, count=1, item=bank["true_false"])
    attempt = attempt_start(learner=learner, quiz=quiz)
    item = attempt.items.get()
    attempt_answer_save(attempt=attempt, position=1, answer=right_answer(item), revision=1)
    return attempt


def test_a_report_waits_for_the_feedback(taken: Attempt, learner: Any) -> None:
    with pytest.raises(ReportRefused, match="once this question's feedback is shown"):
        item_report_create(attempt=taken, position=1, learner=learner, message="The key is wrong")
    taken.quiz.feedback_mode = FeedbackMode.AFTER_CLOSE
    taken.quiz.closes_at = timezone.now() + timedelta(days=1)
    taken.quiz.save()
    attempt_submit(attempt=taken)
    with pytest.raises(ReportRefused):
        item_report_create(attempt=taken, position=1, learner=learner, message="The key is wrong")
    assert not ItemReport.objects.exists()


def test_a_learner_reports_once_feedback_is_shown_and_an_instructor_resolves_it(
    taken: Attempt, learner: Any, author: Client
) -> None:
    attempt_submit(attempt=taken)
    client = Client()
    client.force_login(learner)
    url = f"/attempts/{taken.pk}/items/1/report"
    assert "Report a problem with this question" in page_text(
        client.get(f"/attempts/{taken.pk}/result")
    )
    for _ in range(2):  # a double click is one report
        response = client.post(
            url, {"message": "The statement says always, the key says no."}, follow=True
        )
        assert "your report was sent" in page_text(response)
    report = ItemReport.objects.get()
    assert report.reporter == learner and report.version == taken.items.get().item_version
    assert report.status == ItemReportStatus.OPEN
    queue = page_text(author.get("/author/reports/"))
    assert "The statement says always" in queue
    listing = author.get("/author/items/", {"reported": "on"})
    assert listed(listing) == [report.item.slug]
    author.post(f"/author/reports/{report.pk}/close", {"status": "resolved", "note": "Reworded."})
    report.refresh_from_db()
    assert report.status == ItemReportStatus.RESOLVED and report.note == "Reworded."
    assert "No open reports." in page_text(author.get("/author/reports/"))
    again = client.post(url, {"message": "Still wrong"}, follow=True)
    assert "already been answered" in page_text(again)
    assert ItemReport.objects.get().message.startswith("The statement says always")


@pytest.mark.parametrize(
    ("message", "why"), [("   ", "Say what is wrong"), ("x" * 2001, "under 2,000 characters")]
)
def test_an_empty_or_huge_report_is_refused(
    taken: Attempt, learner: Any, message: str, why: str
) -> None:
    attempt_submit(attempt=taken)
    with pytest.raises(ReportRefused, match=why):
        item_report_create(attempt=taken, position=1, learner=learner, message=message)
    with pytest.raises(ReportRefused, match="no such question"):
        item_report_create(attempt=taken, position=9, learner=learner, message="ok")
    assert not ItemReport.objects.exists()


def test_nobody_reports_on_another_learners_attempt(taken: Attempt, instructor: Any) -> None:
    attempt_submit(attempt=taken)
    for user in (UserFactory(role="learner"), instructor):
        client = Client()
        client.force_login(user)
        response = client.post(f"/attempts/{taken.pk}/items/1/report", {"message": "Hijack"})
        assert response.status_code == 404
    assert not ItemReport.objects.exists()


def test_closing_a_report_needs_a_verdict(taken: Attempt, learner: Any, author: Client) -> None:
    attempt_submit(attempt=taken)
    report = item_report_create(attempt=taken, position=1, learner=learner, message="Typo")
    response = author.post(f"/author/reports/{report.pk}/close", {"status": "open"}, follow=True)
    assert "The report was not changed" in page_text(response)
    report.refresh_from_db()
    assert report.status == ItemReportStatus.OPEN


# --- the quiz builder -----------------------------------------------------------------------
def quiz_post(topic: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "slug": "builder-quiz", "title": "Builder quiz", "description": "", "stage": topic.stage.pk,
        "status": "published", "time_limit_minutes": "45", "max_attempts": "",
        "pass_mark_percent": "70",
        "feedback_mode": "after_submit", "opens_at": "", "closes_at": "", "shuffle_items": "on",
        "pools-TOTAL_FORMS": "1", "pools-INITIAL_FORMS": "0", "pools-MIN_NUM_FORMS": "0",
        "pools-MAX_NUM_FORMS": "50", "pools-0-item": "", "pools-0-count": "1",
        "pools-0-stage": topic.stage.pk, "pools-0-topic": "", "pools-0-difficulty_min": "1",
        "pools-0-difficulty_max": "5",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_builder_takes_minutes_a_window_and_hand_picked_items(
    author: Client, bank: dict[str, Item], topic: Any
) -> None:
    tf = bank["true_false"]
    opens = "2030-01-01 09:00"
    response = author.post(
        "/author/quizzes/new",
        quiz_post(topic, opens_at=opens, closes_at="2030-01-02 09:00", **{"pools-0-item": tf.slug}),
    )
    assert response.status_code == 302
    quiz = Quiz.objects.get(slug="builder-quiz")
    assert quiz.time_limit_seconds == 45 * 60
    assert quiz.pools.get().item == tf
    assert quiz.opens_at is not None and quiz.opens_at.year == 2030
    edit = author.get("/author/quizzes/builder-quiz/edit").content.decode()
    assert 'name="time_limit_minutes" value="45"' in edit
    assert f'<option value="{tf.slug}">' in edit


def test_a_quiz_does_not_start_before_it_opens(bank: dict[str, Item], learner: Any) -> None:
    quiz = QuizFactory(opens_at=timezone.now() + timedelta(hours=2))
    QuizPool.objects.create(quiz=quiz, count=1, item=bank["true_false"])
    with pytest.raises(AttemptError, match="This quiz opens on"):
        attempt_start(learner=learner, quiz=quiz)
    quiz.opens_at = timezone.now() - timedelta(minutes=1)
    quiz.save()
    assert attempt_start(learner=learner, quiz=quiz).items.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"opens_at": "2030-01-02 09:00", "closes_at": "2030-01-01 09:00"},
            "closes_at",
            "close after it opens",
        ),
        ({"pools-0-item": "t-tf", "pools-0-count": "3"}, "count", "draws exactly that item"),
        ({"pools-0-item": "no-such-item"}, "item", "Select a valid choice"),
        ({"time_limit_minutes": "0"}, "time_limit_minutes", "greater than or equal to 1"),
    ],
)
def test_builder_errors_sit_on_their_field_and_save_nothing(
    author: Client,
    bank: dict[str, Item],
    topic: Any,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = author.post("/author/quizzes/new", quiz_post(topic, **overrides))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html
    assert re.search(rf'id="id_(pools-0-)?{field}_error"|name="(pools-0-)?{field}"', html)
    assert not Quiz.objects.filter(slug="builder-quiz").exists()


def test_add_pool_returns_the_next_form_and_its_count(author: Client) -> None:
    response = author.get("/author/quizzes/pool-form", {"pools-TOTAL_FORMS": "2"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="pools-2-count"' in html and "Pool 3" in html
    assert 'id="id_pools-TOTAL_FORMS" hx-swap-oob="true"' in html and 'value="3"' in html
    assert author.get("/author/quizzes/pool-form", {"pools-TOTAL_FORMS": "x"}).status_code == 400
    assert author.get("/author/quizzes/pool-form", {"pools-TOTAL_FORMS": "50"}).status_code == 400


def test_a_quiz_preview_shows_a_draw_without_an_attempt_or_a_key(
    author: Client, bank: dict[str, Item], topic: Any
) -> None:
    quiz = QuizFactory(title="Previewed quiz")
    QuizPool.objects.create(quiz=quiz, count=3, stage=topic.stage)
    response = author.get(f"/author/quizzes/{quiz.slug}/preview", {"seed": "7"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="question card"') == 3
    assert "Which HTTP method is <strong>safe</strong>?" in html
    assert "correct" not in re.sub(r"<script.*?</script>", "", html, flags=re.S).lower().replace(
        "not correct", ""
    )
    assert "POST changes state." not in html  # per-choice feedback is part of the key
    assert not Attempt.objects.exists()
    again = author.get(f"/author/quizzes/{quiz.slug}/preview", {"seed": "7"}).content.decode()
    titles = r'id="q\d-title".*?</h2>'
    assert re.findall(titles, html, flags=re.S) == re.findall(titles, again, flags=re.S)
