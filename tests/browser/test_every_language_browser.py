"""One challenge solved end to end in Chromium in each of the five languages: the page opens
in the learner's language with that language's generated starter, the learner replaces it
with an answer written in the language, and a real worker grades it in the sandbox."""

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

# The answer in each language, and a line of its generated starter.
ANSWERS = {
    "python": ("def add(a, b):", "def add(a, b):\n    return a + b\n"),
    "javascript": (
        "module.exports = { add };",
        "function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n",
    ),
    "typescript": (
        "export function add(a: number, b: number): number {",
        "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
    ),
    "go": (
        "func Add(a int, b int) int {",
        "package main\n\nfunc Add(a int, b int) int {\n\treturn a + b\n}\n",
    ),
    "java": (
        "static long add(long a, long b) {",
        "class Solution {\n    static long add(long a, long b) {\n"
        "        return a + b;\n    }\n}\n",
    ),
}


@pytest.fixture
def quiz(topic: Any) -> Any:
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage, kind=QuizKind.CHALLENGE, title="Add")
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    return quiz


@pytest.mark.parametrize("key", list(ANSWERS))
def test_a_learner_solves_a_challenge_in_their_language(
    page: Page, live_server: Any, quiz: Any, learner: Any, start_worker: Any, key: str
) -> None:
    starter_line, answer = ANSWERS[key]
    worker = start_worker()
    learner_language_set(user=learner, language=key)
    log_in(page.context, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    expect(page.locator("#q1-language")).to_have_value(key)
    expect(page.locator("#q1 [data-language-version]")).to_have_text(language(key).version())
    editor = page.locator("#q1 .cm-content")
    expect(editor).to_contain_text(starter_line)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(answer)
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    page.click("[data-submit]")
    page.locator("[data-submit-confirm] [data-confirm-submit]").click()
    page.wait_for_url(re.compile(r"/result$"))
    expect(page.locator(".summary")).to_contain_text("passed", timeout=120000)
    expect(page.locator("table.outcomes")).to_contain_text("hidden")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.passed, worker.log_text()[-2000:]
    submission = Submission.objects.get(attempt_item__attempt=attempt)
    assert submission.language == key and submission.score == 1.0
