"""The challenge page's language switch in Chromium: it opens in the learner's language,
shows the toolchain's version, keeps a draft per language, switches the editor's mode and
starter, and saves the answer with the language it is written in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Page, expect

from quizzes.grading.languages import LANGUAGES, register, unregister
from quizzes.grading.languages.base import Language, SandboxProgram
from quizzes.grading.spec import CodeChallengeSpec
from quizzes.models import Attempt, QuizKind, QuizPool
from quizzes.preferences import learner_language_set
from tests.browser.helpers import log_in
from tests.factories import QuizFactory
from tests.samples import PYTHON, load_sample_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GO_STARTER = "package main\n\nfunc Add(a int, b int) int {\n\treturn 0\n}\n"


class GoStandIn(Language):
    """Registered for this test only (the live server runs in this process)."""

    key: ClassVar[str] = "go"
    label: ClassVar[str] = "Go"
    extensions: ClassVar[tuple[str, ...]] = (".go",)
    editor_mode: ClassVar[str] = "go"

    def version(self) -> str:
        return "Go 1.19 (stand-in)"

    def generate_starter(self, spec: CodeChallengeSpec) -> str:
        return GO_STARTER

    def program(
        self, spec: CodeChallengeSpec, source: str, config: dict[str, Any], *, slot: int
    ) -> SandboxProgram:
        raise AssertionError("not graded in this test")


@pytest.fixture
def go() -> Iterator[GoStandIn]:
    real = LANGUAGES.get("go")
    language = GoStandIn()
    register(language)
    yield language
    unregister(language.key)
    if real is not None:  # the real runtime comes back for the tests after this one
        register(real)


@pytest.fixture
def quiz(topic: Any) -> Any:
    [challenge] = load_sample_items(topic.stage, topic.slug, [PYTHON])
    quiz = QuizFactory(stage=topic.stage, kind=QuizKind.CHALLENGE, title="Add")
    QuizPool.objects.create(quiz=quiz, count=1, item=challenge)
    return quiz


def saved_answer(attempt: Attempt) -> dict[str, Any]:
    return dict(attempt.items.get().answer or {})


def test_switch_languages_on_a_challenge(
    page: Page, live_server: Any, quiz: Any, learner: Any, go: GoStandIn
) -> None:
    learner_language_set(user=learner, language="python")
    log_in(page.context, live_server, learner)
    page.goto(f"{live_server.url}/quizzes/{quiz.slug}/")
    page.click("[data-start]")
    page.wait_for_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    switch = page.locator("#q1-language")
    expect(switch).to_have_value("python")
    expect(page.locator("#q1 [data-language-version]")).to_contain_text("Python 3")
    editor = page.locator("#q1 .cm-content")
    expect(editor).to_contain_text("def add(a, b):")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("def add(a, b):\n    return a + b  # mine")
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    assert saved_answer(attempt)["language"] == "python"

    switch.select_option("go")
    expect(editor).to_contain_text("package main")
    expect(editor).to_contain_text("func Add(a int, b int) int {")
    expect(page.locator("#q1 [data-code-label-text]")).to_have_text("Go code")
    expect(page.locator("#q1 [data-language-version]")).to_have_text("Go 1.19 (stand-in)")
    assert page.locator("#q1-code").get_attribute("data-language") == "go"
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    assert saved_answer(attempt) == {"code": GO_STARTER, "language": "go"}

    # Back to Python: the draft typed there is still there, and saved as Python again.
    switch.select_option("python")
    expect(editor).to_contain_text("return a + b  # mine")
    expect(page.locator("[data-global-state]")).to_have_text("All answers saved.", timeout=15000)
    answer = saved_answer(attempt)
    assert answer["language"] == "python" and answer["code"].endswith("# mine")

    # A reload opens the challenge in the language of the saved answer.
    page.reload()
    expect(page.locator("#q1-language")).to_have_value("python")
    expect(page.locator("#q1 .cm-content")).to_contain_text("# mine")
