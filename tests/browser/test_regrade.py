"""An instructor regrades in Chromium: the item page leads to a dry run that changes
nothing, and only confirming it applies the regrade; the learner's review then agrees."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from quizzes.assessments.services import attempt_answer_save, attempt_start, attempt_submit
from quizzes.models import AttemptEvent, EventKind, QuizPool
from tests.browser.helpers import log_in
from tests.factories import QuizFactory
from tests.samples import NUMERIC, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dry_run_then_confirm(
    page: Page,
    browser: Browser,
    live_server: Any,
    topic: Any,
    learner: Any,
    instructor: Any,
    axe_violations: Any,
) -> None:
    [numeric] = load_sample_items(topic.stage, topic.slug, [NUMERIC])  # key: 200 requests
    quiz = QuizFactory(stage=topic.stage, title="Limits drill")
    QuizPool.objects.create(quiz=quiz, count=1, item=numeric)
    attempt = attempt_start(learner=learner, quiz=quiz)
    attempt_answer_save(attempt=attempt, position=1, answer={"value": "201"}, revision=1)
    attempt = attempt_submit(attempt=attempt)
    assert attempt.score == 0
    load_sample_items(topic.stage, topic.slug, [{**NUMERIC, "answer": 201}])  # the key was wrong

    log_in(page.context, live_server, instructor)
    page.goto(f"{live_server.url}/author/items/{numeric.slug}/")
    page.get_by_role("link", name="Regrade past answers with v2…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Regrade {numeric.slug} with v2")
    expect(page.get_by_text("A dry run: nothing has changed yet.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=learner.email)
    expect(row).to_contain_text("Limits drill")
    expect(row).to_contain_text("0 → 1 of 1")
    expect(row).to_contain_text("not passed → passed")
    assert axe_violations(page) == []
    attempt.refresh_from_db()
    assert attempt.score == 0  # the dry run applied nothing
    assert not AttemptEvent.objects.filter(kind=EventKind.REGRADED).exists()

    page.get_by_role("button", name="Apply the regrade with v2").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Regraded with version 2: 1 answers re-scored in 1 attempts"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(NUMERIC["title"])
    attempt.refresh_from_db()
    assert attempt.score == 1 and attempt.passed is True

    # The learner's review shows the key that scored the answer, agreeing with the verdict.
    context = browser.new_context()
    learner_page = context.new_page()
    log_in(context, live_server, learner)
    learner_page.goto(f"{live_server.url}/attempts/{attempt.pk}/result")
    review = learner_page.locator(".review")
    expect(review).to_contain_text("✔ Correct")
    expect(review).to_contain_text("Correct answer: 201 requests (± 0.5)")
    expect(review).not_to_contain_text("200 requests")
    context.close()
