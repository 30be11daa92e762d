"""In Chromium: a learner who hits a rate limit reads why, where they acted, not an error page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from quizzes.models import Attempt, QuizKind, QuizPool
from tests.browser.helpers import log_in
from tests.factories import QuizFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_cache"),
]


@pytest.fixture
def python_item(topic: Any) -> Any:
    [item] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    return item


def challenge(item: Any, title: str) -> Any:
    quiz = QuizFactory(stage=item.stage, kind=QuizKind.CHALLENGE, title=title)
    QuizPool.objects.create(quiz=quiz, count=1, item=item)
    return quiz


def set_rate(settings: Any, scope: str, rate: str) -> None:
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], scope: rate}
    settings.REST_FRAMEWORK = framework


def test_run_examples_beyond_the_rate_shows_the_servers_message(
    page: Page, live_server: Any, python_item: Any, learner: Any, settings: Any
) -> None:
    set_rate(settings, "run_examples", "1/min")
    quiz = challenge(python_item, "Add them")
    log_in(page.context, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(learner=learner, quiz=quiz)
    # This minute's run was used already (another tab, say).
    other_tab = Client()
    other_tab.force_login(learner)
    ran = other_tab.post(
        f"/api/attempts/{attempt.pk}/items/1/run",
        {"code": "def add(a, b): return a + b"},
        content_type="application/json",
    )
    assert ran.status_code == 202
    button = page.locator("#q1 [data-run-url]")
    button.click()
    expect(page.locator("#q1 .run-results")).to_have_text(
        re.compile(r"^Too many code runs: try again in \d+ s\.$")
    )
    expect(button).to_be_disabled()  # until the server said to come back


def test_starting_a_challenge_beyond_the_rate_shows_the_message_on_the_quiz_page(
    page: Page, live_server: Any, python_item: Any, learner: Any, settings: Any
) -> None:
    set_rate(settings, "challenge_starts", "1/hour")
    first, second = challenge(python_item, "First one"), challenge(python_item, "Second one")
    log_in(page.context, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{first.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    page.goto(f"{live_server.url}/quizzes/{second.slug}/")
    page.click("[data-start]")
    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"Too many challenge starts: try again in \d+ s\.")
    )
    expect(page.locator("h1")).to_contain_text("Second one")
    assert not Attempt.objects.filter(quiz=second).exists()
