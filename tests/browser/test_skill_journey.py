"""The skill journey in Chromium: a new learner takes the adaptive placement, sees a
recommended start, passes that stage's quiz, and watches the stage's estimate and band
move on the dashboard (estimates are computed by a real worker after grading)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from quizzes.bank.quizzes import default_quizzes_sync
from quizzes.models import Attempt, AttemptStatus
from tests.browser.helpers import answer_in_page, log_in
from tests.samples import load_true_false_bank

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def current_attempt(page: Page) -> Attempt:
    return Attempt.objects.get(pk=int(re.search(r"/attempts/(\d+)/", page.url).group(1)))  # type: ignore[union-attr]


def band(page: Page, stage: int) -> tuple[str, str, str]:
    row = page.locator(f"[data-skill-chart] g[data-stage='{stage}']")
    return (
        row.get_attribute("data-score") or "",
        row.get_attribute("data-low") or "",
        row.get_attribute("data-high") or "",
    )


def test_placement_then_a_stage_quiz_moves_the_dashboard(
    page: Page, live_server: Any, learner: Any, roadmap: Any, start_worker: Any, settings: Any
) -> None:
    settings.PLACEMENT_MAX_ITEMS = 12
    load_true_false_bank(roadmap, per_stage=10)
    default_quizzes_sync()
    start_worker()
    log_in(page.context, live_server, learner)

    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("[data-next-step]")).to_contain_text("Take the placement quiz")
    page.locator("[data-next-step] a.btn").click()
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    # One question at a time, each answered wrong: the placement should start us at stage 1.
    for expected in range(1, 13):
        expect(page.locator(".progress-text")).to_have_text(f"Question {expected} of at most 12")
        expect(page.locator("section.question")).to_have_count(1)
        attempt = current_attempt(page)
        item = attempt.items.select_related("item_version__item").get(position=expected)
        answer_in_page(page, item, {"value": not item.item_version.data["answer"]})
        page.click("[data-next]")
        page.wait_for_url(re.compile(r"/attempts/\d+/(result)?$"))
        if page.url.endswith("/result"):
            break
    expect(page.locator("[data-recommended-start]")).to_contain_text("stage 1,")
    assert current_attempt(page).status == AttemptStatus.GRADED

    # The worker turns the placement into estimates; the dashboard shows them.
    page.goto(f"{live_server.url}/dashboard/")
    row = page.locator("[data-skill-chart] g[data-stage='1']")
    for _ in range(60):
        if row.get_attribute("data-score"):
            break
        page.wait_for_timeout(500)
        page.reload()
    before = band(page, 1)
    assert before[0], "the placement gave stage 1 no estimate"
    expect(page.locator("[data-next-step]")).to_contain_text("Stage 1")

    # Take stage 1's quiz from the next step, and get everything right.
    page.locator("[data-next-step] a.btn").click()
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = current_attempt(page)
    for item in attempt.items.select_related("item_version__item").order_by("position"):
        answer_in_page(page, item, {"value": item.item_version.data["answer"]})
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    page.click("[data-submit]")
    page.locator("[data-confirm-submit]").click()
    page.wait_for_url(re.compile(r"/result$"))
    expect(page.locator(".summary")).to_contain_text("passed")

    page.goto(f"{live_server.url}/dashboard/")
    after = before
    for _ in range(60):
        after = band(page, 1)
        if after != before:
            break
        page.wait_for_timeout(500)
        page.reload()
    assert int(after[0]) > int(before[0]), (before, after)
    # More evidence: the band is narrower.
    assert int(after[2]) - int(after[1]) < int(before[2]) - int(before[1]), (before, after)
    expect(page.locator("[data-stage-row='1']")).to_contain_text("answers")
