"""axe-core finds no serious or critical violations on the pages learners use most, the
pages satisfy their Content-Security-Policy, and an attempt works by keyboard alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from quizzes.assessments.services import attempt_start, attempt_submit
from quizzes.models import Attempt, QuizPool
from tests.browser.helpers import log_in
from tests.factories import QuizFactory
from tests.samples import OBJECTIVE, PYTHON, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture
def quiz(topic: Any) -> Any:
    load_sample_items(topic.stage, topic.slug, [*OBJECTIVE, PYTHON])
    quiz = QuizFactory(stage=topic.stage, title="Accessible quiz", time_limit_seconds=600)
    QuizPool.objects.create(quiz=quiz, count=8, stage=topic.stage)
    return quiz


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def axe_page(browser: Browser) -> Any:
    # Injecting axe needs the CSP bypassed; the CSP itself is checked in another test.
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def test_attempt_and_review_pages_have_no_serious_violations(
    axe_page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    log_in(axe_page.context, live_server, learner)
    attempt = attempt_start(learner=learner, quiz=quiz)
    pages = {
        "home": "/",
        "stage": f"/stages/{quiz.stage.slug}/",
        "quiz": f"/quizzes/{quiz.slug}/",
        "attempt": f"/attempts/{attempt.pk}/",
        "dashboard": "/dashboard/",
    }
    problems = {}
    for name, path in pages.items():
        axe_page.goto(live_server.url + path)
        problems[name] = serious_violations(axe_page)
    # The review: an attempt whose feedback is due (no code to wait for).
    attempt.items.filter(item_version__item__type="code").delete()
    attempt_submit(attempt=attempt)
    axe_page.goto(f"{live_server.url}/attempts/{attempt.pk}/result")
    expect(axe_page.locator(".summary")).to_contain_text("Score")
    problems["review"] = serious_violations(axe_page)
    assert {k: v for k, v in problems.items() if v} == {}


def test_pages_satisfy_their_content_security_policy(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    log_in(page.context, live_server, learner)
    attempt = attempt_start(learner=learner, quiz=quiz)
    for path in ["/", f"/quizzes/{quiz.slug}/", f"/attempts/{attempt.pk}/", "/api/docs/"]:
        response = page.goto(live_server.url + path)
        assert response is not None and "content-security-policy" in response.headers
    expect(page.locator(".swagger-ui").first).to_be_visible(timeout=15000)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/")
    expect(page.locator(".cm-editor")).to_be_visible()  # the editor's styles carry the nonce
    assert violations == []


def test_an_attempt_can_be_answered_by_keyboard_alone(
    page: Page, live_server: Any, quiz: Any, learner: Any
) -> None:
    log_in(page.context, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.focus("[data-start]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(learner=learner)
    tf = attempt.items.get(item_version__item__type="true_false")
    # Tab until the "True" radio of the true/false question has focus, then choose it.
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == f"q{tf.position}-t":
            break
    else:
        pytest.fail("the true/false question cannot be reached with Tab")
    page.keyboard.press("Space")
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    tf.refresh_from_db()
    assert tf.answer == {"value": True}
    # Focus is visible: the focused control has an outline.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
