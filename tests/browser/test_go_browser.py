"""A Go learner solves a challenge end to end in Chromium: the page opens in Go with the
generated starter and the toolchain's version, and a real worker builds and grades the
answer in the sandbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from quizzes.grading.languages import language
from quizzes.models import Attempt, AttemptStatus, QuizKind, QuizPool, Submission
from quizzes.preferences import learner_language_set
from tests.browser.helpers import log_in
from tests.factories import QuizFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GO_SOLUTION = "package main\n\nfunc Add(a int, b int) int {\nreturn a + b\n}\n"


@pytest.fixture
def quiz(topic: Any) -> Any:
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage, kind=QuizKind.CHALLENGE, title="Add")
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    return quiz


def test_a_go_learner_solves_a_challenge_graded_by_a_real_worker(
    page: Page, live_server: Any, quiz: Any, learner: Any, start_worker: Any
) -> None:
    worker = start_worker()
    learner_language_set(user=learner, language="go")
    log_in(page.context, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    expect(page.locator("#q1-language")).to_have_value("go")
    expect(page.locator("#q1 [data-language-version]")).to_have_text(language("go").version())
    editor = page.locator("#q1 .cm-content")
    expect(editor).to_contain_text("func Add(a int, b int) int {")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(GO_SOLUTION)
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    page.click("[data-submit]")
    page.locator("[data-submit-confirm] [data-confirm-submit]").click()
    page.wait_for_url(re.compile(r"/result$"))
    expect(page.locator(".summary")).to_contain_text("passed", timeout=90000)
    expect(page.locator("table.outcomes")).to_contain_text("hidden")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.passed, worker.log_text()[-2000:]
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    assert submission.language == "go" and submission.score == 1.0
