"""The skill journey in Chromium: a new learner takes the adaptive placement, sees a
recommended start, passes that stage's quiz, and watches the stage's estimate and band
move on the dashboard (estimates are computed by a real worker after grading)."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from quizzes.analytics.skill import skill_update_learner
from quizzes.assessments.services import (
    attempt_answer_save,
    attempt_placement_next,
    attempt_start,
    attempt_submit,
)
from quizzes.bank.loader import bank_load
from quizzes.bank.quizzes import PLACEMENT_SLUG, default_quizzes_sync
from quizzes.itemtypes import handler_for
from quizzes.models import Attempt, AttemptStatus, Quiz
from quizzes.skill import prior_params, probability
from tests.browser.helpers import answer_in_page, log_in, right_answer
from tests.conftest import BASE_DIR
from tests.factories import UserFactory
from tests.samples import load_true_false_bank

pytestmark = [pytest.mark.browser]


def current_attempt(page: Page) -> Attempt:
    return Attempt.objects.get(pk=int(re.search(r"/attempts/(\d+)/", page.url).group(1)))  # type: ignore[union-attr]


def band(page: Page, stage: int) -> tuple[str, str, str]:
    row = page.locator(f"[data-skill-chart] g[data-stage='{stage}']")
    return (
        row.get_attribute("data-score") or "",
        row.get_attribute("data-low") or "",
        row.get_attribute("data-high") or "",
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
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
    # The placement asks for the learner's language first, then comes back.
    page.wait_for_url(re.compile(r"/me/language\?next="))
    page.get_by_label("My language").select_option("python")
    page.get_by_role("button", name="Save language").click()
    expect(page.locator("[data-start]")).to_be_visible()
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


SHOTS_DIR = os.environ.get("SKILLMAP_SCREENSHOTS", "")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not SHOTS_DIR, reason="SKILLMAP_SCREENSHOTS=<folder> refreshes the README's")
def test_readme_dashboard_screenshot(
    browser: Browser, live_server: Any, roadmap: Any, settings: Any
) -> None:
    """The dashboard of a learner who took the placement on the real bank, strong in the
    early stages, and then a stage quiz (docs/screenshots/dashboard-desktop.png)."""
    _, failures = bank_load(paths=sorted((BASE_DIR / "fixtures/questions").glob("stage-*.yaml")))
    assert failures == []
    default_quizzes_sync()
    learner = UserFactory(role="learner", email="sam.rivera@example.org")
    attempt = attempt_start(learner=learner, quiz=Quiz.objects.get(slug=PLACEMENT_SLUG))
    # A simulated learner: strong in the early stages, weaker further on, answering each
    # question right with the model's probability at that stage's ability.
    ability = {n: 1.6 - 0.33 * (n - 1) for n in range(1, 12)}
    rng = random.Random(7)
    while attempt.status == AttemptStatus.IN_PROGRESS:
        item = attempt.items.select_related("item_version__item__stage").order_by("-position")[0]
        chance = probability(
            ability[item.item_version.item.stage.number], prior_params(item.item_version.difficulty)
        )
        if rng.random() < chance:
            attempt_answer_save(
                attempt=attempt, position=item.position, answer=right_answer(item), revision=1
            )
        attempt = attempt_placement_next(attempt=attempt, position=item.position)
        attempt.refresh_from_db()
    for slug in ("stage-2", "stage-10"):
        taken = attempt_start(learner=learner, quiz=Quiz.objects.get(slug=slug))
        for item in taken.items.select_related("item_version__item__stage"):
            version = item.item_version
            if not handler_for(version.item.type).scored_at_submit:
                continue
            chance = probability(
                ability[version.item.stage.number], prior_params(version.difficulty)
            )
            if rng.random() < chance:
                attempt_answer_save(
                    attempt=taken, position=item.position, answer=right_answer(item), revision=1
                )
        attempt_submit(attempt=taken)
    skill_update_learner(learner.pk)
    context = browser.new_context(viewport={"width": 1280, "height": 1120})
    log_in(context, live_server, learner)
    page = context.new_page()
    page.goto(f"{live_server.url}/dashboard/")
    folder = Path(SHOTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    page.locator("#skills-title").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=folder / "dashboard-desktop.png", full_page=False)
    context.close()
