"""Cohort analytics in Chromium: an instructor reads the score distributions, opens the
heatmap, sorts it by a stage, filters it and pages through it; axe-core finds no serious
violations on either page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from quizzes.analytics.selectors import HEATMAP_PAGE_SIZE
from quizzes.models import Attempt, AttemptStatus, SkillEstimate, Stage
from tests.browser.helpers import log_in
from tests.browser.test_accessibility import serious_violations
from tests.factories import QuizFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cohort(roadmap: Any) -> None:
    """Learners l000..l054; every third has a stage 2 estimate rising with the number."""
    stage = Stage.objects.get(number=2)
    quiz = QuizFactory(stage=stage, title="Stage 2 check")
    now = timezone.now()
    for k in range(HEATMAP_PAGE_SIZE + 5):
        person = UserFactory(role="learner", email=f"l{k:03d}@example.com")
        if k % 3 == 0:
            SkillEstimate.objects.create(
                learner=person, stage=stage, theta=-2 + k / 15, se=0.3, n_answers=5, updated_at=now
            )
            Attempt.objects.create(
                quiz=quiz,
                learner=person,
                seed=k,
                status=AttemptStatus.GRADED,
                score=Decimal(k % 10),
                max_score=Decimal(10),
                graded_at=now,
            )


@pytest.fixture
def axe_page(browser: Browser) -> Any:
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def test_an_instructor_sorts_filters_and_pages_the_heatmap(
    page: Page, live_server: Any, instructor: Any, cohort: None
) -> None:
    log_in(page.context, live_server, instructor)
    page.goto(f"{live_server.url}/author/analytics/")
    expect(page.locator("svg[data-histogram]")).to_have_count(1)
    expect(page.locator("svg[data-histogram] desc")).to_contain_text("19 graded attempts")
    page.get_by_role("link", name="Skill heatmap").click()

    table = page.locator("table[data-heatmap]")
    expect(table.locator("tbody tr")).to_have_count(HEATMAP_PAGE_SIZE)
    expect(table.locator("tbody tr").first).to_have_attribute("data-learner", "l000@example.com")
    # Sort by stage 2, highest first; the not assessed come last.
    table.get_by_role("link", name="Stage 2:").click()
    expect(table.locator("th[aria-sort='descending']")).to_contain_text("2")
    first = table.locator("tbody tr").first
    expect(first).to_have_attribute("data-learner", "l054@example.com")
    expect(first.locator("td[data-stage='2']")).to_have_text("230 Advanced, 5 answers")
    page.get_by_role("link", name="Next").click()
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(table.locator("tbody td[data-stage='2']").first).to_contain_text("—")
    # Filter, keeping the sort.
    page.get_by_label("Email contains").fill("l01")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(table.locator("tbody tr").first).to_have_attribute("data-learner", "l018@example.com")


def test_cohort_pages_have_no_serious_violations(
    axe_page: Page, live_server: Any, instructor: Any, cohort: None
) -> None:
    log_in(axe_page.context, live_server, instructor)
    problems = {}
    for path in ("/author/analytics/", "/author/analytics/heatmap?sort=stage-2&order=desc"):
        axe_page.goto(live_server.url + path)
        problems[path] = serious_violations(axe_page)
    assert problems == {path: [] for path in problems}
