"""An instructor previews bank challenges as a learner in Chromium and runs solutions on a
real worker: a wrong Python solution shows a hidden test failed (without its input or
expected value), a right one in JavaScript, switched to with the learner's language switch,
gets full marks, and so does a right SQL query. Nothing counts: no submission, no attempt,
the item's statistics unchanged, the challenge not verified."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from quizzes.analytics.itemstats import item_statistics
from quizzes.bank.authoring import item_save
from quizzes.bank.verification import verification_passed
from quizzes.models import Attempt, AttemptItem, ChallengeVerification, Submission
from tests.browser.helpers import log_in
from tests.samples import COMMON, PYTHON, SQL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.sandbox,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

WRONG = "def add(a, b):\n    return a + b if a >= 0 else 0\n"  # fails the hidden "negative"
RIGHT_JS = "function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n"
RIGHT_SQL = SQL["challenge"]["reference_solution"]  # type: ignore[index]
FULL = re.compile(r"Correct\s+—\s+10 of 10 points")


def write(page: Page, code: str) -> None:
    editor = page.locator("#q1 .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def run(page: Page) -> None:
    page.get_by_role("button", name="Run as a learner").click()
    page.wait_for_url(re.compile(r"/try\?trial=\d+$"))


def test_an_instructor_runs_solutions_as_a_learner_and_nothing_counts(
    page: Page,
    live_server: Any,
    topic: Any,
    instructor: Any,
    start_worker: Any,
    axe_violations: Any,
) -> None:
    code = item_save(
        entry={**COMMON, "topic": topic.slug, **PYTHON}, stage=topic.stage, author=instructor
    )
    sql = item_save(
        entry={**COMMON, "topic": topic.slug, **SQL}, stage=topic.stage, author=instructor
    )
    before = [item_statistics(item=item)[0] for item in (code, sql)]
    worker = start_worker()
    log_in(page.context, live_server, instructor)
    page.goto(f"{live_server.url}/author/items/{code.slug}/")
    page.get_by_role("link", name="Preview as a learner").click()

    # A wrong solution in Python: graded as a learner's, a hidden test failed.
    expect(page.locator("#q1 .cm-content")).to_contain_text("def add(")
    write(page, WRONG)
    run(page)
    trial = page.locator("#trial")
    expect(trial).to_contain_text("Partly correct", timeout=180000)
    expect(trial).to_contain_text("2 of 3 tests passed.")
    hidden = trial.locator("tr", has_text="negative")
    expect(hidden).to_contain_text("hidden")
    expect(hidden).to_contain_text("✘ failed")
    expect(hidden.locator("code")).to_have_count(0)
    assert "-5" not in trial.inner_text() and "-3" not in trial.inner_text()
    expect(trial.locator("tr", has_text="small")).to_contain_text("Expected 3")
    expect(page.locator("#q1 .cm-content")).to_contain_text("a >= 0 else 0")  # still there
    assert axe_violations(page) == []

    # A right one in JavaScript, through the learner's language switch: full marks.
    page.select_option("#q1-language", "javascript")
    expect(page.locator("#q1 .cm-content")).to_contain_text("module.exports = { add };")
    write(page, RIGHT_JS)
    run(page)
    expect(page.locator("#trial")).to_contain_text(FULL, timeout=180000)
    expect(page.locator("#q1-language")).to_have_value("javascript")
    assert (
        ChallengeVerification.objects.order_by("-pk").values_list("language", flat=True)[0]
        == "javascript"
    ), worker.log_text()[-2000:]

    # A right query to the SQL challenge.
    page.goto(f"{live_server.url}/author/items/{sql.slug}/try")
    write(page, RIGHT_SQL)
    run(page)
    expect(page.locator("#trial")).to_contain_text(FULL, timeout=180000)

    assert not Submission.objects.exists()
    assert not Attempt.objects.exists()
    assert not AttemptItem.objects.exists()
    assert [item_statistics(item=item)[0] for item in (code, sql)] == before
    assert not verification_passed(code) and not verification_passed(sql)
