"""Each feedback mode end to end in Chromium: "Check answer" in immediate mode (and what a
failed check looks like), feedback after submitting, and feedback after the quiz closes;
and the confirmation that lists unanswered and flagged questions before submitting."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from quizzes.models import Attempt, AttemptItem, QuizPool
from tests.browser.helpers import answer_in_page, log_in, right_answer
from tests.factories import QuizFactory
from tests.samples import NUMERIC, SINGLE, TRUE_FALSE, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_quiz(topic: Any, **settings: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [SINGLE, TRUE_FALSE, NUMERIC])
    quiz = QuizFactory(stage=topic.stage, title="Feedback quiz", **settings)
    QuizPool.objects.create(quiz=quiz, position=0, count=3, stage=topic.stage)
    return quiz


def start(page: Page, live_server: Any, quiz: Any) -> Attempt:
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    return Attempt.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))


def item_of(attempt: Attempt, item_type: str) -> AttemptItem:
    return attempt.items.select_related("item_version__item").get(
        item_version__item__type=item_type
    )


def submit_confirmed(page: Page) -> None:
    page.click("[data-submit]")
    page.locator("[data-submit-confirm] [data-confirm-submit]").click()
    page.wait_for_url(re.compile(r"/result$"))


def test_immediate_feedback_checks_and_locks_an_answer(
    page: Page, live_server: Any, topic: Any, learner: Any
) -> None:
    quiz = make_quiz(topic, feedback_mode="immediate")
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    single = item_of(attempt, "single_choice")
    section = page.locator(f"#q{single.position}")
    answer_in_page(page, single, right_answer(single))
    section.locator("[data-check]").click()
    expect(section.locator(".verdict")).to_contain_text("Correct")
    expect(section.locator("input[type=radio]")).to_have_count(0)  # the answer is locked
    single.refresh_from_db()
    assert single.locked and single.is_correct
    # Another question can still be answered, and checked wrong.
    tf = item_of(attempt, "true_false")
    answer_in_page(page, tf, {"value": True})
    page.locator(f"#q{tf.position} [data-check]").click()
    expect(page.locator(f"#q{tf.position} .verdict")).to_contain_text("Not correct")


def test_a_failed_check_says_so_in_one_sentence(
    page: Page, live_server: Any, topic: Any, learner: Any
) -> None:
    quiz = make_quiz(topic, feedback_mode="immediate")
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    numeric = item_of(attempt, "numeric")
    section = page.locator(f"#q{numeric.position}")
    answer_in_page(page, numeric, {"value": "200"})
    expect(section.locator("[data-save-state]")).to_contain_text("Saved", timeout=15000)
    page.context.clear_cookies()  # the session ends (and with it the CSRF cookie)
    section.locator("[data-check]").click()
    # One short sentence that says what to do (the autosave may say it first), never a page.
    state = section.locator("[data-save-state]")
    expect(state).to_contain_text(re.compile("log in again|reload"), timeout=15000)
    text = section.inner_text()
    assert "Forbidden" not in text and "CSRF" not in text and "{" not in text
    expect(section.locator("input[name=value]")).to_have_value("200")
    numeric.refresh_from_db()
    assert not numeric.locked


def test_after_submit_feedback_waits_for_the_confirmed_submit(
    page: Page, live_server: Any, topic: Any, learner: Any
) -> None:
    quiz = make_quiz(topic, feedback_mode="after_submit")
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    expect(page.locator("[data-check]")).to_have_count(0)
    single = item_of(attempt, "single_choice")
    answer_in_page(page, single, right_answer(single))
    tf = item_of(attempt, "true_false")
    page.locator(f"#q{tf.position} [data-flag-url]").check()
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    page.click("[data-submit]")
    dialog = page.locator("[data-submit-confirm]")
    expect(dialog.locator("[data-confirm-summary]")).to_have_text(
        "2 questions are not answered and 1 is flagged for review:"
    )
    expect(dialog.locator("[data-confirm-list] li")).to_have_count(2)
    expect(dialog.locator("[data-confirm-list]")).to_contain_text("not answered, flagged")
    dialog.locator("[data-confirm-cancel]").click()  # keep working: nothing is submitted
    expect(dialog).to_be_hidden()
    attempt.refresh_from_db()
    assert attempt.is_in_progress
    submit_confirmed(page)
    expect(page.locator(".verdict")).to_have_count(3)
    expect(page.locator(f"#q{single.position} .verdict")).to_contain_text("Correct")


def test_after_close_feedback_appears_only_once_the_quiz_closes(
    page: Page, live_server: Any, topic: Any, learner: Any
) -> None:
    quiz = make_quiz(
        topic, feedback_mode="after_close", closes_at=timezone.now() + timedelta(days=1)
    )
    log_in(page.context, live_server, learner)
    attempt = start(page, live_server, quiz)
    single = item_of(attempt, "single_choice")
    answer_in_page(page, single, right_answer(single))
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    submit_confirmed(page)
    expect(page.locator("main")).to_contain_text("shown after the quiz closes")
    expect(page.locator(".verdict")).to_have_count(0)
    assert "GET" not in page.content()  # not even the key of a choice
    quiz.closes_at = timezone.now() - timedelta(seconds=1)
    quiz.save(update_fields=["closes_at"])
    page.reload()
    expect(page.locator(".verdict")).to_have_count(3)
    attempt.refresh_from_db()
    assert attempt.passed is not None
