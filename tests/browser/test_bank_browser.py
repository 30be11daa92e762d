"""In Chromium: a learner reports a problem with a question after its feedback; the
instructor finds it in the bank browser, reads the report and the version history, retires
the item with a bulk action, and builds a quiz with an extra pool and a hand-picked item."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import BankEvent, Item, ItemReport, ItemStatus, Quiz, QuizPool
from tests.browser.helpers import log_in
from tests.factories import QuizFactory
from tests.samples import NUMERIC, SINGLE, TRUE_FALSE, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_browse_retire_and_build(
    page: Page,
    browser: Browser,
    live_server: Any,
    topic: Any,
    learner: Any,
    instructor: Any,
    axe_violations: Any,
) -> None:
    tf, _single, numeric = load_sample_items(topic.stage, topic.slug, [TRUE_FALSE, SINGLE, NUMERIC])
    quiz = QuizFactory(stage=topic.stage, title="Indexes drill")
    QuizPool.objects.create(quiz=quiz, count=1, item=tf)
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt_answer_save(attempt=attempt, position=1, answer={"value": True}, revision=1)
    attempt_submit(attempt=attempt)

    # The learner reports from the review.
    learner_context = browser.new_context()
    learner_page = learner_context.new_page()
    log_in(learner_context, live_server, learner)
    learner_page.goto(f"{live_server.url}/attempts/{attempt.pk}/result")
    learner_page.get_by_text("Report a problem with this question").click()
    learner_page.get_by_label("What is wrong").fill("A covering index does always help here.")
    learner_page.get_by_role("button", name="Send report").click()
    expect(learner_page.get_by_role("status")).to_contain_text("your report was sent")
    learner_context.close()
    assert ItemReport.objects.get().message.startswith("A covering index")

    # The instructor filters the bank to reported items and reads the report.
    log_in(page.context, live_server, instructor)
    page.goto(f"{live_server.url}/author/items/")
    page.get_by_label("With open reports").check()
    page.get_by_role("button", name="Show").click()
    rows = page.locator("tr[data-item]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1 open")
    assert axe_violations(page) == []
    rows.first.get_by_role("link", name="1 open").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("history and use")
    expect(page.locator("#reports")).to_contain_text("A covering index does always help here.")
    expect(page.get_by_text("Indexes drill (published) — hand-picked")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Note").fill("Statement reworded.")
    page.get_by_role("button", name="Resolved").click()
    expect(page.get_by_role("status")).to_contain_text("resolved")

    # Bulk: retire two items at once.
    page.goto(f"{live_server.url}/author/items/")
    page.get_by_label(f"Select {tf.slug}").check()
    page.get_by_label(f"Select {numeric.slug}").check()
    page.get_by_label("Action").select_option("retire")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Retired: ")
    expect(page.get_by_role("status")).to_contain_text(tf.slug)
    expect(page.get_by_role("status")).to_contain_text(numeric.slug)
    assert set(
        Item.objects.filter(pk__in=[tf.pk, numeric.pk]).values_list("status", flat=True)
    ) == {ItemStatus.RETIRED}
    assert BankEvent.objects.filter(action="retire").count() == 2

    # The quiz builder: add a pool with htmx, hand-pick an item, save, preview.
    page.goto(f"{live_server.url}/author/quizzes/new")
    page.get_by_label("Slug").fill("built-in-browser")
    page.get_by_label("Title").fill("Built in the browser")
    page.get_by_label("Time limit (minutes)").fill("20")
    page.locator("#id_pools-0-stage").select_option(str(topic.stage.pk))
    page.get_by_role("button", name="Add pool").click()
    expect(page.locator("#id_pools-1-item")).to_be_visible()
    page.locator("#id_pools-1-item").fill(_single.slug)
    page.get_by_role("button", name="Save quiz").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    built = Quiz.objects.get(slug="built-in-browser")
    assert built.time_limit_seconds == 1200
    assert [p.item_id for p in built.pools.order_by("position")] == [None, _single.pk]
    page.goto(f"{live_server.url}/author/quizzes/{built.slug}/edit")
    page.get_by_role("link", name="Preview this quiz as a learner").click()
    expect(page.get_by_role("note")).to_contain_text("Nothing is saved and nothing counts")
    expect(page.get_by_text(SINGLE["title"])).to_be_visible()
    assert axe_violations(page) == []
